// frame_alloc: one coroutine frame's allocation and release, the cost every task pays on top of
// its body. 224 bytes is the frame g++ 12 gives fib with a two-way fork.
#pragma once

#include <cstddef>

namespace pulse_bench {

inline constexpr std::size_t frame_bytes = 224;
inline constexpr long frame_pairs_per_batch = 1'000'000;

}  // namespace pulse_bench
