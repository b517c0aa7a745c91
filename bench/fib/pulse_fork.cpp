// pulse::fork at every call: both recursive calls are potentially parallel. Registered three times:
// with heartbeat promotion (the default), with promotion_mode::eager (every fork published at
// once, as classic work stealing does), the comparison point, and with a trace running.
#include "checked_loop.hpp"
#include "fib/fib.hpp"
#include "thread_counts.hpp"
#include "traced.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

pulse::task<long> fib(int n) {
  if (n < 2) {
    co_return n;
  }
  auto [a, b] = co_await pulse::fork(fib(n - 1), fib(n - 2));
  co_return a + b;
}

void fib_pulse_fork(benchmark::State& state, pulse::promotion_mode mode, bool traced) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0)), .promotion = mode}};
  const pulse_bench::trace_while_alive trace(rt, traced);
  pulse_bench::time_checked(state, "fib/pulse_fork", pulse_bench::fib_expected, [&] { return pulse::sync_wait(rt, fib(pulse_bench::fib_n)); });
}

}  // namespace

BENCHMARK_CAPTURE(fib_pulse_fork, heartbeat, pulse::promotion_mode::heartbeat, false)
    ->Name("fib/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(fib_pulse_fork, eager, pulse::promotion_mode::eager, false)
    ->Name("fib/pulse_fork_eager")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(fib_pulse_fork, traced, pulse::promotion_mode::heartbeat, true)
    ->Name("fib/pulse_fork_traced")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
