// The pulse::pcall tree sum, shared by tree_sum and tree_small: plain functions, a pcall of the two
// subtrees at every inner node.
#pragma once

#include "tree_sum/tree_sum.hpp"

#include <pulse/pcall.hpp>

namespace pulse_bench {

inline long pcall_tree_sum(const tree_node* node) {
  if (node->left == nullptr) {
    return node->value;
  }
  auto [left, right] =
      pulse::pcall([node] { return pcall_tree_sum(node->left); }, [node] { return pcall_tree_sum(node->right); });
  return node->value + left + right;
}

}  // namespace pulse_bench
