// A raw io_uring ring set up as a pulse worker's ring is, for the io_uring baselines (io_reads,
// io_qd1, the echo server): SINGLE_ISSUER|DEFER_TASKRUN when the kernel takes them (completions
// are then posted only when this thread enters the kernel to wait, the mode a pulse worker's ring
// runs in), plain flags otherwise. No SQPOLL: it would take one of two cores.
#pragma once

#include <liburing.h>

#include <cerrno>

namespace pulse_bench {

// io_uring_queue_init_params' result (0, or -errno: EPERM or ENOSYS where io_uring is disabled);
// `flags_used` gets the setup flags the kernel took.
inline int init_worker_like_ring(io_uring& ring, unsigned entries, unsigned& flags_used) {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int rc = io_uring_queue_init_params(entries, &ring, &params);
  if (rc == -EINVAL) {
    params = io_uring_params{};
    rc = io_uring_queue_init_params(entries, &ring, &params);
  }
  flags_used = params.flags;
  return rc;
}

}  // namespace pulse_bench
