// Serial baseline: plain recursion, summed tree_small_sums times.
#include "tree_small/tree_small.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

[[gnu::noinline]] long sum(const tree_node* node) {
  return node->left == nullptr ? node->value : node->value + sum(node->left) + sum(node->right);
}

void tree_small_serial(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  for (auto _ : state) {
    long total = 0;
    for (int i = 0; i < pulse_bench::tree_small_sums; ++i) {
      benchmark::DoNotOptimize(root);
      total += sum(root);
    }
    if (total != pulse_bench::tree_small_expected * pulse_bench::tree_small_sums) {
      throw std::logic_error("tree_small/serial: wrong result");
    }
  }
}

}  // namespace

BENCHMARK(tree_small_serial)->Name("tree_small/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
