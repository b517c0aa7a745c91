// pulse::pcall at every node of the small tree; all sums run inside one task on the runtime.
#include "checked_loop.hpp"
#include "thread_counts.hpp"
#include "tree_small/tree_small.hpp"
#include "tree_sum/pcall_sum.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

using pulse_bench::tree_node;

pulse::task<long> repeated_sums(const tree_node* root) {
  co_return pulse_bench::sum_repeatedly(root, pulse_bench::pcall_tree_sum);
}

void tree_small_pulse_pcall(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  pulse_bench::time_checked(state, "tree_small/pulse_pcall", pulse_bench::tree_small_expected_total,
                            [&] { return pulse::sync_wait(rt, repeated_sums(root)); });
}

}  // namespace

BENCHMARK(tree_small_pulse_pcall)
    ->Name("tree_small/pulse_pcall")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
