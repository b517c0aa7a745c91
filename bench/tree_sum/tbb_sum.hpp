// The oneTBB tree sum, shared by tree_sum and tree_small: a task_group at every inner node, one
// subtree as a task and the other inline.
#pragma once

#include "tree_sum/tree_sum.hpp"

#include <tbb/task_group.h>

namespace pulse_bench {

inline long tbb_tree_sum(const tree_node* node) {
  if (node->left == nullptr) {
    return node->value;
  }
  long left = 0;
  tbb::task_group group;
  group.run([&left, node] { left = tbb_tree_sum(node->left); });
  const long right = tbb_tree_sum(node->right);
  group.wait();
  return node->value + left + right;
}

}  // namespace pulse_bench
