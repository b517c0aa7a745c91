// OpenMP tasks: the left subtree as a task, the right inline, then taskwait.
#include "thread_counts.hpp"
#include "tree_sum/tree_sum.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

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
  for (auto _ : state) {
    long result = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
    result = sum(&root);
    if (result != pulse_bench::tree_sum_expected) {
      throw std::logic_error("tree_sum/omp: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(tree_sum_omp)
    ->Name("tree_sum/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
