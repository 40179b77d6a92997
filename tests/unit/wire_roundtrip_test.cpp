// Every message type of the type-id block survives CAF serialization in-process (the same path
// the middleman takes), the block covers every message declared in the .proto files, and
// corrupted bytes give an error instead of a crash.
#include <boost/test/unit_test.hpp>

#include <set>
#include <utility>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/make_message.hpp>

#include "troupe/messages/type_ids.hpp"
#include "troupe/messages/validation.hpp"
#include "troupe/runtime/errors.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/proto_filler.hpp"

namespace {

struct wire_fixture : troupe::test::deterministic_fixture {
  std::vector<char> serialize(const caf::message& msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto err = caf::inspect(sink, const_cast<caf::message&>(msg));
    BOOST_REQUIRE_MESSAGE(!err, troupe::runtime::render(err));
    return buf;
  }

  // Note: `source(out)` (data_processor::operator()) swallows errors in CAF 0.17.6 and
  // yields an empty message; caf::inspect reports them.
  caf::expected<caf::message> deserialize(const std::vector<char>& buf) {
    caf::binary_deserializer source{sys, buf};
    caf::message out;
    if (auto err = caf::inspect(source, out))
      return err;
    return out;
  }
};

template <class F, caf::type_id_t... Is>
void for_each_type(F&& f, std::integer_sequence<caf::type_id_t, Is...>) {
  (f(typename caf::type_by_id<caf::id_block::troupe_messages::begin + Is>::type{}), ...);
}

template <class F>
void for_each_message_type(F&& f) {
  for_each_type(std::forward<F>(f), std::make_integer_sequence<caf::type_id_t, troupe::message_type_count>{});
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(wire_roundtrip_test, wire_fixture)

BOOST_AUTO_TEST_CASE(every_type_round_trips_as_a_caf_message) {
  troupe::runtime::seeded_random rng{seed, "wire_roundtrip"};
  size_t types = 0;
  for_each_message_type([&](auto sample) {
    using T = decltype(sample);
    for (int i = 0; i < 5; ++i) {
      T x;
      troupe::test::fill_message(x, rng);
      auto buf = serialize(caf::make_message(x));
      auto back = deserialize(buf);
      if (!back)
        BOOST_FAIL(x.GetTypeName() << ": " << troupe::runtime::render(back.error()));
      BOOST_REQUIRE_MESSAGE(back->template match_elements<T>(), x.GetTypeName() << " came back as "
                                                         << caf::to_string(*back));
      BOOST_CHECK_MESSAGE(back->template get_as<T>(0) == x, x.GetTypeName() << " changed on the way");
    }
    ++types;
  });
  BOOST_CHECK_EQUAL(types, troupe::message_type_count);
}

BOOST_AUTO_TEST_CASE(the_block_covers_every_declared_message) {
  std::set<std::string> registered;
  for_each_message_type([&](auto sample) { registered.insert(sample.GetTypeName()); });
  std::set<std::string> declared;
  auto files = {troupe::v1::FrameworkID::descriptor()->file(),
                troupe::v1::Resource::descriptor()->file(),
                troupe::v1::AgentInfo::descriptor()->file(),
                troupe::v1::FrameworkInfo::descriptor()->file(),
                troupe::v1::TaskInfo::descriptor()->file(),
                troupe::v1::Offer::descriptor()->file(),
                troupe::v1::RunTask::descriptor()->file(),
                troupe::v1::scheduler::Call::descriptor()->file(),
                troupe::v1::executor::Call::descriptor()->file(),
                troupe::v1::MasterState::descriptor()->file(),
                troupe::internal::Registry::descriptor()->file(),
                troupe::internal::AgentCheckpoint::descriptor()->file()};
  for (auto* file : files)
    for (int i = 0; i < file->message_type_count(); ++i)
      declared.insert(file->message_type(i)->full_name());
  for (const auto& name : declared)
    BOOST_CHECK_MESSAGE(registered.count(name) == 1, name << " is not in the type-id block");
  BOOST_CHECK_EQUAL(declared.size(), registered.size());
}

BOOST_AUTO_TEST_CASE(registered_names_are_the_cpp_spelling) {
  BOOST_CHECK_EQUAL(std::string{caf::type_name<troupe::v1::TaskStatus>::value},
                    "troupe::v1::TaskStatus");
  BOOST_CHECK_EQUAL(caf::type_id<troupe::v1::FrameworkID>::value, caf::first_custom_type_id);
}

BOOST_AUTO_TEST_CASE(corrupted_protobuf_bytes_are_an_error) {
  auto status = troupe::v1::TaskStatus{};
  status.mutable_task_id()->set_value("t1");
  status.set_state(troupe::v1::TASK_RUNNING);
  status.set_message("a message long enough to be found in the buffer");
  auto buf = serialize(caf::make_message(status));
  auto payload = status.SerializeAsString();
  std::string haystack(buf.begin(), buf.end());
  auto pos = haystack.find(payload);
  BOOST_REQUIRE(pos != std::string::npos);
  // 0xff... is field 2^28-ish with wire type 7, which protobuf rejects.
  for (size_t i = 0; i < payload.size(); ++i)
    buf[pos + i] = static_cast<char>(0xff);
  auto back = deserialize(buf);
  BOOST_REQUIRE(!back);
  BOOST_CHECK_MESSAGE(troupe::runtime::render(back.error()).find("protobuf parse failed")
                        != std::string::npos,
                      troupe::runtime::render(back.error()));
}

BOOST_AUTO_TEST_CASE(random_damage_never_crashes) {
  troupe::runtime::seeded_random rng{seed, "wire_damage"};
  troupe::v1::scheduler::Call call;
  troupe::test::fill_message(call, rng);
  auto good = serialize(caf::make_message(call));
  size_t errors = 0;
  size_t truncated = 0;
  size_t truncated_errors = 0;
  for (int i = 0; i < 3000; ++i) {
    auto buf = good;
    auto kind = rng.below(3);
    switch (kind) {
      case 0: // flip bytes
        for (auto n = 1 + rng.below(4); n > 0; --n)
          buf[rng.below(buf.size())] ^= static_cast<char>(1 + rng.below(255));
        break;
      case 1: // truncate
        buf.resize(rng.below(buf.size()));
        break;
      default: // append garbage
        for (auto n = 1 + rng.below(16); n > 0; --n)
          buf.push_back(static_cast<char>(rng.below(256)));
    }
    auto back = deserialize(buf);
    if (!back)
      ++errors;
    if (kind == 1) {
      ++truncated;
      truncated_errors += back ? 0 : 1;
    } else if (back && back->match_elements<troupe::v1::scheduler::Call>()) {
      // Whatever decoded is a well-formed message the validators can judge.
      (void) troupe::validate(back->get_as<troupe::v1::scheduler::Call>(0));
    }
  }
  BOOST_TEST_MESSAGE("damaged buffers rejected: " << errors << " of 3000");
  // A truncated message can never decode: every one must be an error.
  BOOST_CHECK_EQUAL(truncated_errors, truncated);
  BOOST_CHECK_GT(errors, truncated);
}

BOOST_AUTO_TEST_SUITE_END()
