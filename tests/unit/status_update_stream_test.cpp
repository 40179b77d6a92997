// One task's status update stream, and its checkpoint log (real files under $TMPDIR).
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "troupe/agent/status_update_log.hpp"
#include "troupe/messages/builders.hpp"
#include "troupe/test/child_process.hpp"

using namespace troupe;
using agent::status_update_log;
using agent::status_update_stream;
using push = status_update_stream::push_result;
using ack = status_update_stream::ack_result;

namespace {

v1::StatusUpdate update(v1::TaskState state, const std::string& uuid) {
  auto status = make_task_status(make_task_id("t1"), state, v1::TaskStatus::SOURCE_EXECUTOR, 1);
  return make_status_update(make_framework_id("fw"), make_agent_id("a1"), v1::ExecutorID{},
                            status, uuid);
}

internal::StatusUpdateRecord update_record(const v1::StatusUpdate& u) {
  internal::StatusUpdateRecord rec;
  rec.set_type(internal::StatusUpdateRecord::UPDATE);
  *rec.mutable_update() = u;
  return rec;
}

internal::StatusUpdateRecord ack_record(const std::string& uuid) {
  internal::StatusUpdateRecord rec;
  rec.set_type(internal::StatusUpdateRecord::ACK);
  rec.set_uuid(uuid);
  return rec;
}

} // namespace

BOOST_AUTO_TEST_SUITE(status_update_stream_test)

BOOST_AUTO_TEST_CASE(one_in_flight_in_order) {
  status_update_stream s;
  BOOST_CHECK(s.push(update(v1::TASK_STARTING, "u1")) == push::send);
  BOOST_CHECK(s.push(update(v1::TASK_RUNNING, "u2")) == push::queued);
  BOOST_CHECK(s.push(update(v1::TASK_FINISHED, "u3")) == push::queued);
  BOOST_CHECK_EQUAL(s.head()->status().uuid(), "u1");
  BOOST_CHECK(s.acknowledge("u2") == ack::mismatch); // not the head
  BOOST_CHECK(s.acknowledge("u1") == ack::next);
  BOOST_CHECK_EQUAL(s.head()->status().uuid(), "u2");
  BOOST_CHECK(s.acknowledge("u1") == ack::mismatch); // duplicate
  BOOST_CHECK(s.acknowledge("u2") == ack::next);
  BOOST_CHECK(!s.terminated());
  BOOST_CHECK(s.acknowledge("u3") == ack::idle);
  BOOST_CHECK(s.terminated());
  BOOST_CHECK(s.head() == nullptr);
}

BOOST_AUTO_TEST_CASE(duplicates_and_illegal_transitions_are_dropped) {
  status_update_stream s;
  BOOST_CHECK(s.push(update(v1::TASK_RUNNING, "u1")) == push::send);
  BOOST_CHECK(s.push(update(v1::TASK_RUNNING, "u1")) == push::duplicate);
  BOOST_CHECK(s.push(update(v1::TASK_STAGING, "u2")) == push::rejected); // backwards
  BOOST_CHECK(s.push(update(v1::TASK_FAILED, "u3")) == push::queued);
  BOOST_CHECK(s.push(update(v1::TASK_RUNNING, "u4")) == push::rejected); // after terminal
  BOOST_CHECK_EQUAL(s.pending(), 2u);
  BOOST_CHECK(s.latest_state() == v1::TASK_FAILED);
}

BOOST_AUTO_TEST_CASE(the_log_replays_what_was_not_acknowledged) {
  auto path = test::temp_path("su-log") + "/fw/t1.updates";
  {
    auto log = status_update_log::open(path);
    BOOST_REQUIRE(log);
    BOOST_REQUIRE(!log->append(update_record(update(v1::TASK_RUNNING, "u1"))));
    BOOST_REQUIRE(!log->append(ack_record("u1")));
    BOOST_REQUIRE(!log->append(update_record(update(v1::TASK_FINISHED, "u2"))));
  }
  auto found = status_update_log::replay(path);
  BOOST_REQUIRE(found);
  BOOST_CHECK_EQUAL(found->records.size(), 3u);
  BOOST_CHECK_EQUAL(found->valid_bytes, found->file_bytes);
  auto stream = status_update_log::rebuild(found->records);
  BOOST_CHECK_EQUAL(stream.pending(), 1u);
  BOOST_CHECK_EQUAL(stream.head()->status().uuid(), "u2");
  // A crash in the middle of an append leaves a torn record: replay keeps the whole ones and
  // says where they end; truncating there lets later appends be read back.
  {
    std::ofstream out{path, std::ios::app | std::ios::binary};
    out << '\x40' << "torn";
  }
  auto again = status_update_log::replay(path);
  BOOST_REQUIRE(again);
  BOOST_CHECK_EQUAL(again->records.size(), 3u);
  BOOST_CHECK_EQUAL(again->file_bytes - again->valid_bytes, 5u);
  BOOST_REQUIRE(!status_update_log::truncate(path, again->valid_bytes));
  {
    auto log = status_update_log::open(path);
    BOOST_REQUIRE(log);
    BOOST_REQUIRE(!log->append(ack_record("u2")));
  }
  auto repaired = status_update_log::replay(path);
  BOOST_REQUIRE(repaired);
  BOOST_CHECK_EQUAL(repaired->records.size(), 4u);
  BOOST_CHECK(status_update_log::rebuild(repaired->records).terminated());
  std::filesystem::remove_all(std::filesystem::path{path}.parent_path().parent_path());
  BOOST_CHECK(!status_update_log::replay(path)); // gone: an io_error, not a crash
}

BOOST_AUTO_TEST_CASE(long_ids_get_hashed_file_names) {
  BOOST_CHECK_EQUAL(agent::checkpoint_name("task-1"), "task-1");
  auto long_id = std::string(255, 'x');
  auto name = agent::checkpoint_name(long_id);
  BOOST_CHECK_LE(name.size() + std::string{".updates"}.size(), 255u);
  BOOST_CHECK_EQUAL(name, agent::checkpoint_name(long_id)); // stable
  BOOST_CHECK_NE(name, agent::checkpoint_name(std::string(254, 'x') + "y"));
}

BOOST_AUTO_TEST_SUITE_END()
