#!/usr/bin/env bash
# tools/up as a new user runs it (issue 14), on the binaries already built
# (TROUPE_UP_SKIP_BUILD=1): it must exit 0 and show what the README promises - `troupe run`
# exiting with its task's status 3, the example framework's 10 tasks finished,
# /api/v1/master, both agents and the tasks - in words without internal error names.
#   tools_up_test.sh <source dir> <build dir>
set -u
root=$1
build=$2
out=$(TROUPE_UP_SKIP_BUILD=1 TROUPE_BUILD_DIR=$build timeout 180 "$root/tools/up" 2>&1)
rc=$?
fail() {
  echo "FAIL: $*"
  echo "---- tools/up printed ----"
  echo "$out"
  exit 1
}
[[ $rc == 0 ]] || fail "tools/up exited with $rc"
grep -q "troupe run exited with 3: the task's own exit status" <<<"$out" || fail "troupe run's status"
grep -q "hello from a troupe task" <<<"$out" || fail "the task's stdout"
grep -q "example: 10 finished, 0 gave up" <<<"$out" || fail "the example framework"
grep -q '"actorPort"' <<<"$out" || fail "curl /api/v1/master"
[[ $(grep -c " registered " <<<"$out") -ge 2 ]] || fail "troupe agents: two registered agents"
grep -q "TASK_FINISHED" <<<"$out" || fail "troupe tasks"
grep -q "troupe local stopped cleanly" <<<"$out" || fail "a clean stop"
grep -q "What next" <<<"$out" || fail "the closing hints"
if grep -Eq "troupe::|system_error|sec::" <<<"$out"; then fail "internal error names"; fi
echo "tools/up: ok ($(grep 'done in' <<<"$out"))"
