// pulse::pcall of the two subtrees at every inner node: plain functions.
#include "checked_loop.hpp"
#include "thread_counts.hpp"
#include "tree_sum/pcall_sum.hpp"
#include "tree_sum/tree_sum.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

using pulse_bench::tree_node;

pulse::task<long> on_worker(const tree_node* root) { co_return pulse_bench::pcall_tree_sum(root); }

void tree_sum_pulse_pcall(benchmark::State& state) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  pulse_bench::time_checked(state, "tree_sum/pulse_pcall", pulse_bench::tree_sum_expected, [&] { return pulse::sync_wait(rt, on_worker(&root)); });
}

}  // namespace

BENCHMARK(tree_sum_pulse_pcall)
    ->Name("tree_sum/pulse_pcall")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
