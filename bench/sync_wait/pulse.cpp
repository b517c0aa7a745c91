// sync_wait round trip: hand a trivial task to a worker and block until it is done. The cost of
// entering the runtime from outside (queue, wake-up, completion event).
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

pulse::task<int> trivial(int x) { co_return x + 1; }

void sync_wait_round_trip(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  int x = 0;
  for (auto _ : state) {
    x = pulse::sync_wait(rt, trivial(x));
  }
  benchmark::DoNotOptimize(x);
}

}  // namespace

BENCHMARK(sync_wait_round_trip)
    ->Name("sync_wait/pulse")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
