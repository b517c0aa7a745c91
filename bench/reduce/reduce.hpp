// reduce: the sum of 32M doubles (256 MiB), the simplest data-parallel loop. Memory-bound: a plain
// loop is the bar to meet at one thread, and two threads can only help as far as bandwidth allows.
// The values are small integers, so every association of the sum is exact and all implementations
// must agree to the last bit.
#pragma once

#include <cstddef>
#include <vector>

namespace pulse_bench {

inline constexpr std::size_t reduce_count = std::size_t{32} << 20;

inline const std::vector<double>& reduce_input() {
  static const std::vector<double> values = [] {
    std::vector<double> v(reduce_count);
    for (std::size_t i = 0; i < reduce_count; ++i) {
      v[i] = static_cast<double>(i % 7);
    }
    return v;
  }();
  return values;
}

inline double reduce_expected() {
  double total = 0;
  for (std::size_t i = 0; i < reduce_count; ++i) {
    total += static_cast<double>(i % 7);
  }
  return total;
}

}  // namespace pulse_bench
