// The latent-work floor (tree_sum/latent_floor.hpp) on the small tree: the least a per-node pcall
// can cost over serial here, whatever the runtime.
#include "tree_small/tree_small.hpp"
#include "tree_sum/latent_floor.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

void tree_small_latent_floor(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  pulse_bench::floor_worker worker;
  for (auto _ : state) {
    long total = 0;
    for (int i = 0; i < pulse_bench::tree_small_sums; ++i) {
      benchmark::DoNotOptimize(root);
      total += pulse_bench::floor_tree_sum(worker, root);
    }
    if (total != pulse_bench::tree_small_expected * pulse_bench::tree_small_sums) {
      throw std::logic_error("tree_small/latent_floor: wrong result");
    }
  }
}

}  // namespace

BENCHMARK(tree_small_latent_floor)
    ->Name("tree_small/latent_floor")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
