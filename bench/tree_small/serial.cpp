// Serial baseline: plain recursion, summed tree_small_sums times.
#include "checked_loop.hpp"
#include "tree_small/tree_small.hpp"

#include <benchmark/benchmark.h>

namespace {

using pulse_bench::tree_node;

[[gnu::noinline]] long sum(const tree_node* node) {
  return node->left == nullptr ? node->value : node->value + sum(node->left) + sum(node->right);
}

void tree_small_serial(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  pulse_bench::time_checked(state, "tree_small/serial", pulse_bench::tree_small_expected_total,
                            [&] { return pulse_bench::sum_repeatedly(root, sum); });
}

}  // namespace

BENCHMARK(tree_small_serial)->Name("tree_small/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
