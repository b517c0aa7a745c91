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
  pulse_bench::count_frame_pairs(state);
}

[[maybe_unused]] const bool registered = pulse_bench::register_frame_alloc("serial", frame_alloc_serial, pulse_bench::frame_alloc_timing::real);

}  // namespace
