// OpenMP: a parallel for with a reduction clause (static schedule).
#include "reduce/reduce.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

void reduce_omp(benchmark::State& state) {
  const std::vector<double>& values = pulse_bench::reduce_input();
  const double expected = pulse_bench::reduce_expected();
  const int threads = static_cast<int>(state.range(0));
  const double* data = values.data();
  const long count = static_cast<long>(values.size());
  for (auto _ : state) {
    double total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total)
    for (long i = 0; i < count; ++i) {
      total += data[i];
    }
    if (total != expected) {
      throw std::logic_error("reduce/omp: wrong result");
    }
    benchmark::DoNotOptimize(total);
  }
}

}  // namespace

BENCHMARK(reduce_omp)->Name("reduce/omp")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
