// runtime/store: one suite run against every backend (memory_store, leveldb_store in a temp dir),
// backend-specific cases (memory crash, LevelDB durability and locking), and a property test that
// applies the same random operations to both backends and to a plain std::map model.
#include <boost/mpl/list.hpp>
#include <boost/test/unit_test.hpp>

#include "troupe/test/store_model.hpp"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/random.hpp"
#include "troupe/runtime/store/leveldb_store.hpp"
#include "troupe/runtime/store/memory_store.hpp"
#include "troupe/test/deterministic_fixture.hpp"

using troupe::errc;
using troupe::runtime::entry;
using troupe::runtime::leveldb_store;
using troupe::runtime::memory_store;
using troupe::runtime::store;

namespace {

using troupe::test::render;
using troupe::test::require;
using troupe::test::store_model;

/// A fresh directory under the system temp dir, removed (recursively) on destruction — so on
/// every exit path of a test, including a failed BOOST_REQUIRE (an exception).
struct temp_dir {
  std::string path;

  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "troupe-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + pattern);
    path = pattern;
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};


struct memory_backend {
  std::unique_ptr<memory_store> impl = std::make_unique<memory_store>();

  store& db() {
    return *impl;
  }

  /// Memory has no restart: a synced crash must lose nothing.
  void reopen() {
    BOOST_REQUIRE(!impl->sync());
    impl->crash();
  }
};

struct leveldb_backend {
  temp_dir dir;
  std::unique_ptr<leveldb_store> impl;

  leveldb_backend() {
    impl = require(leveldb_store::open(dir.path + "/db"));
  }

  store& db() {
    return *impl;
  }

  void reopen() {
    impl.reset();
    impl = require(leveldb_store::open(dir.path + "/db"));
  }
};

using backends = boost::mpl::list<memory_backend, leveldb_backend>;


} // namespace

BOOST_AUTO_TEST_SUITE(store_test)

BOOST_AUTO_TEST_CASE_TEMPLATE(get_of_a_missing_key_is_nullopt, B, backends) {
  B b;
  auto x = require(b.db().get("nope"));
  BOOST_CHECK(!x);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(put_increments_the_version, B, backends) {
  B b;
  auto& db = b.db();
  BOOST_CHECK_EQUAL(require(db.put("agents/a1", "one", std::nullopt)), 1u);
  BOOST_CHECK_EQUAL(require(db.put("agents/a1", "two", std::nullopt)), 2u);
  BOOST_CHECK_EQUAL(require(db.put("agents/a2", std::string("\0bin\xff", 5), std::nullopt)), 1u);
  auto e = require(db.get("agents/a1"));
  BOOST_REQUIRE(e);
  BOOST_CHECK_EQUAL(e->value, "two");
  BOOST_CHECK_EQUAL(e->version, 2u);
  auto bin = require(db.get("agents/a2"));
  BOOST_REQUIRE(bin);
  BOOST_CHECK(bin->value == std::string("\0bin\xff", 5));
  BOOST_CHECK(!db.sync());
}

BOOST_AUTO_TEST_CASE_TEMPLATE(compare_and_set, B, backends) {
  B b;
  auto& db = b.db();
  // 0 = must not exist.
  BOOST_CHECK_EQUAL(require(db.put("k", "a", 0)), 1u);
  auto exists = db.put("k", "b", 0);
  BOOST_REQUIRE(!exists);
  BOOST_CHECK(troupe::is(exists.error(), errc::version_conflict));
  BOOST_CHECK_EQUAL(troupe::error_message(exists.error()),
                    "store key 'k': expected no entry, found version 1");
  // N = must be at version N.
  BOOST_CHECK_EQUAL(require(db.put("k", "b", 1)), 2u);
  auto stale = db.put("k", "c", 1);
  BOOST_REQUIRE(!stale);
  BOOST_CHECK(troupe::is(stale.error(), errc::version_conflict));
  BOOST_CHECK_EQUAL(troupe::error_message(stale.error()),
                    "store key 'k': expected version 1, found version 2");
  auto future = db.put("k", "c", 7);
  BOOST_CHECK(!future && troupe::is(future.error(), errc::version_conflict));
  auto missing = db.put("other", "c", 1);
  BOOST_REQUIRE(!missing);
  BOOST_CHECK_EQUAL(troupe::error_message(missing.error()),
                    "store key 'other': expected version 1, found no entry");
  // Conflicts changed nothing.
  auto e = require(db.get("k"));
  BOOST_REQUIRE(e);
  BOOST_CHECK(*e == (entry{"b", 2}));
  BOOST_CHECK(!require(db.get("other")));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(erase_with_and_without_version, B, backends) {
  B b;
  auto& db = b.db();
  require(db.put("x", "1", std::nullopt));
  require(db.put("x", "2", std::nullopt));
  require(db.put("y", "1", std::nullopt));
  // Wrong version, and "must not exist" on an existing key: conflict, nothing removed.
  BOOST_CHECK(troupe::is(db.erase("x", 1), errc::version_conflict));
  BOOST_CHECK(troupe::is(db.erase("x", 0), errc::version_conflict));
  BOOST_CHECK(require(db.get("x")));
  // Right version.
  BOOST_CHECK(!db.erase("x", 2));
  BOOST_CHECK(!require(db.get("x")));
  // Unconditional.
  BOOST_CHECK(!db.erase("y", std::nullopt));
  BOOST_CHECK(!require(db.get("y")));
  // Missing key: unconditional and 0 succeed, N conflicts.
  BOOST_CHECK(!db.erase("y", std::nullopt));
  BOOST_CHECK(!db.erase("y", 0));
  BOOST_CHECK(troupe::is(db.erase("y", 1), errc::version_conflict));
  // Recreated keys start over at version 1.
  BOOST_CHECK_EQUAL(require(db.put("x", "again", 0)), 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(list_by_prefix_is_sorted, B, backends) {
  B b;
  auto& db = b.db();
  for (auto k : {"registry/agents/b", "registry/agents/a", "registry/quota/web", "registry/agent",
                 "registry/agents/a/x", "other", "registry/agents0"})
    require(db.put(k, "v", std::nullopt));
  using v = std::vector<std::string>;
  BOOST_CHECK(require(db.list("registry/agents/"))
              == (v{"registry/agents/a", "registry/agents/a/x", "registry/agents/b"}));
  BOOST_CHECK(require(db.list("registry/agent"))
              == (v{"registry/agent", "registry/agents/a", "registry/agents/a/x",
                    "registry/agents/b", "registry/agents0"}));
  BOOST_CHECK(require(db.list("")).size() == 7);
  BOOST_CHECK(require(db.list("")).front() == "other");
  BOOST_CHECK(require(db.list("zzz")).empty());
  BOOST_CHECK(require(db.list("registry/agents/b")) == (v{"registry/agents/b"}));
}

BOOST_AUTO_TEST_CASE_TEMPLATE(invalid_input_is_rejected_and_nothing_written, B, backends) {
  B b;
  auto& db = b.db();
  auto rejected = [&](caf::expected<uint64_t> x, const std::string& needle) {
    BOOST_REQUIRE(!x);
    BOOST_CHECK(troupe::is(x.error(), errc::invalid_argument));
    auto msg = troupe::error_message(x.error());
    BOOST_CHECK_MESSAGE(msg.find(needle) != std::string::npos, msg << " lacks " << needle);
  };
  rejected(db.put("", "v", std::nullopt), "store key is empty");
  rejected(db.put(std::string(troupe::runtime::max_key_size + 1, 'k'), "v", std::nullopt),
           "1025 bytes long, more than the limit of 1024");
  rejected(db.put("bad\nkey", "v", std::nullopt), "non-printable byte 10 at offset 3");
  rejected(db.put(std::string("nul\0", 4), "v", std::nullopt), "non-printable byte 0");
  rejected(db.put("del\x7f", "v", std::nullopt), "non-printable byte 127");
  rejected(db.put("k", std::string(troupe::runtime::max_value_size + 1, 'v'), std::nullopt),
           "store value is 1048577 bytes, more than the limit of 1048576");
  BOOST_CHECK(troupe::is(db.erase("", std::nullopt), errc::invalid_argument));
  BOOST_CHECK(troupe::is(db.get("a\tb").error(), errc::invalid_argument));
  BOOST_CHECK(troupe::is(db.list("a\tb").error(), errc::invalid_argument));
  BOOST_CHECK(require(db.list("")).empty());
  // The limits themselves are accepted.
  std::string longest(troupe::runtime::max_key_size, 'k');
  BOOST_CHECK_EQUAL(require(db.put(longest, std::string(troupe::runtime::max_value_size, 'v'),
                                   std::nullopt)),
                    1u);
  BOOST_CHECK_EQUAL(require(db.get(longest))->value.size(), troupe::runtime::max_value_size);
  BOOST_CHECK_EQUAL(require(db.put("printable ~ and space", "", std::nullopt)), 1u);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(commit_is_all_or_nothing_and_fenced_by_its_guard, B, backends) {
  B b;
  troupe::test::check_commit_semantics(b.db());
  b.reopen(); // and durable
  BOOST_CHECK_EQUAL(render(b.db().get("frameworks/f")), "value 'f' v1");
}

BOOST_AUTO_TEST_CASE(memory_crash_loses_exactly_the_unsynced_writes) {
  memory_store db;
  require(db.put("kept", "1", std::nullopt));
  require(db.put("changed", "1", std::nullopt));
  require(db.put("erased", "1", std::nullopt));
  BOOST_CHECK(!db.sync());
  BOOST_CHECK_EQUAL(db.unsynced(), 0u);
  require(db.put("changed", "2", std::nullopt));
  require(db.put("changed", "3", std::nullopt));
  BOOST_CHECK(!db.erase("erased", std::nullopt));
  require(db.put("new", "1", std::nullopt));
  BOOST_CHECK_EQUAL(db.unsynced(), 3u);
  db.crash();
  BOOST_CHECK(*require(db.get("kept")) == (entry{"1", 1}));
  BOOST_CHECK(*require(db.get("changed")) == (entry{"1", 1}));
  BOOST_CHECK(*require(db.get("erased")) == (entry{"1", 1}));
  BOOST_CHECK(!require(db.get("new")));
  BOOST_CHECK(require(db.list("")) == (std::vector<std::string>{"changed", "erased", "kept"}));
  // Synced writes survive the next crash.
  require(db.put("new", "2", std::nullopt));
  BOOST_CHECK(!db.sync());
  db.crash();
  BOOST_CHECK(*require(db.get("new")) == (entry{"2", 1}));
  // A crash with nothing unsynced changes nothing; versions continue after a crash.
  db.crash();
  BOOST_CHECK_EQUAL(require(db.put("changed", "x", 1)), 2u);
}

BOOST_AUTO_TEST_CASE(leveldb_reopen_sees_every_value_and_version) {
  temp_dir dir;
  auto path = dir.path + "/nested/db";
  {
    auto db = require(leveldb_store::open(path));
    BOOST_CHECK_EQUAL(db->dir(), path);
    for (int i = 0; i < 5; ++i)
      require(db->put("registry/agents/a1", "gen" + std::to_string(i), std::nullopt));
    require(db->put("registry/agents/a2", "x", 0));
    require(db->put("registry/quota/web", std::string("\0\1\2", 3), std::nullopt));
    BOOST_CHECK(!db->erase("registry/agents/a2", 1));
  }
  auto db = require(leveldb_store::open(path));
  BOOST_CHECK(*require(db->get("registry/agents/a1")) == (entry{"gen4", 5}));
  BOOST_CHECK(*require(db->get("registry/quota/web")) == (entry{std::string("\0\1\2", 3), 1}));
  BOOST_CHECK(!require(db->get("registry/agents/a2")));
  BOOST_CHECK(require(db->list(""))
              == (std::vector<std::string>{"registry/agents/a1", "registry/quota/web"}));
  BOOST_CHECK_EQUAL(require(db->put("registry/agents/a1", "gen5", 5)), 6u);
}

BOOST_AUTO_TEST_CASE(leveldb_second_open_of_the_same_dir_fails) {
  temp_dir dir;
  auto first = require(leveldb_store::open(dir.path));
  auto second = leveldb_store::open(dir.path);
  BOOST_REQUIRE(!second);
  BOOST_CHECK(troupe::is(second.error(), errc::io_error));
  auto msg = troupe::error_message(second.error());
  BOOST_TEST_MESSAGE("second open: " << msg);
  BOOST_CHECK_MESSAGE(msg.find("another store") != std::string::npos
                        && msg.find("LOCK") != std::string::npos,
                      msg);
  // Releasing the first lets a new owner in.
  first.reset();
  BOOST_CHECK(leveldb_store::open(dir.path));
}

BOOST_AUTO_TEST_CASE(random_operations_match_a_map_model) {
  constexpr int rounds = 2000;
  auto seed = troupe::test::test_seed();
  troupe::runtime::seeded_random rng{seed, "store_property"};
  memory_backend mem;
  leveldb_backend ldb;
  store_model ref;
  auto random_key = [&](bool allow_empty) {
    if (rng.chance(0.03))
      return std::string(rng.chance(0.5) ? "" : "bad\nkey");
    std::string k;
    for (auto n = rng.below(4) + (allow_empty ? 0 : 1); n > 0; --n)
      k.push_back("ab/"[rng.below(3)]);
    return k;
  };
  auto random_value = [&] {
    if (rng.chance(0.005))
      return std::string(troupe::runtime::max_value_size + 1, 'x');
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
      return i == ref.m.end() ? 0 : i->second.version; // the right one
    }
    return rng.below(4);
  };
  for (int i = 0; i < rounds; ++i) {
    std::string op, want, got_mem, got_ldb;
    auto r = rng.below(100);
    if (r < 25) {
      auto k = random_key(false);
      op = "get '" + k + "'";
      want = render(ref.get(k));
      got_mem = render(mem.db().get(k));
      got_ldb = render(ldb.db().get(k));
    } else if (r < 60) {
      auto k = random_key(false);
      auto v = random_value();
      auto ev = random_expected(k);
      op = "put '" + k + "' expected " + (ev ? std::to_string(*ev) : "-");
      want = render(ref.put(k, v, ev));
      got_mem = render(mem.db().put(k, v, ev));
      got_ldb = render(ldb.db().put(k, v, ev));
    } else if (r < 75) {
      auto k = random_key(false);
      auto ev = random_expected(k);
      op = "erase '" + k + "' expected " + (ev ? std::to_string(*ev) : "-");
      want = render(ref.erase(k, ev));
      got_mem = render(mem.db().erase(k, ev));
      got_ldb = render(ldb.db().erase(k, ev));
    } else if (r < 92) {
      auto p = random_key(true);
      op = "list '" + p + "'";
      want = render(ref.list(p));
      got_mem = render(mem.db().list(p));
      got_ldb = render(ldb.db().list(p));
    } else if (r < 97) {
      op = "sync";
      want = "ok";
      got_mem = render(mem.db().sync());
      got_ldb = render(ldb.db().sync());
    } else {
      op = "reopen";
      mem.reopen();
      ldb.reopen();
      want = got_mem = got_ldb = "ok";
    }
    BOOST_REQUIRE_MESSAGE(want == got_mem && want == got_ldb,
                          "seed " << seed << " (replay: TROUPE_SEED=" << seed
                                  << ") op " << i << ": " << op << ": model " << want
                                  << ", memory " << got_mem << ", leveldb " << got_ldb);
  }
  // Final contents agree entry by entry.
  auto keys = require(ref.list(""));
  BOOST_REQUIRE_MESSAGE(render(mem.db().list("")) == render(ref.list(""))
                          && render(ldb.db().list("")) == render(ref.list("")),
                        "seed " << seed << ": final key sets differ");
  for (auto& k : keys)
    BOOST_REQUIRE_MESSAGE(render(mem.db().get(k)) == render(ref.get(k))
                            && render(ldb.db().get(k)) == render(ref.get(k)),
                          "seed " << seed << ": final entry of '" << k << "' differs");
  BOOST_TEST_MESSAGE("store property test: seed " << seed << ", " << keys.size() << " keys");
}

BOOST_AUTO_TEST_SUITE_END()
