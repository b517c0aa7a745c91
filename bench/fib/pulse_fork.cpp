// pulse::fork at every call: both recursive calls are potentially parallel.
#include "fib/fib.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

pulse::task<long> fib(int n) {
  if (n < 2) {
    co_return n;
  }
  auto [a, b] = co_await pulse::fork(fib(n - 1), fib(n - 2));
  co_return a + b;
}

void fib_pulse_fork(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, fib(pulse_bench::fib_n));
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("fib/pulse_fork: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(fib_pulse_fork)
    ->Name("fib/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
