// Shared by the store tests (unit: memory and LevelDB; integration: ZooKeeper): short renderings
// of store results for exact comparisons, `require` for results that must be values, and the
// reference semantics of runtime/store/store.hpp on a plain std::map (`store_model`), against
// which the random-operation tests compare every backend.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "troupe/messages/errc.hpp"
#include "troupe/runtime/store/store.hpp"

namespace troupe::test {

inline std::string render(const caf::error& err) {
  if (!err)
    return "ok";
  return std::string{"error "} + troupe::to_string(static_cast<errc>(err.code()));
}

inline std::string render(const caf::expected<std::optional<runtime::entry>>& x) {
  if (!x)
    return render(x.error());
  if (!*x)
    return "none";
  return "value '" + (*x)->value + "' v" + std::to_string((*x)->version);
}

inline std::string render(const caf::expected<uint64_t>& x) {
  return x ? "v" + std::to_string(*x) : render(x.error());
}

inline std::string render(const caf::expected<std::vector<std::string>>& x) {
  if (!x)
    return render(x.error());
  std::string out = "[";
  for (auto& k : *x)
    out += k + ",";
  return out + "]";
}

/// The value of `x`; fails the test case (with the error's text) otherwise.
template <class T>
T require(caf::expected<T> x) {
  // error() of a valued expected is undefined: build the message only on failure.
  BOOST_REQUIRE_MESSAGE(x, "unexpected error: " << (x ? "" : troupe::error_message(x.error())));
  return std::move(*x);
}

/// The reference semantics of store.hpp on a map; `max_value` is the backend's value limit.
struct store_model {
  size_t max_value = runtime::max_value_size;
  std::map<std::string, runtime::entry> m;

  caf::expected<std::optional<runtime::entry>> get(const std::string& k) {
    if (auto err = runtime::validate_key(k))
      return err;
    auto i = m.find(k);
    return i == m.end() ? std::optional<runtime::entry>{} : std::optional<runtime::entry>{i->second};
  }

  caf::error check(const std::string& k, std::optional<uint64_t> expected) {
    auto i = m.find(k);
    uint64_t found = i == m.end() ? 0 : i->second.version;
    if (expected && *expected != found)
      return make_error(errc::version_conflict, "conflict");
    return caf::none;
  }

  caf::expected<uint64_t> put(const std::string& k, const std::string& v,
                              std::optional<uint64_t> expected) {
    if (auto err = runtime::validate_key(k))
      return err;
    if (auto err = runtime::validate_value(v))
      return err;
    if (v.size() > max_value)
      return make_error(errc::invalid_argument, "too large");
    if (auto err = check(k, expected))
      return err;
    auto& e = m[k];
    e.value = v;
    return ++e.version;
  }

  caf::error erase(const std::string& k, std::optional<uint64_t> expected) {
    if (auto err = runtime::validate_key(k))
      return err;
    if (auto err = check(k, expected))
      return err;
    m.erase(k);
    return caf::none;
  }

  caf::expected<std::vector<std::string>> list(const std::string& prefix) {
    if (auto err = runtime::validate_prefix(prefix))
      return err;
    std::vector<std::string> out;
    for (auto& [k, e] : m)
      if (k.compare(0, prefix.size(), prefix) == 0)
        out.push_back(k);
    return out;
  }
};

/// store::commit on any backend (`db` starts empty): all writes or none, and none once the
/// guard moved. Used by the unit (memory, LevelDB) and integration (ZooKeeper) store tests.
inline void check_commit_semantics(runtime::store& db) {
  using runtime::store_write;
  auto guard = require(db.put("epoch", "1", 0));
  require(db.put("agents/a", "old", std::nullopt));
  require(db.put("unreachable/a", "u", std::nullopt));
  // Every write lands: puts (new and existing keys), erases (existing and missing keys).
  BOOST_CHECK_EQUAL(render(db.commit("epoch", guard,
                                     {{"gone/a", std::string{"g"}, 0},
                                      {"agents/a", std::string{"new"}, 1},
                                      {"unreachable/a", std::nullopt, std::nullopt},
                                      {"unreachable/none", std::nullopt, std::nullopt}})),
                    "ok");
  BOOST_CHECK_EQUAL(render(db.get("gone/a")), "value 'g' v1");
  BOOST_CHECK_EQUAL(render(db.get("agents/a")), "value 'new' v2");
  BOOST_CHECK_EQUAL(render(db.get("unreachable/a")), "none");
  // A write whose expected version does not match: nothing of the commit lands.
  BOOST_CHECK_EQUAL(render(db.commit("epoch", guard,
                                     {{"frameworks/f", std::string{"f"}, std::nullopt},
                                      {"agents/a", std::string{"x"}, 1}})),
                    "error version_conflict");
  BOOST_CHECK_EQUAL(render(db.get("frameworks/f")), "none");
  // Two writes to one key in a commit: the second sees the first.
  BOOST_CHECK_EQUAL(render(db.commit("epoch", guard,
                                     {{"weights/r", std::string{"1"}, 0},
                                      {"weights/r", std::string{"2"}, 1}})),
                    "ok");
  BOOST_CHECK_EQUAL(render(db.get("weights/r")), "value '2' v2");
  // A newer writer moved the guard: the older one's commit is refused whole.
  auto newer = require(db.put("epoch", "2", guard));
  BOOST_CHECK_EQUAL(render(db.commit("epoch", guard,
                                     {{"frameworks/f", std::string{"f"}, std::nullopt},
                                      {"gone/a", std::nullopt, std::nullopt}})),
                    "error stale_epoch");
  BOOST_CHECK_EQUAL(render(db.get("frameworks/f")), "none");
  BOOST_CHECK_EQUAL(render(db.get("gone/a")), "value 'g' v1");
  BOOST_CHECK_EQUAL(render(db.commit("epoch", newer,
                                     {{"frameworks/f", std::string{"f"}, std::nullopt}})),
                    "ok");
  // Bad keys change nothing.
  BOOST_CHECK_EQUAL(render(db.commit("epoch", newer,
                                     {{"frameworks/g", std::string{"g"}, std::nullopt},
                                      {"", std::string{"x"}, std::nullopt}})),
                    "error invalid_argument");
  BOOST_CHECK_EQUAL(render(db.get("frameworks/g")), "none");
}

} // namespace troupe::test
