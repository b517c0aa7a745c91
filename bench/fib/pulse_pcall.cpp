// pulse::pcall at every call: plain functions, no coroutine frame; the heartbeat decides which
// calls become parallel. Also the heartbeat interval curve: the same on 2 workers at 20 us, 100 us
// (the default) and 1 ms; shorter intervals offer more parallelism and pay more overhead. And the
// same with a trace running.
#include "checked_loop.hpp"
#include "fib/fib.hpp"
#include "thread_counts.hpp"
#include "traced.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <chrono>

namespace {

long fib(int n) {
  if (n < 2) {
    return n;
  }
  auto [a, b] = pulse::pcall([n] { return fib(n - 1); }, [n] { return fib(n - 2); });
  return a + b;
}

pulse::task<long> on_worker(int n) { co_return fib(n); }

void run_fib(benchmark::State& state, pulse::runtime& rt) {
  pulse_bench::time_checked(state, "fib/pulse_pcall", pulse_bench::fib_expected, [&] { return pulse::sync_wait(rt, on_worker(pulse_bench::fib_n)); });
  state.counters["promotions_per_run"] =
      benchmark::Counter(static_cast<double>(rt.stats().promotions), benchmark::Counter::kAvgIterations);
}

void fib_pulse_pcall(benchmark::State& state, bool traced) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  const pulse_bench::trace_while_alive trace(rt, traced);
  run_fib(state, rt);
}

// The argument is the interval in microseconds.
void fib_pulse_pcall_interval(benchmark::State& state) {
  pulse::runtime rt{{.workers = 2, .heartbeat = std::chrono::microseconds{state.range(0)}}};
  run_fib(state, rt);
}

}  // namespace

BENCHMARK_CAPTURE(fib_pulse_pcall, untraced, false)
    ->Name("fib/pulse_pcall")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(fib_pulse_pcall, traced, true)
    ->Name("fib/pulse_pcall_traced")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(fib_pulse_pcall_interval)
    ->Name("heartbeat_interval/pcall_2_workers_us")
    ->Arg(20)
    ->Arg(100)
    ->Arg(1000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
