// OpenMP tasks: ten tasks per inner node, then taskwait.
#include "skynet/skynet.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <stdexcept>

namespace {

using pulse_bench::skynet_fanout;

long skynet(long first, long size) {
  if (size == 1) {
    return first;
  }
  const long child_size = size / skynet_fanout;
  std::array<long, skynet_fanout> sums{};
  for (int i = 0; i < skynet_fanout; ++i) {
#pragma omp task shared(sums)
    sums[i] = skynet(first + i * child_size, child_size);
  }
#pragma omp taskwait
  long total = 0;
  for (const long sum : sums) {
    total += sum;
  }
  return total;
}

void skynet_omp(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    long result = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
    result = skynet(0, pulse_bench::skynet_leaves);
    if (result != pulse_bench::skynet_expected) {
      throw std::logic_error("skynet/omp: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(skynet_omp)
    ->Name("skynet/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
