#include <boost/test/unit_test.hpp>

#include <limits>

#include "troupe/messages/builders.hpp"
#include "troupe/messages/errc.hpp"
#include "troupe/messages/validation.hpp"

using namespace troupe;

namespace {

void expect_invalid(const caf::error& err, const std::string& needle) {
  BOOST_REQUIRE_MESSAGE(err, "expected an error mentioning " << needle);
  BOOST_CHECK(is(err, errc::invalid_message) || is(err, errc::invalid_resources));
  BOOST_CHECK_MESSAGE(error_message(err).find(needle) != std::string::npos,
                      "'" << error_message(err) << "' lacks '" << needle << "'");
}

v1::TaskInfo good_task() {
  return make_task_info(make_task_id("t1"), "t", make_agent_id("a1"),
                        resources::parse("cpus:1;mem:64").value(), make_shell_command("true"));
}

} // namespace

BOOST_AUTO_TEST_SUITE(validation_test)

BOOST_AUTO_TEST_CASE(ids) {
  BOOST_CHECK(!validate(make_task_id("web.1-a_b")));
  expect_invalid(validate(make_task_id("")), "task_id: must not be empty");
  expect_invalid(validate(make_task_id("a/b")), "task_id");
  expect_invalid(validate(make_agent_id("a b")), "agent_id");
  expect_invalid(validate(make_framework_id("..")), "framework_id");
  expect_invalid(validate(make_offer_id(std::string(256, 'x'))), "longer than 255");
}

BOOST_AUTO_TEST_CASE(tasks) {
  BOOST_CHECK(!validate(good_task()));
  auto t = good_task();
  t.clear_command();
  expect_invalid(validate(t), "exactly one of command and executor");
  t = good_task();
  t.mutable_command()->set_value("");
  expect_invalid(validate(t), "command.value");
  t = good_task();
  t.clear_resources();
  expect_invalid(validate(t), "resources: must not be empty");
  t = good_task();
  t.mutable_resources(0)->mutable_scalar()->set_value(-1);
  expect_invalid(validate(t), "negative");
  t = good_task();
  t.mutable_kill_policy()->set_grace_period_seconds(std::numeric_limits<double>::infinity());
  expect_invalid(validate(t), "grace_period_seconds");
  t = good_task();
  t.mutable_health_check()->set_type(v1::HealthCheck::TCP);
  expect_invalid(validate(t), "tcp.port");
  t = good_task();
  t.mutable_command()->mutable_environment()->add_variables()->set_name("A=B");
  expect_invalid(validate(t), "environment");
}

BOOST_AUTO_TEST_CASE(frameworks_and_agents) {
  BOOST_CHECK(!validate(make_framework_info("svc", "root", {"web", "eng/web"}, 3600)));
  expect_invalid(validate(make_framework_info("", "root")), "framework_info.name");
  expect_invalid(validate(make_framework_info("x", "root", {"web", "web"})), "listed twice");
  expect_invalid(validate(make_framework_info("x", "root", {"a//b"})), "roles");
  expect_invalid(validate(make_framework_info("x", "root", {}, -1)), "failover_timeout");
  auto agent = make_agent_info("host", 5065, resources::parse("cpus:1").value());
  BOOST_CHECK(!validate(agent));
  agent.set_hostname("");
  expect_invalid(validate(agent), "hostname");
}

BOOST_AUTO_TEST_CASE(status_updates) {
  auto status = make_task_status(make_task_id("t"), v1::TASK_RUNNING,
                                 v1::TaskStatus::SOURCE_EXECUTOR, 1);
  auto update = make_status_update(make_framework_id("fw"), make_agent_id("a"),
                                   v1::ExecutorID{}, status, "u1");
  BOOST_CHECK(!validate(update));
  update.mutable_status()->set_uuid("");
  expect_invalid(validate(update), "uuid");
  update.mutable_status()->set_state(v1::TASK_UNKNOWN_STATE);
  expect_invalid(validate(update), "status.state");
}

BOOST_AUTO_TEST_CASE(operations_and_calls) {
  BOOST_CHECK(!validate(make_launch({good_task()})));
  expect_invalid(validate(make_launch({})), "has no tasks");
  expect_invalid(validate(v1::Offer::Operation{}), "operation.type");
  expect_invalid(validate(make_reserve(resources{})), "must not be empty");
  v1::scheduler::Subscribe sub;
  *sub.mutable_framework_info() = make_framework_info("svc", "root");
  BOOST_CHECK(!validate(make_call(v1::FrameworkID{}, sub)));
  expect_invalid(validate(make_call(v1::FrameworkID{}, v1::scheduler::Teardown{})),
                 "framework_id");
  expect_invalid(validate(v1::scheduler::Call{}), "no call is set");
}

BOOST_AUTO_TEST_CASE(scheduler_call_payloads) {
  auto fw = make_framework_id("fw");
  BOOST_CHECK(!validate(make_call(fw, v1::scheduler::Teardown{})));
  v1::scheduler::Accept accept;
  expect_invalid(validate(make_call(fw, accept)), "accept.offer_ids: names no offer");
  *accept.add_offer_ids() = make_offer_id("o1");
  *accept.add_operations() = make_launch({good_task()});
  BOOST_CHECK(!validate(make_call(fw, accept)));
  // A bad task does not make the call invalid: the master answers it with its own TASK_ERROR.
  accept.mutable_operations(0)->mutable_launch()->mutable_task_infos(0)->clear_command();
  BOOST_CHECK(!validate(make_call(fw, accept)));
  accept.mutable_operations(0)->mutable_launch()->clear_task_infos();
  expect_invalid(validate(make_call(fw, accept)), "accept.operation.launch");
  expect_invalid(validate(make_call(fw, v1::scheduler::Decline{})), "decline.offer_ids");
  v1::scheduler::Acknowledge ack;
  *ack.mutable_agent_id() = make_agent_id("a");
  *ack.mutable_task_id() = make_task_id("t");
  expect_invalid(validate(make_call(fw, ack)), "acknowledge.uuid");
  ack.set_uuid("u");
  BOOST_CHECK(!validate(make_call(fw, ack)));
  v1::scheduler::Revive revive;
  revive.add_roles("a//b");
  expect_invalid(validate(make_call(fw, revive)), "revive.roles");
  v1::scheduler::Reconcile reconcile;
  reconcile.add_tasks()->mutable_task_id()->set_value("");
  expect_invalid(validate(make_call(fw, reconcile)), "reconcile.task_id");
  BOOST_CHECK(!validate(make_call(fw, v1::scheduler::Reconcile{}))); // implicit
  expect_invalid(validate(make_call(fw, v1::scheduler::Kill{})), "kill.task_id");
}

BOOST_AUTO_TEST_CASE(master_agent_messages) {
  auto agent = make_agent_info("host", 5065, resources::parse("cpus:1").value());
  v1::RegisterAgent reg;
  *reg.mutable_agent() = agent;
  BOOST_CHECK(!validate(reg));
  *reg.mutable_agent()->mutable_id() = make_agent_id("a1");
  expect_invalid(validate(reg), "must be unset");
  v1::ReregisterAgent rereg;
  *rereg.mutable_agent() = agent;
  expect_invalid(validate(rereg), "reregister_agent.agent.id");
  *rereg.mutable_agent()->mutable_id() = make_agent_id("a1");
  auto* task = rereg.add_tasks();
  *task->mutable_task_id() = make_task_id("t1");
  *task->mutable_framework_id() = make_framework_id("fw");
  task->set_state(v1::TASK_RUNNING);
  BOOST_CHECK(!validate(rereg));
  task->set_state(v1::TASK_UNKNOWN);
  expect_invalid(validate(rereg), "t1.state");
  v1::RunTask run;
  *run.mutable_framework() = make_framework_info("svc", "root");
  *run.mutable_task() = good_task();
  expect_invalid(validate(run), "run_task.framework.id");
  *run.mutable_framework()->mutable_id() = make_framework_id("fw");
  BOOST_CHECK(!validate(run));
  v1::RunTaskGroup group;
  *group.mutable_framework() = run.framework();
  *group.mutable_executor()->mutable_executor_id() = make_executor_id("e");
  expect_invalid(validate(group), "has no tasks");
  *group.mutable_task_group()->add_tasks() = good_task();
  BOOST_CHECK(!validate(group));
  v1::KillTask kill;
  *kill.mutable_framework_id() = make_framework_id("fw");
  expect_invalid(validate(kill), "kill_task.task_id");
  v1::StatusUpdateAcknowledgement sack;
  *sack.mutable_agent_id() = make_agent_id("a");
  *sack.mutable_framework_id() = make_framework_id("fw");
  *sack.mutable_task_id() = make_task_id("t");
  expect_invalid(validate(sack), "acknowledgement.uuid");
  expect_invalid(validate(v1::ShutdownFramework{}), "shutdown_framework.framework_id");
}

BOOST_AUTO_TEST_CASE(executor_calls) {
  v1::executor::Call call;
  *call.mutable_executor_id() = make_executor_id("e");
  *call.mutable_framework_id() = make_framework_id("fw");
  expect_invalid(validate(call), "no call is set");
  *call.mutable_update()->mutable_status() =
    make_task_status(make_task_id("t"), v1::TASK_RUNNING, v1::TaskStatus::SOURCE_EXECUTOR, 1);
  expect_invalid(validate(call), "update.status.uuid");
  call.mutable_update()->mutable_status()->set_uuid("u");
  BOOST_CHECK(!validate(call));
  call.clear_executor_id();
  expect_invalid(validate(call), "executor_id");
}

BOOST_AUTO_TEST_SUITE_END()
