// Serial baseline: plain recursion.
#include "skynet/skynet.hpp"

#include <benchmark/benchmark.h>

#include <stdexcept>

namespace {

using pulse_bench::skynet_fanout;

// The sum of the leaf ids first .. first + size - 1.
[[gnu::noinline]] long skynet(long first, long size) {
  if (size == 1) {
    return first;
  }
  const long child_size = size / skynet_fanout;
  long total = 0;
  for (int i = 0; i < skynet_fanout; ++i) {
    total += skynet(first + i * child_size, child_size);
  }
  return total;
}

void skynet_serial(benchmark::State& state) {
  long leaves = pulse_bench::skynet_leaves;
  // Opaque to the optimiser: with a constant argument g++ folds the whole recursion away.
  benchmark::DoNotOptimize(leaves);
  for (auto _ : state) {
    const long result = skynet(0, leaves);
    if (result != pulse_bench::skynet_expected) {
      throw std::logic_error("skynet/serial: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(skynet_serial)->Name("skynet/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
