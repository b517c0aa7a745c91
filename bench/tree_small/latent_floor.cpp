// The latent-work floor (tree_sum/latent_floor.hpp) on the small tree: the least a per-node pcall
// can cost over serial here, whatever the runtime.
#include "checked_loop.hpp"
#include "tree_small/tree_small.hpp"
#include "tree_sum/latent_floor.hpp"

#include <benchmark/benchmark.h>

namespace {

using pulse_bench::tree_node;

void tree_small_latent_floor(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  pulse_bench::floor_worker worker;
  pulse_bench::time_checked(state, "tree_small/latent_floor", pulse_bench::tree_small_expected_total, [&] {
    return pulse_bench::sum_repeatedly(root, [&](const tree_node* tree) { return pulse_bench::floor_tree_sum(worker, tree); });
  });
}

}  // namespace

BENCHMARK(tree_small_latent_floor)
    ->Name("tree_small/latent_floor")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
