// pulse tasks, awaited one after the other (no fork): the floor cost of a coroutine call, which
// fork-join and pcall are measured against. Serial by construction, so one worker only.
#include "checked_loop.hpp"
#include "fib/fib.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

void fib_pulse_await(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  pulse_bench::time_checked(state, "fib/pulse_await", pulse_bench::fib_expected, [&] { return pulse::sync_wait(rt, pulse_bench::awaited_fib<pulse::task<long>>(pulse_bench::fib_n)); });
}

}  // namespace

// Real time: the work runs on a worker while the benchmark thread blocks in sync_wait.
BENCHMARK(fib_pulse_await)->Name("fib/pulse_await")->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
