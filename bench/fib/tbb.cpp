// oneTBB: a task_group per call; one branch is run as a task, the other inline, then wait.
#include "checked_loop.hpp"
#include "fib/fib.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

namespace {

long fib(int n) {
  if (n < 2) {
    return n;
  }
  long a = 0;
  tbb::task_group group;
  group.run([&a, n] { a = fib(n - 1); });
  const long b = fib(n - 2);
  group.wait();
  return a + b;
}

void fib_tbb(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  arena.initialize();
  pulse_bench::time_checked(state, "fib/tbb", pulse_bench::fib_expected,
                            [&] { return arena.execute([&] { return fib(pulse_bench::fib_n); }); });
}

}  // namespace

BENCHMARK(fib_tbb)->Name("fib/tbb")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
