// oneTBB: a task_group per inner node; the left subtree as a task, the right inline, then wait.
#include "checked_loop.hpp"
#include "thread_counts.hpp"
#include "tree_sum/tbb_sum.hpp"
#include "tree_sum/tree_sum.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

namespace {

using pulse_bench::tree_node;

void tree_sum_tbb(benchmark::State& state) {
  const tree_node& root = pulse_bench::tree_sum_tree();
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  arena.initialize();
  pulse_bench::time_checked(state, "tree_sum/tbb", pulse_bench::tree_sum_expected,
                            [&] { return arena.execute([&] { return pulse_bench::tbb_tree_sum(&root); }); });
}

}  // namespace

BENCHMARK(tree_sum_tbb)
    ->Name("tree_sum/tbb")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
