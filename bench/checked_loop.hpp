// The timing loop the benchmarks share: one computation per iteration, its result checked (a
// wrong answer stops the run: a fast wrong benchmark is worth nothing) and kept from the optimiser.
#pragma once

#include <benchmark/benchmark.h>

#include <stdexcept>
#include <string>

namespace pulse_bench {

template <typename Compute, typename Result>
void time_checked(benchmark::State& state, const char* name, const Result& expected, Compute&& compute) {
  for (auto _ : state) {
    const auto result = compute();
    if (result != expected) {
      throw std::logic_error(std::string(name) + ": wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace pulse_bench
