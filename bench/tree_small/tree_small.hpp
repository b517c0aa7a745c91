// tree_small: Spice's small case. A perfect binary tree of 1023 nodes, summed again and again: each
// sum is about a microsecond of work, far below what parallelism can pay for. A runtime that
// parallelises it anyway is slower than serial; heartbeat promotion should leave it nearly serial.
#pragma once

#include "tree_sum/tree_sum.hpp"

#include <benchmark/benchmark.h>

#include <vector>

namespace pulse_bench {

inline constexpr int tree_small_depth = 10;
inline constexpr long tree_small_nodes = (1L << tree_small_depth) - 1;
inline constexpr long tree_small_expected = tree_small_nodes * (tree_small_nodes - 1) / 2;
inline constexpr int tree_small_sums = 1000;  // sums per timed iteration
inline constexpr long tree_small_expected_total = tree_small_expected * tree_small_sums;  // of one iteration

// One timed iteration: the tree summed tree_small_sums times by `sum`. The root goes through
// DoNotOptimize each time, so no sum is hoisted out of the loop.
template <typename Sum>
long sum_repeatedly(const tree_node* root, Sum&& sum) {
  long total = 0;
  for (int i = 0; i < tree_small_sums; ++i) {
    benchmark::DoNotOptimize(root);
    total += sum(root);
  }
  return total;
}

inline const tree_node& tree_small_tree() {
  static const std::vector<tree_node> nodes = [] {
    std::vector<tree_node> built;
    built.reserve(static_cast<std::size_t>(tree_small_nodes));
    detail::build_tree(built, tree_small_depth);
    return built;
  }();
  return nodes.front();
}

}  // namespace pulse_bench
