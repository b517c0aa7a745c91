// oneTBB: parallel_reduce with its default (auto) partitioner.
#include "reduce/reduce.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <functional>
#include <stdexcept>

namespace {

void reduce_tbb(benchmark::State& state) {
  const std::vector<double>& values = pulse_bench::reduce_input();
  const double expected = pulse_bench::reduce_expected();
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    const double total = arena.execute([&] {
      return tbb::parallel_reduce(
          tbb::blocked_range<std::size_t>(0, values.size()), 0.0,
          [&](const tbb::blocked_range<std::size_t>& range, double acc) {
            for (std::size_t i = range.begin(); i != range.end(); ++i) {
              acc += values[i];
            }
            return acc;
          },
          std::plus<double>());
    });
    if (total != expected) {
      throw std::logic_error("reduce/tbb: wrong result");
    }
    benchmark::DoNotOptimize(total);
  }
}

}  // namespace

BENCHMARK(reduce_tbb)->Name("reduce/tbb")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
