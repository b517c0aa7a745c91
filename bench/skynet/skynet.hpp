// skynet: a 10-ary tree of tasks with 1,000,000 leaves; leaf i returns i and each inner node sums
// its ten children, so the root returns 0 + 1 + ... + 999,999. Nearly no work per task: it
// measures spawning and joining wide forks. (github.com/atemerev/skynet)
#pragma once

namespace pulse_bench {

inline constexpr long skynet_leaves = 1'000'000;
inline constexpr int skynet_fanout = 10;
inline constexpr long skynet_expected = skynet_leaves * (skynet_leaves - 1) / 2;  // 499999500000

}  // namespace pulse_bench
