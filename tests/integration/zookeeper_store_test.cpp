// runtime/store zookeeper_store against a real ZooKeeper 3.8 server (tests/support
// zookeeper_server; every case skips with a message when Java/ZooKeeper are missing): the
// behavioural cases of tests/unit/store_test.cpp, durability across reopening, a second client
// sharing the data and losing a stale compare-and-set, and a seeded random sequence against a
// std::map model.
#include <boost/test/unit_test.hpp>

#include "troupe/test/store_model.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/store/zookeeper_store.hpp"
#include "troupe/test/deterministic_fixture.hpp"
#include "troupe/test/zookeeper_server.hpp"

using namespace std::chrono_literals;
using troupe::errc;
using troupe::runtime::entry;
using troupe::runtime::max_zookeeper_value_size;
using troupe::runtime::zookeeper_store;

namespace {

using troupe::test::render;
using troupe::test::require;
using troupe::test::store_model;



struct fixture {
  troupe::test::zookeeper_server zk;

  std::unique_ptr<zookeeper_store> open(const std::string& root = "/troupe/store") {
    return require(zookeeper_store::open(zk.hosts(), root, 4s, 10s));
  }
};

#define SKIP_WITHOUT_ZOOKEEPER()                                                                   \
  if (!zk.available()) {                                                                           \
    BOOST_TEST_MESSAGE("skipped: " << zk.why());                                                   \
    return;                                                                                        \
  }

} // namespace

BOOST_AUTO_TEST_SUITE(zookeeper_store_test)

BOOST_AUTO_TEST_CASE(key_encoding_round_trips) {
  for (std::string k : {"a", "registry/agents/a1", "with space", ".", "..", "%41", "~!@#$%^&*()"}) {
    auto name = zookeeper_store::encode_key(k);
    BOOST_CHECK_MESSAGE(name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                               "0123456789_-%")
                          == std::string::npos,
                        name);
    BOOST_CHECK_EQUAL(zookeeper_store::decode_key(name).value_or("<none>"), k);
  }
  BOOST_CHECK_EQUAL(zookeeper_store::encode_key("a/b c"), "a%2Fb%20c");
  // Foreign or non-canonical names are not keys.
  BOOST_CHECK(!zookeeper_store::decode_key("a%2"));
  BOOST_CHECK(!zookeeper_store::decode_key("a%zz"));
  BOOST_CHECK(!zookeeper_store::decode_key("%41"));
  BOOST_CHECK(!zookeeper_store::decode_key("a.b"));
}

BOOST_AUTO_TEST_CASE(open_without_a_server_is_unavailable) {
  auto x = zookeeper_store::open("127.0.0.1:1", "/troupe/store", 2s, 300ms);
  BOOST_REQUIRE(!x);
  BOOST_CHECK(troupe::is(x.error(), errc::unavailable));
  auto msg = troupe::error_message(x.error());
  BOOST_CHECK_MESSAGE(msg.find("127.0.0.1:1") != std::string::npos, msg);
  auto bad_root = zookeeper_store::open("127.0.0.1:1", "relative", 2s, 300ms);
  BOOST_REQUIRE(!bad_root);
  BOOST_CHECK(troupe::is(bad_root.error(), errc::invalid_argument));
}

BOOST_FIXTURE_TEST_CASE(get_of_a_missing_key_is_nullopt, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  BOOST_CHECK_EQUAL(db->root(), "/troupe/store");
  BOOST_CHECK(!require(db->get("nope")));
  BOOST_CHECK(require(db->list("")).empty());
}

BOOST_FIXTURE_TEST_CASE(commit_is_one_multi_fenced_by_its_guard, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  troupe::test::check_commit_semantics(*db);
}

// Two clients, as two masters: the newer term rewrites `epoch`; the older one's commit, made
// with the guard version it holds, is refused by the server as a whole.
BOOST_FIXTURE_TEST_CASE(a_newer_client_fences_an_older_ones_commit, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto old_master = open();
  auto new_master = open();
  auto guard = require(old_master->put("epoch", "1", 0));
  require(new_master->put("epoch", "2", guard));
  BOOST_CHECK_EQUAL(render(old_master->commit("epoch", guard,
                                              {{"agents/a", std::string{"a"}, std::nullopt},
                                               {"gone/b", std::string{"b"}, std::nullopt}})),
                    "error stale_epoch");
  BOOST_CHECK_EQUAL(render(new_master->get("agents/a")), "none");
  BOOST_CHECK_EQUAL(render(new_master->get("gone/b")), "none");
}

BOOST_FIXTURE_TEST_CASE(put_increments_the_version, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  BOOST_CHECK_EQUAL(require(db->put("agents/a1", "one", std::nullopt)), 1u);
  BOOST_CHECK_EQUAL(require(db->put("agents/a1", "two", std::nullopt)), 2u);
  BOOST_CHECK_EQUAL(require(db->put("agents/a2", std::string("\0bin\xff", 5), std::nullopt)), 1u);
  auto e = require(db->get("agents/a1"));
  BOOST_REQUIRE(e);
  BOOST_CHECK(*e == (entry{"two", 2}));
  auto bin = require(db->get("agents/a2"));
  BOOST_REQUIRE(bin);
  BOOST_CHECK(bin->value == std::string("\0bin\xff", 5));
  BOOST_CHECK(!db->sync());
}

BOOST_FIXTURE_TEST_CASE(compare_and_set, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  BOOST_CHECK_EQUAL(require(db->put("k", "a", 0)), 1u);
  auto exists = db->put("k", "b", 0);
  BOOST_REQUIRE(!exists);
  BOOST_CHECK(troupe::is(exists.error(), errc::version_conflict));
  BOOST_CHECK_EQUAL(troupe::error_message(exists.error()),
                    "store key 'k': expected no entry, found version 1");
  BOOST_CHECK_EQUAL(require(db->put("k", "b", 1)), 2u);
  auto stale = db->put("k", "c", 1);
  BOOST_REQUIRE(!stale);
  BOOST_CHECK(troupe::is(stale.error(), errc::version_conflict));
  BOOST_CHECK_EQUAL(troupe::error_message(stale.error()),
                    "store key 'k': expected version 1, found version 2");
  auto future = db->put("k", "c", 7);
  BOOST_CHECK(!future && troupe::is(future.error(), errc::version_conflict));
  auto huge = db->put("k", "c", uint64_t{1} << 40);
  BOOST_CHECK(!huge && troupe::is(huge.error(), errc::version_conflict));
  auto missing = db->put("other", "c", 1);
  BOOST_REQUIRE(!missing);
  BOOST_CHECK_EQUAL(troupe::error_message(missing.error()),
                    "store key 'other': expected version 1, found no entry");
  auto e = require(db->get("k"));
  BOOST_REQUIRE(e);
  BOOST_CHECK(*e == (entry{"b", 2}));
  BOOST_CHECK(!require(db->get("other")));
}

BOOST_FIXTURE_TEST_CASE(erase_with_and_without_version, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  require(db->put("x", "1", std::nullopt));
  require(db->put("x", "2", std::nullopt));
  require(db->put("y", "1", std::nullopt));
  BOOST_CHECK(troupe::is(db->erase("x", 1), errc::version_conflict));
  BOOST_CHECK(troupe::is(db->erase("x", 0), errc::version_conflict));
  BOOST_CHECK(require(db->get("x")));
  BOOST_CHECK(!db->erase("x", 2));
  BOOST_CHECK(!require(db->get("x")));
  BOOST_CHECK(!db->erase("y", std::nullopt));
  BOOST_CHECK(!require(db->get("y")));
  BOOST_CHECK(!db->erase("y", std::nullopt));
  BOOST_CHECK(!db->erase("y", 0));
  BOOST_CHECK(troupe::is(db->erase("y", 1), errc::version_conflict));
  BOOST_CHECK_EQUAL(require(db->put("x", "again", 0)), 1u);
}

BOOST_FIXTURE_TEST_CASE(list_by_prefix_is_sorted, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  for (auto k : {"registry/agents/b", "registry/agents/a", "registry/quota/web", "registry/agent",
                 "registry/agents/a/x", "other", "registry/agents0", "registry/agents/with space",
                 "registry/agents/%2F", "."})
    require(db->put(k, "v", std::nullopt));
  using v = std::vector<std::string>;
  BOOST_CHECK(require(db->list("registry/agents/"))
              == (v{"registry/agents/%2F", "registry/agents/a", "registry/agents/a/x",
                    "registry/agents/b", "registry/agents/with space"}));
  BOOST_CHECK(require(db->list("registry/agent"))
              == (v{"registry/agent", "registry/agents/%2F", "registry/agents/a",
                    "registry/agents/a/x", "registry/agents/b", "registry/agents/with space",
                    "registry/agents0"}));
  BOOST_CHECK(require(db->list("")).size() == 10);
  BOOST_CHECK(require(db->list("")).front() == ".");
  BOOST_CHECK(require(db->list("zzz")).empty());
  BOOST_CHECK(require(db->list("registry/agents/b")) == (v{"registry/agents/b"}));
  BOOST_CHECK(require(db->list("registry/agents/with ")) == (v{"registry/agents/with space"}));
}

BOOST_FIXTURE_TEST_CASE(invalid_input_is_rejected_and_nothing_written, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto db = open();
  auto rejected = [&](caf::expected<uint64_t> x, const std::string& needle) {
    BOOST_REQUIRE(!x);
    BOOST_CHECK(troupe::is(x.error(), errc::invalid_argument));
    auto msg = troupe::error_message(x.error());
    BOOST_CHECK_MESSAGE(msg.find(needle) != std::string::npos, msg << " lacks " << needle);
  };
  rejected(db->put("", "v", std::nullopt), "store key is empty");
  rejected(db->put(std::string(troupe::runtime::max_key_size + 1, 'k'), "v", std::nullopt),
           "1025 bytes long, more than the limit of 1024");
  rejected(db->put("bad\nkey", "v", std::nullopt), "non-printable byte 10 at offset 3");
  rejected(db->put(std::string("nul\0", 4), "v", std::nullopt), "non-printable byte 0");
  rejected(db->put("del\x7f", "v", std::nullopt), "non-printable byte 127");
  rejected(db->put("k", std::string(troupe::runtime::max_value_size + 1, 'v'), std::nullopt),
           "store value is 1048577 bytes, more than the limit of 1048576");
  rejected(db->put("k", std::string(max_zookeeper_value_size + 1, 'v'), std::nullopt),
           "store value is 1044481 bytes, more than the ZooKeeper backend's limit of 1044480");
  BOOST_CHECK(troupe::is(db->erase("", std::nullopt), errc::invalid_argument));
  BOOST_CHECK(troupe::is(db->get("a\tb").error(), errc::invalid_argument));
  BOOST_CHECK(troupe::is(db->list("a\tb").error(), errc::invalid_argument));
  BOOST_CHECK(require(db->list("")).empty());
  // The limits themselves are accepted: the longest key (all escaped: 3 KiB of path) with the
  // largest value fits ZooKeeper's default jute.maxbuffer.
  std::string longest(troupe::runtime::max_key_size, '/');
  BOOST_CHECK_EQUAL(
    require(db->put(longest, std::string(max_zookeeper_value_size, 'v'), std::nullopt)), 1u);
  BOOST_CHECK_EQUAL(require(db->get(longest))->value.size(), max_zookeeper_value_size);
  BOOST_CHECK_EQUAL(require(db->put(longest, "small", 1)), 2u);
  BOOST_CHECK_EQUAL(require(db->put("printable ~ and space", "", std::nullopt)), 1u);
  BOOST_CHECK(*require(db->get("printable ~ and space")) == (entry{"", 1}));
}

BOOST_FIXTURE_TEST_CASE(reopen_sees_every_value_and_version, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  {
    auto db = open("/nested/root/store");
    for (int i = 0; i < 5; ++i)
      require(db->put("registry/agents/a1", "gen" + std::to_string(i), std::nullopt));
    require(db->put("registry/agents/a2", "x", 0));
    require(db->put("registry/quota/web", std::string("\0\1\2", 3), std::nullopt));
    BOOST_CHECK(!db->erase("registry/agents/a2", 1));
  }
  auto db = open("/nested/root/store");
  BOOST_CHECK(*require(db->get("registry/agents/a1")) == (entry{"gen4", 5}));
  BOOST_CHECK(*require(db->get("registry/quota/web")) == (entry{std::string("\0\1\2", 3), 1}));
  BOOST_CHECK(!require(db->get("registry/agents/a2")));
  BOOST_CHECK(require(db->list(""))
              == (std::vector<std::string>{"registry/agents/a1", "registry/quota/web"}));
  BOOST_CHECK_EQUAL(require(db->put("registry/agents/a1", "gen5", 5)), 6u);
  // Another root is another store.
  auto other = open("/nested/root/other");
  BOOST_CHECK(require(other->list("")).empty());
}

BOOST_FIXTURE_TEST_CASE(a_second_client_sees_writes_and_loses_stale_cas, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  auto a = open();
  auto b = open();
  BOOST_CHECK_EQUAL(require(a->put("leader", "a", 0)), 1u);
  BOOST_CHECK(!b->sync());
  auto seen = require(b->get("leader"));
  BOOST_REQUIRE(seen);
  BOOST_CHECK(*seen == (entry{"a", 1}));
  // a moves on; b's version 1 is stale.
  BOOST_CHECK_EQUAL(require(a->put("leader", "a2", 1)), 2u);
  auto stale = b->put("leader", "b", seen->version);
  BOOST_REQUIRE(!stale);
  BOOST_CHECK(troupe::is(stale.error(), errc::version_conflict));
  BOOST_CHECK_EQUAL(troupe::error_message(stale.error()),
                    "store key 'leader': expected version 1, found version 2");
  BOOST_CHECK(troupe::is(b->erase("leader", 1), errc::version_conflict));
  BOOST_CHECK(troupe::is(b->put("leader", "b", 0).error(), errc::version_conflict));
  // With the fresh version b wins, and a is now the stale one.
  BOOST_CHECK_EQUAL(require(b->put("leader", "b", 2)), 3u);
  BOOST_CHECK(troupe::is(a->put("leader", "a3", 2).error(), errc::version_conflict));
  BOOST_CHECK(*require(a->get("leader")) == (entry{"b", 3}));
  BOOST_CHECK(!b->erase("leader", 3));
  BOOST_CHECK(!require(a->get("leader")));
  BOOST_CHECK(require(a->list("")).empty());
}

BOOST_FIXTURE_TEST_CASE(random_operations_match_a_map_model, fixture) {
  SKIP_WITHOUT_ZOOKEEPER();
  constexpr int rounds = 500;
  auto seed = troupe::test::test_seed();
  troupe::runtime::seeded_random rng{seed, "zookeeper_store_property"};
  auto db = open();
  store_model ref;
  ref.max_value = max_zookeeper_value_size;
  auto random_key = [&](bool allow_empty) {
    if (rng.chance(0.03))
      return std::string(rng.chance(0.5) ? "" : "bad\nkey");
    std::string k;
    for (auto n = rng.below(4) + (allow_empty ? 0 : 1); n > 0; --n)
      k.push_back("ab/ .%"[rng.below(6)]);
    return k;
  };
  auto random_value = [&] {
    if (rng.chance(0.01))
      return std::string(max_zookeeper_value_size + rng.below(2), 'x');
    std::string v;
    for (auto n = rng.below(12); n > 0; --n)
      v.push_back(static_cast<char>(rng.below(256)));
    return v;
  };
  auto random_expected = [&](const std::string& k) -> std::optional<uint64_t> {
    auto r = rng.below(10);
    if (r < 4)
      return std::nullopt;
    if (r < 6) {
      auto i = ref.m.find(k);
      return i == ref.m.end() ? 0 : i->second.version;
    }
    return rng.below(4);
  };
  for (int i = 0; i < rounds; ++i) {
    std::string op, want, got;
    auto r = rng.below(100);
    if (r < 25) {
      auto k = random_key(false);
      op = "get '" + k + "'";
      want = render(ref.get(k));
      got = render(db->get(k));
    } else if (r < 60) {
      auto k = random_key(false);
      auto v = random_value();
      auto ev = random_expected(k);
      op = "put '" + k + "' expected " + (ev ? std::to_string(*ev) : "-");
      want = render(ref.put(k, v, ev));
      got = render(db->put(k, v, ev));
    } else if (r < 75) {
      auto k = random_key(false);
      auto ev = random_expected(k);
      op = "erase '" + k + "' expected " + (ev ? std::to_string(*ev) : "-");
      want = render(ref.erase(k, ev));
      got = render(db->erase(k, ev));
    } else if (r < 92) {
      auto p = random_key(true);
      op = "list '" + p + "'";
      want = render(ref.list(p));
      got = render(db->list(p));
    } else if (r < 97) {
      op = "sync";
      want = "ok";
      got = render(db->sync());
    } else {
      op = "reopen";
      db.reset();
      db = open();
      want = got = "ok";
    }
    BOOST_REQUIRE_MESSAGE(want == got, "seed " << seed << " (replay: TROUPE_SEED=" << seed
                                               << ") op " << i << ": " << op << ": model "
                                               << want << ", zookeeper " << got);
  }
  auto keys = require(ref.list(""));
  BOOST_REQUIRE_MESSAGE(render(db->list("")) == render(ref.list("")),
                        "seed " << seed << ": final key sets differ");
  for (auto& k : keys)
    BOOST_REQUIRE_MESSAGE(render(db->get(k)) == render(ref.get(k)),
                          "seed " << seed << ": final entry of '" << k << "' differs");
  BOOST_TEST_MESSAGE("zookeeper store property test: seed " << seed << ", " << keys.size()
                                                            << " keys");
}

BOOST_AUTO_TEST_SUITE_END()
