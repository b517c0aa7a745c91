// Serial baseline: a plain loop.
#include "reduce/reduce.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

void reduce_serial(benchmark::State& state) {
  const std::vector<double>& values = pulse_bench::reduce_input();
  const double expected = pulse_bench::reduce_expected();
  for (auto _ : state) {
    double total = 0;
    for (const double v : values) {
      total += v;
    }
    if (total != expected) {
      throw std::logic_error("reduce/serial: wrong result");
    }
    benchmark::DoNotOptimize(total);
  }
}

}  // namespace

BENCHMARK(reduce_serial)->Name("reduce/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
