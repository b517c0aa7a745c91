// Raw liburing, 32 reads in flight: the io_uring baseline a pulse file read is measured against.
// One ring on the benchmark thread (raw_ring.hpp). The loop: fill 32 slots, then submit-and-wait,
// reap every completion, verify it and refill its slot with the next read, so 32 stay in flight
// until the iteration's batch runs out. Buffered reads of cached pages usually complete inside
// io_uring_enter, so this measures batching 32 reads per syscall more than asynchrony.
#include "io_reads/io_reads.hpp"
#include "io_reads/raw_ring.hpp"

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <array>
#include <cstring>
#include <string>

namespace {

namespace io = pulse_bench::io_reads;

constexpr unsigned queue_depth = 32;

void io_reads_liburing_qd32(benchmark::State& state) {
  const int fd = io::file_fd_or_skip(state);
  if (fd < 0) {
    return;
  }
  io_uring ring;
  if (!io::init_raw_ring(state, ring, queue_depth)) {
    return;
  }

  std::array<io::block_buffer, queue_depth> buffers;
  std::array<std::uint64_t, queue_depth> offsets{};
  unsigned in_flight = 0;
  bool failed = false;

  for (auto _ : state) {
    std::size_t next = 0;  // the next read to issue
    // The SQ has queue_depth entries and at most queue_depth reads are in flight, so a slot that
    // completed always finds an SQE.
    auto issue = [&](unsigned slot) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      offsets[slot] = io::offset(next++);
      io_uring_prep_read(sqe, fd, buffers[slot].bytes, io::block_size, offsets[slot]);
      io_uring_sqe_set_data64(sqe, slot);
      ++in_flight;
    };
    for (unsigned slot = 0; slot < queue_depth; ++slot) {
      issue(slot);
    }
    while (in_flight > 0 && !failed) {
      const int rc = io_uring_submit_and_wait(&ring, 1);
      if (rc < 0 && rc != -EINTR) {
        state.SkipWithError(("io_uring_submit_and_wait: " + std::string(std::strerror(-rc))).c_str());
        failed = true;
        break;
      }
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
        --in_flight;
        const auto slot = static_cast<unsigned>(io_uring_cqe_get_data64(cqe));
        if (!io::check_read(state, offsets[slot], cqe->res, buffers[slot].bytes)) {
          failed = true;
          break;
        }
        if (next < io::reads_per_iteration) {
          issue(slot);
        }
      }
      io_uring_cq_advance(&ring, seen);
    }
    if (failed) {
      break;
    }
  }
  // After a failure reads may still be in flight into the buffers on this frame: wait them out
  // before the frame goes (tearing the ring down does not wait for them).
  // Submit too: the refills queued before the failure may not have reached the kernel yet.
  while (in_flight > 0) {
    if (const int rc = io_uring_submit_and_wait(&ring, 1); rc < 0 && rc != -EINTR) {
      break;  // nothing more can be done; the ring is broken
    }
    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) { ++seen; }
    io_uring_cq_advance(&ring, seen);
    in_flight -= seen;
  }
  io_uring_queue_exit(&ring);
  if (!failed) {
    io::set_items(state);
  }
}

}  // namespace

BENCHMARK(io_reads_liburing_qd32)->Name("io_reads/liburing_qd32")->Unit(benchmark::kMillisecond)->UseRealTime();
