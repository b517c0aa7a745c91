// promotion_mode::adaptive's rule: after each heartbeat that promoted, the interval to the next one
// moves so that promotion costs stay near adaptive_overhead_percent of the interval. It doubles when
// the last promotion cost more than that share, halves when it cost under a quarter of it, and
// otherwise holds (the band keeps it from flapping); it never leaves [base / 4, base * 16], base
// being runtime_options::heartbeat. Cheap promotions thus buy a shorter interval (parallelism
// found sooner), dear ones a longer interval (fewer of them).
#pragma once

#include <algorithm>
#include <cstdint>

namespace pulse::detail {

inline constexpr std::int64_t adaptive_overhead_percent = 1;

constexpr std::int64_t adaptive_interval(std::int64_t interval_ns, std::int64_t base_ns,
                                         std::int64_t promotion_cost_ns) noexcept {
  if (promotion_cost_ns * 100 > interval_ns * adaptive_overhead_percent) {
    return std::min(interval_ns * 2, base_ns * 16);
  }
  if (promotion_cost_ns * 400 < interval_ns * adaptive_overhead_percent) {
    return std::max(interval_ns / 2, std::max<std::int64_t>(base_ns / 4, 1));
  }
  return interval_ns;
}

}  // namespace pulse::detail
