// pulse::fork_all of the ten children at every inner node.
#include "checked_loop.hpp"
#include "skynet/skynet.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

using pulse_bench::skynet_fanout;

pulse::task<long> skynet(long first, long size) {
  if (size == 1) {
    co_return first;
  }
  const long child_size = size / skynet_fanout;
  std::vector<pulse::task<long>> children;
  children.reserve(skynet_fanout);
  for (int i = 0; i < skynet_fanout; ++i) {
    children.push_back(skynet(first + i * child_size, child_size));
  }
  const std::vector<long> sums = co_await pulse::fork_all(std::move(children));
  long total = 0;
  for (const long sum : sums) {
    total += sum;
  }
  co_return total;
}

void skynet_pulse_fork(benchmark::State& state) {
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  pulse_bench::time_checked(state, "skynet/pulse_fork", pulse_bench::skynet_expected, [&] { return pulse::sync_wait(rt, skynet(0, pulse_bench::skynet_leaves)); });
}

}  // namespace

BENCHMARK(skynet_pulse_fork)
    ->Name("skynet/pulse_fork")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
