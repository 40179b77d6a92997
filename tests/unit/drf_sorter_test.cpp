#include <boost/test/unit_test.hpp>

#include "troupe/allocator/drf_sorter.hpp"

using troupe::resources;
using troupe::allocator::drf_sorter;
using troupe::allocator::name_table;
using troupe::allocator::quantities;

namespace {

name_table names; // one table for the whole suite, as one allocator has

quantities r(const std::string& text) {
  return names.of(resources::parse(text).value());
}

} // namespace

BOOST_AUTO_TEST_SUITE(drf_sorter_test)

BOOST_AUTO_TEST_CASE(dominant_share_is_the_largest_resource_share) {
  drf_sorter s;
  s.set_total(r("cpus:10;mem:100"));
  s.add("a");
  s.add("b");
  s.allocate("a", r("cpus:1;mem:40")); // 0.1 cpu, 0.4 mem -> 0.4
  s.allocate("b", r("cpus:3;mem:10")); // 0.3, 0.1 -> 0.3
  BOOST_CHECK_CLOSE(s.share("a"), 0.4, 1e-9);
  BOOST_CHECK_CLOSE(s.share("b"), 0.3, 1e-9);
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"b", "a"}));
}

BOOST_AUTO_TEST_CASE(weights_divide_the_share) {
  drf_sorter s;
  s.set_total(r("cpus:10"));
  s.add("heavy", 2.0);
  s.add("light");
  s.allocate("heavy", r("cpus:4")); // 0.4 / 2 = 0.2
  s.allocate("light", r("cpus:3")); // 0.3
  BOOST_CHECK_CLOSE(s.share("heavy"), 0.2, 1e-9);
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"heavy", "light"}));
  s.set_weight("heavy", 1.0);
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"light", "heavy"}));
  BOOST_CHECK_THROW(s.add("bad", 0.0), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(ties_break_by_name_and_updates_reorder) {
  drf_sorter s;
  s.set_total(r("cpus:4;mem:400"));
  for (auto name : {"c", "a", "b"})
    s.add(name);
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"a", "b", "c"}));
  s.allocate("a", r("cpus:1"));
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"b", "c", "a"}));
  s.unallocate("a", r("cpus:1"));
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"a", "b", "c"}));
  s.unallocate("a", r("cpus:1")); // never below zero
  BOOST_CHECK_EQUAL(s.share("a"), 0.0);
  s.remove("b");
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"a", "c"}));
  BOOST_CHECK_EQUAL(s.share("b"), 0.0);
}

BOOST_AUTO_TEST_CASE(reservations_count_like_unreserved_resources) {
  drf_sorter s;
  s.set_total(r("cpus:2;cpus(web):2"));
  s.add("web");
  s.allocate("web", r("cpus(web):2"));
  BOOST_CHECK_CLOSE(s.share("web"), 0.5, 1e-9);
  BOOST_CHECK_EQUAL(s.allocation("web").get(names.find("cpus")), 2000);
}

BOOST_AUTO_TEST_CASE(inactive_clients_keep_their_share_but_are_not_walked) {
  drf_sorter s;
  s.set_total(r("cpus:10"));
  s.add("a", 1.0, 7);
  s.add("b", 1.0, 8);
  s.allocate("a", r("cpus:1"));
  s.set_active("b", false);
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"a"}));
  BOOST_CHECK_EQUAL(s.active(), 1u);
  s.allocate("b", r("cpus:4"));
  BOOST_CHECK_CLOSE(s.share("b"), 0.4, 1e-9);
  s.set_active("b", true);
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"a", "b"}));
  uintptr_t seen = 0;
  s.find_first([&](const std::string&, uintptr_t tag) {
    seen = tag;
    return true;
  });
  BOOST_CHECK_EQUAL(seen, 7u);
  auto h = s.find("b");
  BOOST_REQUIRE(h != nullptr);
  s.unallocate(h, r("cpus:4"));
  BOOST_CHECK((s.sorted() == std::vector<std::string>{"b", "a"}));
}

BOOST_AUTO_TEST_CASE(a_new_total_rescales_every_share) {
  drf_sorter s;
  s.set_total(r("cpus:10"));
  s.add("a");
  s.allocate("a", r("cpus:5"));
  BOOST_CHECK_CLOSE(s.share("a"), 0.5, 1e-9);
  s.set_total(r("cpus:20"));
  BOOST_CHECK_CLOSE(s.share("a"), 0.25, 1e-9);
}

BOOST_AUTO_TEST_SUITE_END()
