// fib: the classic overhead benchmark. No cutoff, so the cost per call dominates.
#pragma once

namespace pulse_bench {

inline constexpr int fib_n = 30;
inline constexpr long fib_expected = 832040;

}  // namespace pulse_bench
