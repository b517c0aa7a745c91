// oneTBB: a task_group per inner node running its ten children, then wait.
#include "checked_loop.hpp"
#include "skynet/skynet.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

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
  tbb::task_group group;
  for (int i = 0; i < skynet_fanout; ++i) {
    group.run([&sums, i, first, child_size] { sums[i] = skynet(first + i * child_size, child_size); });
  }
  group.wait();
  return std::accumulate(sums.begin(), sums.end(), 0L);
}

void skynet_tbb(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  arena.initialize();
  pulse_bench::time_checked(state, "skynet/tbb", pulse_bench::skynet_expected,
                            [&] { return arena.execute([&] { return skynet(0, pulse_bench::skynet_leaves); }); });
}

}  // namespace

BENCHMARK(skynet_tbb)
    ->Name("skynet/tbb")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
