// Serial baseline: a plain loop.
#include "reduce/reduce.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

// Out of line, with the sum in a register: written in the benchmark loop, the sum went through
// DoNotOptimize, which takes its address, and clang then stored it to the stack at every element:
// 44 ms instead of 25 here, which made every implementation look faster than serial at one thread.
// An index loop, as the others read the data: clang unrolls it, where it left a range-for over the
// vector rolled (29 ms).
[[gnu::noinline]] double sum_of(const double* data, std::size_t count) {
  double total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    total += data[i];
  }
  return total;
}

void reduce_serial(benchmark::State& state) {
  const std::vector<double>& values = pulse_bench::reduce_input();
  const double expected = pulse_bench::reduce_expected();
  for (auto _ : state) {
    const double total = sum_of(values.data(), values.size());
    if (total != expected) {
      throw std::logic_error("reduce/serial: wrong result");
    }
    benchmark::DoNotOptimize(total);
  }
}

}  // namespace

BENCHMARK(reduce_serial)->Name("reduce/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
