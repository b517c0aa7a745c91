// OpenMP tasks: ten tasks per inner node, then taskwait.
#include "checked_loop.hpp"
#include "omp_root.hpp"
#include "skynet/skynet.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

#include <array>
#include <numeric>

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
  return std::accumulate(sums.begin(), sums.end(), 0L);
}

void skynet_omp(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  pulse_bench::time_checked(state, "skynet/omp", pulse_bench::skynet_expected,
                            [&] { return pulse_bench::omp_root(threads, [&] { return skynet(0, pulse_bench::skynet_leaves); }); });
}

}  // namespace

BENCHMARK(skynet_omp)
    ->Name("skynet/omp")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
