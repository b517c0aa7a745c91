// pulse::stats: what a runtime's scheduler has done, summed over its workers.
// Counters are kept per worker with plain (relaxed) stores on the worker's own cache line, and
// read here without stopping anyone, so a snapshot taken while tasks run is approximate.
#pragma once

#include <chrono>
#include <cstdint>

namespace pulse {

struct stats {
  std::uint64_t heartbeats = 0;       // heartbeats that fell due on a busy worker
  std::uint64_t promotions = 0;       // latent entries made stealable
  std::uint64_t steals = 0;           // entries taken from another worker's deque
  std::uint64_t heartbeat_signals = 0;  // SIGURG nudges sent to workers stuck in a long frame
  std::chrono::nanoseconds promotion_time{0};  // time spent promoting: the overhead
};

}  // namespace pulse
