// pulse::pcall of the two subtrees at every inner node: plain functions.
#include "thread_counts.hpp"
#include "tree_sum/pcall_sum.hpp"
#include "tree_sum/tree_sum.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

pulse::task<long> on_worker(const tree_node* root) { co_return pulse_bench::pcall_tree_sum(root); }

void tree_sum_pulse_pcall(benchmark::State& state) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, on_worker(&root));
    if (result != pulse_bench::tree_sum_expected) {
      throw std::logic_error("tree_sum/pulse_pcall: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(tree_sum_pulse_pcall)
    ->Name("tree_sum/pulse_pcall")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
