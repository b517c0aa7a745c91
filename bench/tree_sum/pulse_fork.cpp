// pulse::fork of the two subtrees at every inner node, with heartbeat promotion (the default) and
// with promotion_mode::eager, the comparison point.
#include "checked_loop.hpp"
#include "thread_counts.hpp"
#include "tree_sum/tree_sum.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

using pulse_bench::tree_node;

pulse::task<long> sum(const tree_node* node) {
  if (node->left == nullptr) {
    co_return node->value;
  }
  auto [left, right] = co_await pulse::fork(sum(node->left), sum(node->right));
  co_return node->value + left + right;
}

void tree_sum_pulse_fork(benchmark::State& state, pulse::promotion_mode mode) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0)), .promotion = mode}};
  pulse_bench::time_checked(state, "tree_sum/pulse_fork", pulse_bench::tree_sum_expected, [&] { return pulse::sync_wait(rt, sum(&root)); });
}

}  // namespace

BENCHMARK_CAPTURE(tree_sum_pulse_fork, heartbeat, pulse::promotion_mode::heartbeat)
    ->Name("tree_sum/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(tree_sum_pulse_fork, eager, pulse::promotion_mode::eager)
    ->Name("tree_sum/pulse_fork_eager")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
