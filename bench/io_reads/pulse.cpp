// pulse's io_reads: 32 tasks started with one fork_all, each reading its share of the blocks one
// after the other with pulse::io::read, so that (as with liburing_qd32) 32 reads are in flight at
// once. It measures the whole path a task pays: preparing the entry, the batched submit, reaping,
// and resuming the task on its worker. At 1 worker it is directly comparable with the raw loop; at
// 2 workers the tasks spread over both rings.
#include "io_reads/io_reads.hpp"
#include "thread_counts.hpp"

#include <pulse/pulse.hpp>

#include <benchmark/benchmark.h>

#include <vector>

namespace {

namespace io = pulse_bench::io_reads;

constexpr std::size_t tasks = 32;

// Reads blocks first, first + tasks, ... into `buffer`; counts the ones that came back wrong.
pulse::task<std::size_t> read_share(int fd, std::size_t first, io::block_buffer& buffer) {
  std::size_t wrong = 0;
  for (std::size_t i = first; i < io::reads_per_iteration; i += tasks) {
    const std::uint64_t offset = io::offset(i);
    const std::size_t n = co_await pulse::io::read(fd, buffer.bytes, offset);
    wrong += n == io::block_size && io::block_ok(offset, buffer.bytes) ? 0 : 1;
  }
  co_return wrong;
}

// The buffers are made once, as in the other implementations (and page-aligned: a coroutine frame
// does not honour alignas beyond the default new alignment with GCC 12).
pulse::task<std::size_t> read_all(int fd, std::vector<io::block_buffer>& buffers) {
  std::vector<pulse::task<std::size_t>> shares;
  shares.reserve(tasks);
  for (std::size_t t = 0; t < tasks; ++t) {
    shares.push_back(read_share(fd, t, buffers[t]));
  }
  const std::vector<std::size_t> wrong = co_await pulse::fork_all(std::move(shares));
  std::size_t total = 0;
  for (const std::size_t each : wrong) {
    total += each;
  }
  co_return total;
}

void io_reads_pulse(benchmark::State& state) {
  const int fd = io::file_fd_or_skip(state);
  if (fd < 0) {
    return;
  }
  pulse::runtime rt{{.workers = static_cast<unsigned>(state.range(0))}};
  std::vector<io::block_buffer> buffers(tasks);
  for (auto _ : state) {
    if (const std::size_t wrong = pulse::sync_wait(rt, read_all(fd, buffers)); wrong != 0) {
      state.SkipWithError("io_reads/pulse: a read was short or returned the wrong bytes");
      return;
    }
  }
  io::set_items(state);
}

}  // namespace

BENCHMARK(io_reads_pulse)
    ->Name("io_reads/pulse")
    ->Apply(pulse_bench::thread_counts)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
