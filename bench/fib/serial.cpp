// Serial baseline: plain recursive calls.
#include "fib/fib.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

[[gnu::noinline]] long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

void fib_serial(benchmark::State& state) {
  for (auto _ : state) {
    const long result = fib(pulse_bench::fib_n);
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("fib_serial: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(fib_serial)->Unit(benchmark::kMillisecond);
