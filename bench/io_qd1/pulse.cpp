// pulse's io_qd1: one task reading the io_reads blocks one after the other with pulse::io::read, on
// a 1-worker runtime. Each read is the whole round trip a lone task pays: preparing the entry,
// suspending, the worker's idle path and its sleep in the ring (which submits, waits and reaps in
// one io_uring_enter), and resuming the task. Comparable with io_qd1/liburing, which does only the
// system call.
#include "io_reads/io_reads.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

namespace {

namespace io = pulse_bench::io_reads;

// The number of reads that came back short or wrong.
pulse::task<std::size_t> read_one_at_a_time(int fd, io::block_buffer& buffer) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < io::reads_per_iteration; ++i) {
    const std::uint64_t offset = io::offset(i);
    const std::size_t n = co_await pulse::io::read(fd, buffer.bytes, offset);
    wrong += n == io::block_size && io::block_ok(offset, buffer.bytes) ? 0 : 1;
  }
  co_return wrong;
}

void io_qd1_pulse(benchmark::State& state) {
  const int fd = io::file_fd_or_skip(state);
  if (fd < 0) {
    return;
  }
  pulse::runtime rt{{.workers = 1}};
  io::block_buffer buffer;
  for (auto _ : state) {
    if (pulse::sync_wait(rt, read_one_at_a_time(fd, buffer)) != 0) {
      state.SkipWithError("io_qd1/pulse: a read was short or returned the wrong bytes");
      return;
    }
  }
  io::set_items(state);
}

}  // namespace

BENCHMARK(io_qd1_pulse)->Name("io_qd1/pulse/1")->Unit(benchmark::kMillisecond)->UseRealTime();
