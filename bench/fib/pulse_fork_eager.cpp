// pulse::fork with promotion_mode::eager: every fork published at once, as classic work stealing
// does. The comparison point for heartbeat promotion (fib/pulse_fork).
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

void fib_pulse_fork_eager(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0)), .promotion = pulse::promotion_mode::eager}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, fib(pulse_bench::fib_n));
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("fib/pulse_fork_eager: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(fib_pulse_fork_eager)
    ->Name("fib/pulse_fork_eager")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
