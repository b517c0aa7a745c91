// fib: the classic overhead benchmark. No cutoff, so the cost per call (and per fork) dominates.
#pragma once

namespace pulse_bench {

inline constexpr int fib_n = 35;
inline constexpr long fib_expected = 9227465;

}  // namespace pulse_bench
