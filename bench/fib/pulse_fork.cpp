// pulse::fork at every call: both recursive calls are potentially parallel. Registered twice:
// with heartbeat promotion (the default) and with promotion_mode::eager (every fork published at
// once, as classic work stealing does), the comparison point.
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

void fib_pulse_fork(benchmark::State& state, pulse::promotion_mode mode) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0)), .promotion = mode}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, fib(pulse_bench::fib_n));
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("fib/pulse_fork: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK_CAPTURE(fib_pulse_fork, heartbeat, pulse::promotion_mode::heartbeat)
    ->Name("fib/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(fib_pulse_fork, eager, pulse::promotion_mode::eager)
    ->Name("fib/pulse_fork_eager")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
