// pulse::parallel_reduce: serial until a heartbeat splits the remaining range; no grain size.
#include "reduce/reduce.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

pulse::task<double> total_of(const std::vector<double>& values) {
  const double* data = values.data();
  co_return co_await pulse::parallel_reduce(
      0, values.size(), 0.0, [data](std::size_t i) { return data[i]; }, [](double a, double b) { return a + b; });
}

void reduce_pulse(benchmark::State& state) {
  const std::vector<double>& values = pulse_bench::reduce_input();
  const double expected = pulse_bench::reduce_expected();
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  for (auto _ : state) {
    const double total = pulse::sync_wait(rt, total_of(values));
    if (total != expected) {
      throw std::logic_error("reduce/pulse: wrong result");
    }
    benchmark::DoNotOptimize(total);
  }
}

}  // namespace

BENCHMARK(reduce_pulse)->Name("reduce/pulse")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
