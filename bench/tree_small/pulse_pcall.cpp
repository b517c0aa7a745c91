// pulse::pcall at every node of the small tree; all sums run inside one task on the runtime.
#include "thread_counts.hpp"
#include "tree_small/tree_small.hpp"
#include "tree_sum/pcall_sum.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

pulse::task<long> repeated_sums(const tree_node* root) {
  long total = 0;
  for (int i = 0; i < pulse_bench::tree_small_sums; ++i) {
    benchmark::DoNotOptimize(root);
    total += pulse_bench::pcall_tree_sum(root);
  }
  co_return total;
}

void tree_small_pulse_pcall(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  for (auto _ : state) {
    const long total = pulse::sync_wait(rt, repeated_sums(root));
    if (total != pulse_bench::tree_small_expected * pulse_bench::tree_small_sums) {
      throw std::logic_error("tree_small/pulse_pcall: wrong result");
    }
  }
}

}  // namespace

BENCHMARK(tree_small_pulse_pcall)
    ->Name("tree_small/pulse_pcall")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
