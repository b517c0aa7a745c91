// pulse::fork with promotion_mode::eager (every fork published at once), against heartbeat (pulse_fork).
#include "thread_counts.hpp"
#include "tree_sum/tree_sum.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

pulse::task<long> sum(const tree_node* node) {
  if (node->left == nullptr) {
    co_return node->value;
  }
  auto [left, right] = co_await pulse::fork(sum(node->left), sum(node->right));
  co_return node->value + left + right;
}

void tree_sum_pulse_fork_eager(benchmark::State& state) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0)), .promotion = pulse::promotion_mode::eager}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, sum(&root));
    if (result != pulse_bench::tree_sum_expected) {
      throw std::logic_error("tree_sum/pulse_fork_eager: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(tree_sum_pulse_fork_eager)
    ->Name("tree_sum/pulse_fork_eager")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
