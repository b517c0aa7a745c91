// The latent-work floor (latent_floor.hpp) on the big tree: what no per-node pcall can beat.
#include "checked_loop.hpp"
#include "tree_sum/latent_floor.hpp"
#include "tree_sum/tree_sum.hpp"

#include <benchmark/benchmark.h>

namespace {

void tree_sum_latent_floor(benchmark::State& state) {
  const pulse_bench::tree_node& root = pulse_bench::tree_sum_tree();
  pulse_bench::floor_worker worker;
  pulse_bench::time_checked(state, "tree_sum/latent_floor", pulse_bench::tree_sum_expected,
                            [&] { return pulse_bench::floor_tree_sum(worker, &root); });
}

}  // namespace

BENCHMARK(tree_sum_latent_floor)->Name("tree_sum/latent_floor")->Unit(benchmark::kMillisecond)->UseRealTime();
