// oneTBB: a task_group at every node of the small tree.
#include "thread_counts.hpp"
#include "tree_small/tree_small.hpp"
#include "tree_sum/tbb_sum.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <stdexcept>

namespace {

using pulse_bench::tree_node;

void tree_small_tbb(benchmark::State& state) {
  const tree_node* root = &pulse_bench::tree_small_tree();
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    const long total = arena.execute([root] {
      long t = 0;
      for (int i = 0; i < pulse_bench::tree_small_sums; ++i) {
        t += pulse_bench::tbb_tree_sum(root);
      }
      return t;
    });
    if (total != pulse_bench::tree_small_expected * pulse_bench::tree_small_sums) {
      throw std::logic_error("tree_small/tbb: wrong result");
    }
  }
}

}  // namespace

BENCHMARK(tree_small_tbb)->Name("tree_small/tbb")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
