// The thread counts every parallel implementation is registered at, in one place so that a bigger
// machine needs one edit:
//
//   BENCHMARK(fib_pulse_fork)->Name("fib/pulse_fork")->Apply(pulse_bench::thread_counts)...
//
// The argument is the thread count (pulse workers, task_arena concurrency, OpenMP num_threads), so
// Google Benchmark names the runs "<workload>/<implementation>/<threads>", which
// scripts/bench-report parses.
#pragma once

#include <benchmark/benchmark.h>

namespace pulse_bench {

inline void thread_counts(benchmark::internal::Benchmark* bench) { bench->Arg(1)->Arg(2); }

}  // namespace pulse_bench
