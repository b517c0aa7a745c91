// pulse::pcall at every call: plain functions, no coroutine frame; the heartbeat decides which
// calls become parallel.
#include "fib/fib.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

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

void fib_pulse_pcall(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  for (auto _ : state) {
    const long result = pulse::sync_wait(rt, on_worker(pulse_bench::fib_n));
    if (result != pulse_bench::fib_expected) {
      throw std::logic_error("fib/pulse_pcall: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(fib_pulse_pcall)
    ->Name("fib/pulse_pcall")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
