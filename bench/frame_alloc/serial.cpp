// Baseline: the global heap (glibc malloc via operator new), as frames get without pools.
#include "frame_alloc/frame_alloc.hpp"

#include <benchmark/benchmark.h>

#include <new>

namespace {

void frame_alloc_serial(benchmark::State& state) {
  for (auto _ : state) {
    for (long i = 0; i < pulse_bench::frame_pairs_per_batch; ++i) {
      void* frame = ::operator new(pulse_bench::frame_bytes);
      benchmark::DoNotOptimize(frame);
      ::operator delete(frame, pulse_bench::frame_bytes);
    }
  }
  state.counters["ns_per_pair"] = benchmark::Counter(
      static_cast<double>(state.iterations() * pulse_bench::frame_pairs_per_batch),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK(frame_alloc_serial)->Name("frame_alloc/serial")->Unit(benchmark::kMillisecond)->UseRealTime();
