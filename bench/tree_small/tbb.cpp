// oneTBB: a task_group at every node of the small tree.
#include "checked_loop.hpp"
#include "thread_counts.hpp"
#include "tree_small/tree_small.hpp"
#include "tree_sum/tbb_sum.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

namespace {

using pulse_bench::tree_node;

void tree_small_tbb(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  pulse_bench::time_checked(state, "tree_small/tbb", pulse_bench::tree_small_expected_total, [&] {
    return arena.execute([root] { return pulse_bench::sum_repeatedly(root, pulse_bench::tbb_tree_sum); });
  });
}

}  // namespace

BENCHMARK(tree_small_tbb)->Name("tree_small/tbb")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
