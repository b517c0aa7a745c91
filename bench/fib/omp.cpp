// OpenMP tasks: one branch as a task, the other inline, then taskwait; one thread of the team
// starts the recursion (parallel + single) and the others execute tasks.
#include "checked_loop.hpp"
#include "fib/fib.hpp"
#include "omp_root.hpp"
#include "thread_counts.hpp"

#include <benchmark/benchmark.h>

namespace {

long fib(int n) {
  if (n < 2) {
    return n;
  }
  long a = 0;
#pragma omp task shared(a)
  a = fib(n - 1);
  const long b = fib(n - 2);
#pragma omp taskwait
  return a + b;
}

void fib_omp(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  pulse_bench::time_checked(state, "fib/omp", pulse_bench::fib_expected,
                            [&] { return pulse_bench::omp_root(threads, [&] { return fib(pulse_bench::fib_n); }); });
}

}  // namespace

BENCHMARK(fib_omp)->Name("fib/omp")->Apply(pulse_bench::thread_counts)->Unit(benchmark::kMillisecond)->UseRealTime();
