// oneTBB: a task_group per inner node running its ten children, then wait.
#include "skynet/skynet.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

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
  tbb::task_group group;
  for (int i = 0; i < skynet_fanout; ++i) {
    group.run([&sums, i, first, child_size] { sums[i] = skynet(first + i * child_size, child_size); });
  }
  group.wait();
  long total = 0;
  for (const long sum : sums) {
    total += sum;
  }
  return total;
}

void skynet_tbb(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  arena.initialize();
  for (auto _ : state) {
    const long result = arena.execute([] { return skynet(0, pulse_bench::skynet_leaves); });
    if (result != pulse_bench::skynet_expected) {
      throw std::logic_error("skynet/tbb: wrong result");
    }
    benchmark::DoNotOptimize(result);
  }
}

}  // namespace

BENCHMARK(skynet_tbb)
    ->Name("skynet/tbb")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
