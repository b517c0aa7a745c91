// Serial baseline: plain recursion over the tree.
#include "tree_sum/tree_sum.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

[[gnu::noinline]] long sum(const tree_node* node) {
  if (node->left == nullptr) {
    return node->value;
  }
  return node->value + sum(node->left) + sum(node->right);
}

void tree_sum_serial(benchmark::State& state) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  for (auto _ : state) {
    const long result = sum(&root);
    if (result != pulse_bench::tree_sum_expected) {
      throw std::logic_error("tree_sum/serial: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(tree_sum_serial)->Name("tree_sum/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
