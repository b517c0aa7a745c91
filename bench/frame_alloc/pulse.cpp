// pulse's frame pools, measured where tasks run: inside a task on a worker, so the worker's own
// pool serves it (the owner's path: a free-list pop and push, no lock, no atomic RMW). The task
// times itself; the benchmark reports that time (manual time).
#include "frame_alloc/frame_alloc.hpp"

#include <pulse/detail/frame_allocator.hpp>
#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <chrono>

namespace {

pulse::task<double> allocate_and_free_batch(std::size_t bytes) {
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < pulse_bench::frame_pairs_per_batch; ++i) {
    void* frame = pulse::detail::frame_allocate(bytes);
    benchmark::DoNotOptimize(frame);
    pulse::detail::frame_deallocate(frame, bytes);
  }
  co_return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void frame_alloc_pulse(benchmark::State& state, std::size_t bytes) {
  pulse::runtime rt{{.workers = 1}};
  for (auto _ : state) {
    state.SetIterationTime(pulse::sync_wait(rt, allocate_and_free_batch(bytes)));
  }
  pulse_bench::count_frame_pairs(state);
}

[[maybe_unused]] const bool registered = pulse_bench::register_frame_alloc("pulse", frame_alloc_pulse, pulse_bench::frame_alloc_timing::manual);

}  // namespace
