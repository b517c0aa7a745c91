// The ring of the io_reads and io_qd1 baselines, in a benchmark: worker_like_ring.hpp's, with the
// benchmark labelled by the flags it got, or marked failed where io_uring is unavailable.
#pragma once

#include "worker_like_ring.hpp"

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <cstring>
#include <string>

namespace pulse_bench::io_reads {

// Sets `ring` up with `entries` entries, labels the benchmark with the flags it got, and returns
// true; or marks the benchmark failed (io_uring disabled here: seccomp, io_uring_disabled) and
// returns false.
inline bool init_raw_ring(benchmark::State& state, io_uring& ring, unsigned entries) {
  unsigned flags = 0;
  if (const int rc = init_worker_like_ring(ring, entries, flags); rc < 0) {
    state.SkipWithError(("io_uring_queue_init: " + std::string(std::strerror(-rc))).c_str());
    return false;
  }
  state.SetLabel((flags & IORING_SETUP_DEFER_TASKRUN) != 0 ? "single_issuer|defer_taskrun" : "no setup flags");
  return true;
}

}  // namespace pulse_bench::io_reads
