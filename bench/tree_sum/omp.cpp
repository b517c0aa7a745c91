// OpenMP tasks: the left subtree as a task, the right inline, then taskwait.
#include "checked_loop.hpp"
#include "omp_root.hpp"
#include "thread_counts.hpp"
#include "tree_sum/tree_sum.hpp"

#include <benchmark/benchmark.h>

namespace {

using pulse_bench::tree_node;

long sum(const tree_node* node) {
  if (node->left == nullptr) {
    return node->value;
  }
  long left = 0;
#pragma omp task shared(left)
  left = sum(node->left);
  const long right = sum(node->right);
#pragma omp taskwait
  return node->value + left + right;
}

void tree_sum_omp(benchmark::State& state) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  const int threads = static_cast<int>(state.range(0));
  pulse_bench::time_checked(state, "tree_sum/omp", pulse_bench::tree_sum_expected,
                            [&] { return pulse_bench::omp_root(threads, [&] { return sum(&root); }); });
}

}  // namespace

BENCHMARK(tree_sum_omp)
    ->Name("tree_sum/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
