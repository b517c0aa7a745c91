// frame_alloc: one coroutine frame's allocation and release, the cost every task pays on top of
// its body. 152 bytes is the frame clang 19 (the bench preset's compiler) gives fib with a two-way
// fork: the 192-byte class. frame_alloc_large: a frame above the largest class (2 KiB), as a task
// holding a 4 KiB buffer across an await has.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <utility>

namespace pulse_bench {

inline constexpr std::size_t frame_bytes = 152;
inline constexpr std::size_t large_frame_bytes = 4096 + 64;
inline constexpr long frame_pairs_per_batch = 1'000'000;

// The rate both implementations report: nanoseconds per allocate/free pair.
inline void count_frame_pairs(benchmark::State& state) {
  state.counters["ns_per_pair"] =
      benchmark::Counter(static_cast<double>(state.iterations() * frame_pairs_per_batch),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

enum class frame_alloc_timing { real, manual };

// Registers `run` at both frame sizes, as frame_alloc/<implementation> and
// frame_alloc_large/<implementation>. Returns true, for a namespace-scope initialiser.
inline bool register_frame_alloc(const char* implementation, void (*run)(benchmark::State&, std::size_t),
                                 frame_alloc_timing timing) {
  for (const auto& [workload, bytes] : {std::pair{"frame_alloc/", frame_bytes}, std::pair{"frame_alloc_large/", large_frame_bytes}}) {
    benchmark::internal::Benchmark* const registered =
        benchmark::RegisterBenchmark((std::string(workload) + implementation).c_str(), run, bytes)->Unit(benchmark::kMillisecond);
    timing == frame_alloc_timing::manual ? registered->UseManualTime() : registered->UseRealTime();
  }
  return true;
}

}  // namespace pulse_bench
