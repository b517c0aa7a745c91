// Raw liburing, one read in flight: the round trip a single task's read is measured against (a
// server's lone connection, a file read block by block). Each read is prepared, submitted and
// waited for with one io_uring_enter, then verified. The same file, offsets and checks as io_reads.
#include "io_reads/io_reads.hpp"
#include "io_reads/raw_ring.hpp"

#include <benchmark/benchmark.h>
#include <liburing.h>

#include <cstring>
#include <string>

namespace {

namespace io = pulse_bench::io_reads;

void io_qd1_liburing(benchmark::State& state) {
  const int fd = io::file_fd_or_skip(state);
  if (fd < 0) {
    return;
  }
  io_uring ring;
  if (!io::init_raw_ring(state, ring, 4)) {
    return;
  }
  io::block_buffer buffer;
  for (auto _ : state) {
    for (std::size_t i = 0; i < io::reads_per_iteration; ++i) {
      const std::uint64_t offset = io::offset(i);
      io_uring_sqe* const sqe = io_uring_get_sqe(&ring);  // one in flight: never full
      io_uring_prep_read(sqe, fd, buffer.bytes, io::block_size, offset);
      io_uring_cqe* cqe = nullptr;
      int rc = io_uring_submit_and_wait(&ring, 1);
      while (rc == -EINTR) {
        rc = io_uring_wait_cqe(&ring, &cqe);  // submitted already: only wait again
      }
      if (rc >= 0) {
        rc = io_uring_peek_cqe(&ring, &cqe);
      }
      if (rc < 0) {
        state.SkipWithError(("io_uring_submit_and_wait: " + std::string(std::strerror(-rc))).c_str());
        io_uring_queue_exit(&ring);
        return;
      }
      const int result = cqe->res;
      io_uring_cqe_seen(&ring, cqe);
      if (!io::check_read(state, offset, result, buffer.bytes)) {
        io_uring_queue_exit(&ring);
        return;
      }
    }
  }
  io_uring_queue_exit(&ring);
  io::set_items(state);
}

}  // namespace

BENCHMARK(io_qd1_liburing)->Name("io_qd1/liburing")->Unit(benchmark::kMillisecond)->UseRealTime();
