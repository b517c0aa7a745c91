// Serial baseline: plain recursive calls.
#include "fib/fib.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

[[gnu::noinline]] long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

void fib_serial(benchmark::State& state) {
  for (auto _ : state) {
    // Through DoNotOptimize: fib is pure, and clang hoists a pure call with a constant argument
    // out of the loop, timing nothing.
    int n = pulse_bench::fib_n;
    benchmark::DoNotOptimize(n);
    const long result = fib(n);
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("fib/serial: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

// Real time like every other benchmark, so that the report compares like with like (here it
// equals CPU time: the work runs on the benchmark thread).
BENCHMARK(fib_serial)->Name("fib/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
