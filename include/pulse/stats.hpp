// pulse::stats: what a runtime's scheduler has done, per worker and summed.
//
// Each worker keeps its own counters, bumped by itself alone with relaxed loads and stores (no
// read-modify-write, nothing shared on the paths that count), and runtime::stats() reads them
// without stopping anyone: a snapshot taken while tasks run is approximate, one taken when the
// runtime is quiet (after sync_wait returns, say) is exact for the counts. Times include the
// stretch of busy or idle time each worker is in when the snapshot is taken.
//
// Printing: pulse::to_string(stats) gives a table, one row per worker and a total; with fmt,
// include <pulse/fmt.hpp>. PULSE_STATS=1 prints it to stderr as each runtime is destroyed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace pulse {

struct worker_stats {
  // Scheduling.
  std::uint64_t tasks_run = 0;  // items a worker loop ran: roots, stolen continuations, promoted calls and halves
  std::uint64_t forks = 0;      // branches made potentially parallel: k - 1 per fork or pcall of k, 1 per loop split
  std::uint64_t heartbeats = 0;         // heartbeats that fell due on a busy worker, or an idle thief asked for
  std::uint64_t promotions = 0;         // latent entries made stealable
  std::uint64_t heartbeat_signals = 0;  // SIGURG nudges this worker received for a long frame, or for held I/O
  std::uint64_t steal_attempts = 0;     // deques looked into
  std::uint64_t steals = 0;             // attempts that took an entry
  std::uint64_t steal_failures = 0;     // attempts that found the deque empty or lost the race for it
  // Idling.
  std::uint64_t parks = 0;    // times the worker went to sleep
  std::uint64_t wakeups = 0;  // sleeps ended by another thread with work (the rest timed out)
  std::chrono::nanoseconds idle_time{0};       // searching for work and asleep
  std::chrono::nanoseconds busy_time{0};       // running tasks, promotion included
  std::chrono::nanoseconds promotion_time{0};  // promoting at heartbeats: the scheduling overhead
  // Frame memory (this worker's pool).
  std::uint64_t frames_allocated = 0;
  std::uint64_t frames_reused = 0;        // of those, taken from a free list rather than fresh memory
  std::uint64_t frames_remote_freed = 0;  // freed into this pool by other threads
  std::uint64_t frames_off_node = 0;      // freed by this worker, living on another NUMA node
  // I/O (this worker's io_uring ring).
  std::uint64_t io_operations = 0;    // operations submitted (a multishot one counts once)
  std::uint64_t io_completions = 0;   // of those, completed
  std::uint64_t io_in_flight = 0;     // submitted and not completed when the snapshot was taken
  std::uint64_t io_submit_calls = 0;  // system calls that submitted a batch, or slept in the ring
  std::uint64_t io_handed_over = 0;   // tasks of this worker's completions handed to a less loaded worker
  std::uint64_t io_signal_submits = 0;  // submissions a SIGURG nudge made: a long task held operations back

  // Time on the program's own work per unit of promotion overhead (the heartbeat paper's ratio,
  // which the heartbeat keeps high); infinite when nothing was promoted.
  double work_overhead_ratio() const noexcept;

  worker_stats& operator+=(const worker_stats& other) noexcept;
};

// The total over the workers, and each worker's own counters.
struct stats : worker_stats {
  std::vector<worker_stats> workers;
};

// A table: one row per worker and a total row.
std::string to_string(const stats& snapshot);

}  // namespace pulse
