// promotion_mode::adaptive's interval rule (lib/sched/adaptive_interval.hpp), which the runtime's
// timing makes hard to pin down in a running runtime.
// Covers: a promotion dearer than 1% of the interval doubles it, one under a quarter of that halves
// it, one in between leaves it; repeated, it settles at base * 16 or base / 4 and stays; a base of
// under 4 ns still gives a positive interval. (test_heartbeat runs adaptive runtimes: exact results
// under every mode.)
#include "sched/adaptive_interval.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

namespace {

using pulse::detail::adaptive_interval;

constexpr std::int64_t base = 100'000;  // 100 us

}  // namespace

TEST_CASE("a dear promotion lengthens the interval, a cheap one shortens it, one in between holds it", "[adaptive]") {
  CHECK(adaptive_interval(base, base, 1'001) == 2 * base);  // over 1% of 100 us
  CHECK(adaptive_interval(base, base, 1'000) == base);      // exactly 1%: holds
  CHECK(adaptive_interval(base, base, 500) == base);
  CHECK(adaptive_interval(base, base, 250) == base);        // exactly a quarter of 1%: holds
  CHECK(adaptive_interval(base, base, 249) == base / 2);
  CHECK(adaptive_interval(base, base, 0) == base / 2);
}

TEST_CASE("the interval settles within [base / 4, base * 16]", "[adaptive]") {
  std::int64_t dear = base;
  std::int64_t cheap = base;
  for (int heartbeat = 0; heartbeat < 20; ++heartbeat) {
    dear = adaptive_interval(dear, base, 1'000'000);  // 1 ms per promotion
    cheap = adaptive_interval(cheap, base, 10);
    CHECK(dear <= 16 * base);
    CHECK(cheap >= base / 4);
  }
  CHECK(dear == 16 * base);
  CHECK(cheap == base / 4);
  // A promotion of 1% of 100 us at base * 16 = 1.6 ms is cheap there: the interval comes back down.
  CHECK(adaptive_interval(16 * base, base, 1'000) == 8 * base);
  CHECK(adaptive_interval(1, 1, 0) == 1);  // never zero
  CHECK(adaptive_interval(3, 3, 0) == 1);
}
