// The io_uring baselines' ring, set up as a pulse worker's would be: SINGLE_ISSUER|DEFER_TASKRUN
// when the kernel takes them (completions are then posted only when this thread enters the kernel
// to wait, the mode a pulse worker's ring runs in), plain flags otherwise. No SQPOLL: it would take
// one of two cores.
#pragma once

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace pulse_bench::io_reads {

// Sets `ring` up with `entries` entries, labels the benchmark with the flags it got, and returns
// true; or marks the benchmark failed (io_uring disabled here: seccomp, io_uring_disabled) and
// returns false.
inline bool init_raw_ring(benchmark::State& state, io_uring& ring, unsigned entries) {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int rc = io_uring_queue_init_params(entries, &ring, &params);
  if (rc == -EINVAL) {
    params = io_uring_params{};
    rc = io_uring_queue_init_params(entries, &ring, &params);
  }
  if (rc < 0) {
    state.SkipWithError(("io_uring_queue_init: " + std::string(std::strerror(-rc))).c_str());
    return false;
  }
  state.SetLabel((params.flags & IORING_SETUP_DEFER_TASKRUN) != 0 ? "single_issuer|defer_taskrun" : "no setup flags");
  return true;
}

}  // namespace pulse_bench::io_reads
