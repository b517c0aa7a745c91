// tree_sum: the sum of the values of a perfect binary tree of 2^22 - 1 nodes, one recursive call
// (or fork) per node. Memory-bound where fib is call-bound: each call touches a node the others
// do not.
//
// The tree is built once per process, on the first tree_sum_tree() call (which every benchmark
// makes before its timed loop), in depth-first order in one array: a subtree is contiguous, so a
// worker that steals one walks its own stretch of memory. Node i (in that order) holds the value i.
#pragma once

#include <cstddef>
#include <vector>

namespace pulse_bench {

struct tree_node {
  long value;
  const tree_node* left;   // null in a leaf, like right: every node has two children or none
  const tree_node* right;
};

inline constexpr int tree_sum_depth = 22;
inline constexpr long tree_sum_nodes = (1L << tree_sum_depth) - 1;
inline constexpr long tree_sum_expected = tree_sum_nodes * (tree_sum_nodes - 1) / 2;  // 0 + 1 + ... + (nodes - 1)

namespace detail {

inline const tree_node* build_tree(std::vector<tree_node>& nodes, int depth) {
  tree_node& node = nodes.emplace_back(tree_node{static_cast<long>(nodes.size()), nullptr, nullptr});
  if (depth > 1) {
    node.left = build_tree(nodes, depth - 1);
    node.right = build_tree(nodes, depth - 1);
  }
  return &node;
}

}  // namespace detail

// The root. Built on first use; shared by every implementation, read-only afterwards.
inline const tree_node& tree_sum_tree() {
  static const std::vector<tree_node> nodes = [] {
    std::vector<tree_node> built;
    built.reserve(static_cast<std::size_t>(tree_sum_nodes));  // no reallocation: the pointers stay valid
    detail::build_tree(built, tree_sum_depth);
    return built;
  }();
  return nodes.front();
}

}  // namespace pulse_bench
