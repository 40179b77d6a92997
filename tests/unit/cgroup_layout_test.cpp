// cgroup path logic without root: cgroup_layout parsed from fixture mountinfo texts (this
// machine's hybrid v1 layout with cpu and cpuacct separate, a co-mounted cpu,cpuacct v1
// layout, a pure cgroup v2 Debian 12 systemd host, nothing mounted) and the paths a
// cgroup_manager derives from them. Nothing here touches /sys/fs/cgroup.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "troupe/isolation/cgroup_layout.hpp"
#include "troupe/isolation/cgroups.hpp"
#include "troupe/messages/errc.hpp"

using namespace troupe;
using namespace troupe::isolation;

namespace {

using strings = std::vector<std::string>;

// This machine (Debian 12 in a microVM, no systemd): v1 hierarchies, cpu and cpuacct
// separate, a named systemd hierarchy, and a cgroup2 mount at /sys/fs/cgroup/unified.
// Copied from /proc/self/mountinfo.
const char* this_machine = R"(22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334460k,nr_inodes=3083615,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
)";

// A systemd host in hybrid mode (Debian 10, Ubuntu 20.04): cpu,cpuacct and net_cls,net_prio
// co-mounted, optional "shared:N" fields before the separator.
const char* comounted = R"(22 27 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 27 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
27 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
28 22 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
29 28 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
30 28 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
33 28 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
34 28 0:30 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,net_cls,net_prio
35 28 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
36 28 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,pids
37 28 0:33 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,freezer
38 28 0:34 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:19 - cgroup cgroup rw,devices
39 28 0:35 / /sys/fs/cgroup/blkio rw,nosuid,nodev,noexec,relatime shared:20 - cgroup cgroup rw,blkio
40 28 0:36 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:21 - cgroup cgroup rw,perf_event
)";

// A normal Debian 12 host with systemd: pure cgroup v2 at /sys/fs/cgroup.
const char* debian12_v2 = R"(22 29 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 29 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 29 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4010560k,nr_inodes=1002640,mode=755,inode64
25 24 0:23 / /dev/pts rw,nosuid,noexec,relatime shared:3 - devpts devpts rw,gid=5,mode=620,ptmxmode=000
26 29 0:24 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,size=806028k,mode=755,inode64
29 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
27 24 0:25 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw,inode64
28 26 0:26 / /run/lock rw,nosuid,nodev,noexec,relatime shared:6 - tmpfs tmpfs rw,size=5120k,inode64
30 22 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
31 22 0:28 / /sys/fs/pstore rw,nosuid,nodev,noexec,relatime shared:9 - pstore pstore rw
32 22 0:29 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:10 - bpf bpf rw,mode=700
33 22 0:7 / /sys/kernel/debug rw,nosuid,nodev,noexec,relatime shared:11 - debugfs debugfs rw
62 29 0:45 / /boot/efi rw,relatime shared:31 - vfat /dev/sda15 rw,fmask=0022,dmask=0022
)";

// Its /sys/fs/cgroup/cgroup.controllers.
const char* debian12_controllers = "cpuset cpu io memory hugetlb pids rdma misc\n";

const strings v1_needed = cgroup_manager::v1_controllers();
const strings v2_needed = cgroup_manager::v2_controllers();

} // namespace

BOOST_AUTO_TEST_SUITE(cgroup_layout_test)

BOOST_AUTO_TEST_CASE(this_machines_hybrid_layout_is_v1_with_cpu_and_cpuacct_apart) {
  auto layout = cgroup_layout::parse(this_machine, "hugetlb\n");
  BOOST_CHECK(layout.version() == cgroup_version::v1);
  BOOST_CHECK(layout.hybrid());
  BOOST_CHECK_EQUAL(layout.unified_mount(), "/sys/fs/cgroup/unified");
  BOOST_CHECK(layout.unified_controllers() == std::set<std::string>{"hugetlb"});
  BOOST_CHECK_EQUAL(layout.v1_mounts().size(), 8u); // name=systemd carries no controller
  BOOST_CHECK_EQUAL(layout.v1_mounts().at("cpu"), "/sys/fs/cgroup/cpu");
  BOOST_CHECK_EQUAL(layout.v1_mounts().at("cpuacct"), "/sys/fs/cgroup/cpuacct");
  BOOST_CHECK(layout.v1_mounts().count("systemd") == 0);
  BOOST_CHECK(layout.missing(v1_needed).empty());
  BOOST_CHECK(layout.missing({"net_cls", "memory", "hugetlb"}) == (strings{"net_cls", "hugetlb"}));
  BOOST_CHECK_EQUAL(*layout.mount_point("freezer"), "/sys/fs/cgroup/freezer");
  BOOST_CHECK_EQUAL(*layout.directory("memory", "troupe/a1/c1"),
                    "/sys/fs/cgroup/memory/troupe/a1/c1");
  BOOST_CHECK_EQUAL(*layout.directory("pids", "/troupe/a1/c1/"),
                    "/sys/fs/cgroup/pids/troupe/a1/c1");
  BOOST_CHECK_EQUAL(*layout.directory("cpu", ""), "/sys/fs/cgroup/cpu");
  BOOST_CHECK(!layout.directory("net_cls", "troupe"));
  BOOST_CHECK(layout.hierarchies(v1_needed)
              == (strings{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct", "/sys/fs/cgroup/freezer",
                          "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"}));
  BOOST_CHECK(layout.directories(v1_needed, "troupe/a1/c1")
              == (strings{"/sys/fs/cgroup/cpu/troupe/a1/c1", "/sys/fs/cgroup/cpuacct/troupe/a1/c1",
                          "/sys/fs/cgroup/freezer/troupe/a1/c1",
                          "/sys/fs/cgroup/memory/troupe/a1/c1",
                          "/sys/fs/cgroup/pids/troupe/a1/c1"}));
  // The v2 mount's controllers are not usable in a v1 layout.
  BOOST_CHECK(!layout.has_controller("hugetlb"));
  // An empty cgroup2 (the notes' description) changes nothing.
  auto empty_v2 = cgroup_layout::parse(this_machine, "");
  BOOST_CHECK(empty_v2.version() == cgroup_version::v1);
  BOOST_CHECK(empty_v2.unified_controllers().empty());
}

BOOST_AUTO_TEST_CASE(comounted_cpu_cpuacct_is_one_hierarchy) {
  auto layout = cgroup_layout::parse(comounted);
  BOOST_CHECK(layout.version() == cgroup_version::v1);
  BOOST_CHECK(layout.hybrid());
  BOOST_CHECK_EQUAL(layout.v1_mounts().at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  BOOST_CHECK_EQUAL(layout.v1_mounts().at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  BOOST_CHECK_EQUAL(layout.v1_mounts().at("net_prio"), "/sys/fs/cgroup/net_cls,net_prio");
  BOOST_CHECK(layout.missing(v1_needed).empty());
  BOOST_CHECK(layout.hierarchies(v1_needed)
              == (strings{"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/freezer",
                          "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"}));
  BOOST_CHECK(layout.directories({"cpu", "cpuacct"}, "troupe/c")
              == strings{"/sys/fs/cgroup/cpu,cpuacct/troupe/c"});
  BOOST_CHECK_EQUAL(*layout.directory("cpuacct", "troupe/c"),
                    "/sys/fs/cgroup/cpu,cpuacct/troupe/c");
}

BOOST_AUTO_TEST_CASE(pure_v2_debian12_has_one_unified_directory) {
  auto layout = cgroup_layout::parse(debian12_v2, debian12_controllers);
  BOOST_CHECK(layout.version() == cgroup_version::v2);
  BOOST_CHECK(!layout.hybrid());
  BOOST_CHECK(layout.v1_mounts().empty());
  BOOST_CHECK_EQUAL(layout.unified_mount(), "/sys/fs/cgroup");
  BOOST_CHECK_EQUAL(layout.unified_controllers().size(), 8u);
  BOOST_CHECK(layout.missing(v2_needed).empty());
  // v2 has no freezer or cpuacct controller (cgroup.freeze and cpu.stat are core files).
  BOOST_CHECK(layout.missing(v1_needed) == (strings{"cpuacct", "freezer"}));
  BOOST_CHECK_EQUAL(*layout.directory("memory", "troupe/a1/c1"), "/sys/fs/cgroup/troupe/a1/c1");
  BOOST_CHECK(layout.hierarchies(v2_needed) == strings{"/sys/fs/cgroup"});
  BOOST_CHECK(layout.directories(v2_needed, "troupe/a1/c1")
              == strings{"/sys/fs/cgroup/troupe/a1/c1"});
  // Without the controllers file nothing is available: detection must say so.
  auto bare = cgroup_layout::parse(debian12_v2);
  BOOST_CHECK(bare.version() == cgroup_version::v2);
  BOOST_CHECK(bare.missing(v2_needed) == v2_needed);
  BOOST_CHECK(bare.directories(v2_needed, "troupe").empty());
}

BOOST_AUTO_TEST_CASE(a_named_v1_hierarchy_alone_does_not_make_v1) {
  // Only name=systemd on v1, every controller on the cgroup2 mount: v2 there.
  auto layout = cgroup_layout::parse(
    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n",
    "cpu memory pids");
  BOOST_CHECK(layout.version() == cgroup_version::v2);
  BOOST_CHECK(!layout.hybrid());
  BOOST_CHECK_EQUAL(*layout.directory("pids", "troupe/c"), "/sys/fs/cgroup/unified/troupe/c");
}

BOOST_AUTO_TEST_CASE(no_cgroup_mounts_and_garbage_give_version_none) {
  for (const char* text : {"", "garbage\n\n1 2 3\n", "22 27 0:21 / /proc rw - proc proc rw\n",
                           "31 23 0:28 / /sys/fs/cgroup rw - cgroup\n"}) {
    auto layout = cgroup_layout::parse(text, "cpu memory pids");
    BOOST_CHECK_MESSAGE(layout.version() == cgroup_version::none, text);
    BOOST_CHECK(!layout.has_controller("cpu"));
    BOOST_CHECK(layout.directories(v1_needed, "troupe").empty());
    BOOST_CHECK(layout.missing({"cpu"}) == strings{"cpu"});
  }
  BOOST_CHECK_EQUAL(to_string(cgroup_version::none), "none");
  BOOST_CHECK_EQUAL(to_string(cgroup_version::v1), "v1");
  BOOST_CHECK_EQUAL(to_string(cgroup_version::v2), "v2");
}

BOOST_AUTO_TEST_CASE(escaped_mount_points_and_first_mount_wins) {
  auto layout = cgroup_layout::parse(
    "40 31 0:37 / /mnt/my\\040cgroups/mem rw - cgroup cgroup rw,memory\n"
    "41 31 0:37 / /elsewhere/mem rw - cgroup cgroup rw,memory\n"
    "42 31 0:38 / /a\\134b rw shared:3 master:1 - cgroup2 cgroup2 rw\n");
  BOOST_CHECK_EQUAL(layout.v1_mounts().at("memory"), "/mnt/my cgroups/mem");
  BOOST_CHECK_EQUAL(layout.unified_mount(), "/a\\b");
}

BOOST_AUTO_TEST_CASE(manager_paths_follow_the_layout) {
  cgroup_manager here{cgroup_layout::parse(this_machine), "troupe/agent-1"};
  BOOST_CHECK(here.version() == cgroup_version::v1);
  BOOST_CHECK_EQUAL(here.cgroup_name("c-7"), "troupe/agent-1/c-7");
  BOOST_CHECK(here.procs_files("c-7")
              == (strings{"/sys/fs/cgroup/cpu/troupe/agent-1/c-7/cgroup.procs",
                          "/sys/fs/cgroup/cpuacct/troupe/agent-1/c-7/cgroup.procs",
                          "/sys/fs/cgroup/freezer/troupe/agent-1/c-7/cgroup.procs",
                          "/sys/fs/cgroup/memory/troupe/agent-1/c-7/cgroup.procs",
                          "/sys/fs/cgroup/pids/troupe/agent-1/c-7/cgroup.procs"}));
  cgroup_manager comount{cgroup_layout::parse(comounted), "/troupe/"};
  BOOST_CHECK_EQUAL(comount.root_name(), "troupe");
  BOOST_CHECK_EQUAL(comount.procs_files("c").size(), 4u);
  BOOST_CHECK_EQUAL(comount.procs_files("c").front(),
                    "/sys/fs/cgroup/cpu,cpuacct/troupe/c/cgroup.procs");
  cgroup_manager v2{cgroup_layout::parse(debian12_v2, debian12_controllers), "troupe"};
  BOOST_CHECK(v2.version() == cgroup_version::v2);
  BOOST_CHECK(v2.procs_files("c") == strings{"/sys/fs/cgroup/troupe/c/cgroup.procs"});
  BOOST_CHECK(v2.directories("c") == strings{"/sys/fs/cgroup/troupe/c"});
}

BOOST_AUTO_TEST_CASE(manager_rejects_bad_names_and_limits_before_touching_anything) {
  // A layout whose mount points do not exist: any file access would fail differently.
  cgroup_manager m{cgroup_layout::parse("1 1 0:1 / /nonexistent/cpu rw - cgroup cgroup "
                                        "rw,cpu,cpuacct,memory,pids,freezer\n"),
                   "troupe"};
  cgroup_limits ok;
  ok.cpus = 1;
  ok.memory_bytes = 1 << 20;
  for (const char* name : {"", ".", "..", "a/b", "a b", "a\nb", "x:y"})
    BOOST_CHECK_MESSAGE(is(m.create(name, ok), errc::invalid_argument), name);
  auto bad = ok;
  bad.cpus = 0;
  BOOST_CHECK(is(m.create("c", bad), errc::invalid_argument));
  bad = ok;
  bad.memory_bytes = 0;
  BOOST_CHECK(is(m.create("c", bad), errc::invalid_argument));
  bad = ok;
  bad.cfs_quota_cpus = -0.5;
  BOOST_CHECK(is(m.create("c", bad), errc::invalid_argument));
  BOOST_CHECK(is(m.attach("a/b", 1), errc::invalid_argument));
  BOOST_CHECK(is(m.attach("c", 1), errc::not_found));
  BOOST_CHECK(is(m.usage("c").error(), errc::not_found));
  BOOST_CHECK(is(m.oom_killed("c").error(), errc::not_found));
  BOOST_CHECK(!m.destroy("c", std::chrono::milliseconds{10})); // missing: success
  BOOST_CHECK(m.list().empty());
  BOOST_CHECK(m.pids("c").empty());
  BOOST_CHECK(!m.exists("c"));
  BOOST_CHECK(!m.cleanup_root()); // nothing there: success
  cgroup_manager none{cgroup_layout{}, "troupe"};
  BOOST_CHECK(is(none.create("c", ok), errc::unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
