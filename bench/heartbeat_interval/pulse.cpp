// The heartbeat interval curve: fib by pcall on 2 workers at 20 us, 100 us (the default) and 1 ms.
// Shorter intervals promote more often (more parallelism offered, more overhead paid).
#include "fib/fib.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <stdexcept>

namespace {

long fib(int n) {
  if (n < 2) {
    return n;
  }
  auto [a, b] = pulse::pcall([n] { return fib(n - 1); }, [n] { return fib(n - 2); });
  return a + b;
}

pulse::task<long> on_worker(int n) { co_return fib(n); }

void heartbeat_interval_pcall(benchmark::State& state) {
  const std::chrono::microseconds interval{state.range(0)};
  pulse::runtime rt{{.workers = 2, .heartbeat = interval}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, on_worker(pulse_bench::fib_n));
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("heartbeat_interval: wrong result");
    }
  }
  state.counters["promotions_per_run"] =
      benchmark::Counter(static_cast<double>(rt.stats().promotions), benchmark::Counter::kAvgIterations);
}

}  // namespace

// The argument is the interval in microseconds (all on 2 workers).
BENCHMARK(heartbeat_interval_pcall)
    ->Name("heartbeat_interval/pcall_2_workers_us")
    ->Arg(20)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
