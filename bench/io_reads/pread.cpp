// Serial baseline for io_reads: one pread per block, one after the other, on the benchmark thread.
// What a thread that simply blocks achieves; every asynchronous variant is measured against it.
#include "io_reads/io_reads.hpp"

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cerrno>

namespace {

namespace io = pulse_bench::io_reads;

void io_reads_pread(benchmark::State& state) {
  const int fd = io::file_fd_or_skip(state);
  if (fd < 0) {
    return;
  }
  io::block_buffer buffer;
  for (auto _ : state) {
    for (std::size_t i = 0; i < io::reads_per_iteration; ++i) {
      const std::uint64_t offset = io::offset(i);
      const ssize_t n = ::pread(fd, buffer.bytes, io::block_size, static_cast<off_t>(offset));
      if (!io::check_read(state, offset, n < 0 ? -errno : n, buffer.bytes)) {
        return;
      }
    }
  }
  io::set_items(state);
}

}  // namespace

BENCHMARK(io_reads_pread)->Name("io_reads/pread")->Unit(benchmark::kMillisecond)->UseRealTime();
