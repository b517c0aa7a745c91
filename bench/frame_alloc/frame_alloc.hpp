// frame_alloc: one coroutine frame's allocation and release, the cost every task pays on top of
// its body. 152 bytes is the frame clang 19 (the bench preset's compiler) gives fib with a two-way
// fork: the 192-byte class. frame_alloc_large: a frame above the largest class (2 KiB), as a task
// holding a 4 KiB buffer across an await has.
#pragma once

#include <cstddef>

namespace pulse_bench {

inline constexpr std::size_t frame_bytes = 152;
inline constexpr std::size_t large_frame_bytes = 4096 + 64;
inline constexpr long frame_pairs_per_batch = 1'000'000;

}  // namespace pulse_bench
