// Baseline: the global heap (glibc malloc via operator new), as frames get without pools.
#include "frame_alloc/frame_alloc.hpp"

#include <benchmark/benchmark.h>

#include <new>

namespace {

void frame_alloc_serial(benchmark::State& state, std::size_t bytes) {
  for (auto _ : state) {
    for (long i = 0; i < pulse_bench::frame_pairs_per_batch; ++i) {
      void* frame = ::operator new(bytes);
      benchmark::DoNotOptimize(frame);
      ::operator delete(frame, bytes);
    }
  }
  state.counters["ns_per_pair"] = benchmark::Counter(
      static_cast<double>(state.iterations() * pulse_bench::frame_pairs_per_batch),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK_CAPTURE(frame_alloc_serial, pooled, pulse_bench::frame_bytes)
    ->Name("frame_alloc/serial")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(frame_alloc_serial, large, pulse_bench::large_frame_bytes)
    ->Name("frame_alloc_large/serial")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
