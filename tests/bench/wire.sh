#!/usr/bin/env bash
# Wire benchmark: troupe messages between two real processes over CAF's middleman, against an
# in-process baseline measured in the same run. Prints medians of N runs and the ratios.
#   tests/bench/wire.sh [runs=5] [count=50000]
# A benchmark, not a test: it never asserts timings.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
demo=${TROUPE_BUILD_DIR:-$root/build}/tools/troupe-demo
runs=${1:-5}
count=${2:-50000}
work=$(mktemp -d)
server=""
cleanup() {
  [[ -n $server ]] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$demo" --log-level warn serve --port-file "$work/port" &
server=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(cat "$work/port")
for i in $(seq "$runs"); do
  "$demo" --log-level warn probe --in-process --count "$count" >>"$work/local.txt"
  "$demo" --log-level warn probe --peer "127.0.0.1:$port" --count "$count" >>"$work/remote.txt"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { # file, pattern, awk field
  grep "$2" "$1" | awk "{print \$$3}" | median
}
lp50=$(field "$work/local.txt" "ping rtt" 7); rp50=$(field "$work/remote.txt" "ping rtt" 7)
lp99=$(field "$work/local.txt" "ping rtt" 10); rp99=$(field "$work/remote.txt" "ping rtt" 10)
lthr=$(grep "one-way" "$work/local.txt" | sed 's/.*(\([0-9]*\) msg\/s).*/\1/' | median)
rthr=$(grep "one-way" "$work/remote.txt" | sed 's/.*(\([0-9]*\) msg\/s).*/\1/' | median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > 0 ? a / b : 0) }'; }
echo "wire benchmark: medians of $runs runs, $count one-way StatusUpdates per run"
printf '%-28s %14s %14s %8s\n' "" "in-process" "two processes" "ratio"
printf '%-28s %14s %14s %8.2f\n' "ping RTT p50 (us)" "$lp50" "$rp50" "$(ratio "$rp50" "$lp50")"
printf '%-28s %14s %14s %8.2f\n' "ping RTT p99 (us)" "$lp99" "$rp99" "$(ratio "$rp99" "$lp99")"
printf '%-28s %14s %14s %8.2f\n' "one-way + ack (msg/s)" "$lthr" "$rthr" "$(ratio "$rthr" "$lthr")"
