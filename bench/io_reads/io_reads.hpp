// io_reads: cached 4 KiB random reads (issue #7). Every implementation reads the same sequence of
// 4 KiB-aligned blocks from one 64 MiB file that sits in the page cache, so what is measured is
// the cost of issuing a read and completing it (syscall, io_uring round trip, coroutine resume),
// not the disk. Each read is checked: a short or wrong read ends the benchmark with
// SkipWithError, since a fast benchmark that reads the wrong bytes is worth nothing.
//
// What an implementation uses (bench/io_reads/pread.cpp is the smallest example):
//   file_fd()               the test file, opened O_RDONLY; made on first call (throws std::system_error
//                           if it cannot be), shared by every benchmark in the process
//   reads_per_iteration     reads in one benchmark iteration (the batch an iteration times)
//   offset(i)               byte offset of read i, 0 <= i < reads_per_iteration, a multiple of block_size;
//                           the same sequence in every iteration and every implementation
//   block_buffer            a 4 KiB page-aligned buffer to read into
//   check_read(state, offset, result, block)
//                           result is what the read returned (bytes, or -errno); false, and the
//                           benchmark marked failed, unless it is exactly the block at offset
//   block_ok(offset, block) the same check without the reporting
//   set_items(state)        call after the loop: items_processed = reads, so Google Benchmark
//                           prints IOPS as items_per_second
// Names: io_reads/<implementation>[/<workers>], e.g. io_reads/pread, io_reads/pulse/1.
//
// The file: created with mkstemp in $TMPDIR (or /tmp) and unlinked at once, so it disappears when
// the process exits however it exits. Filled with a pattern (the 64-bit word at byte position p is
// mix(p)), written back with fdatasync so no writeback runs during a measurement, then read once
// in full so every page is cached. Verification sums a block's words and compares the sum with
// the one recorded when the file was written (a table of 16384 sums, 128 KiB): a block from
// another offset, a stale buffer or a partly filled one gives another sum. The sum costs a few
// tens of nanoseconds per read (the block is in L1 after the copy), against about a microsecond
// for the read itself, and every implementation pays it alike.
#pragma once

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace pulse_bench::io_reads {

inline constexpr std::size_t block_size = 4096;
inline constexpr std::size_t file_size = std::size_t{64} << 20;
inline constexpr std::size_t block_count = file_size / block_size;
inline constexpr std::size_t reads_per_iteration = 32768;
static_assert((block_count & (block_count - 1)) == 0, "offset() masks with block_count - 1");

struct alignas(block_size) block_buffer {
  std::byte bytes[block_size];
};

namespace detail {

// splitmix64's finaliser: a cheap bijection with good mixing, for the file pattern and the offsets.
constexpr std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline constexpr std::uint64_t offset_seed = 0x5eed'0000'0000'0007ULL;

inline std::uint64_t block_sum(const std::byte* block) {
  // memcpy per word: the buffer is aligned in practice, but the caller may pass any pointer.
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < block_size; i += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, block + i, sizeof word);
    sum += word;
  }
  return sum;
}

[[noreturn]] inline void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

class test_file {
 public:
  test_file() : m_sums(block_count) {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/pulse-io-reads-XXXXXX";
    m_fd = ::mkstemp(path.data());
    if (m_fd < 0) {
      fail(("io_reads: mkstemp in " + path).c_str());
    }
    ::unlink(path.c_str());  // the open descriptor keeps the data until the process exits
    try {
      fill();
      warm();
    } catch (...) {
      ::close(m_fd);
      throw;
    }
  }
  test_file(const test_file&) = delete;
  test_file& operator=(const test_file&) = delete;
  ~test_file() { ::close(m_fd); }

  int fd() const { return m_fd; }
  std::uint64_t expected_sum(std::uint64_t offset) const { return m_sums[offset / block_size]; }

 private:
  static constexpr std::size_t chunk = std::size_t{1} << 20;

  void fill() {
    auto buffer = std::make_unique<std::uint64_t[]>(chunk / sizeof(std::uint64_t));
    for (std::size_t start = 0; start < file_size; start += chunk) {
      for (std::size_t w = 0; w < chunk / sizeof(std::uint64_t); ++w) {
        buffer[w] = mix(start + w * sizeof(std::uint64_t));
      }
      for (std::size_t b = 0; b < chunk / block_size; ++b) {
        m_sums[start / block_size + b] = block_sum(reinterpret_cast<const std::byte*>(buffer.get()) + b * block_size);
      }
      write_all(reinterpret_cast<const char*>(buffer.get()), start);
    }
    if (::fdatasync(m_fd) != 0) {
      fail("io_reads: fdatasync");
    }
  }

  void write_all(const char* data, std::size_t offset) {
    std::size_t done = 0;
    while (done < chunk) {
      const ssize_t n = ::pwrite(m_fd, data + done, chunk - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        fail("io_reads: writing the test file");
      }
      done += static_cast<std::size_t>(n);
    }
  }

  // Reads everything once (pages written are cached already; this also proves the sums right).
  void warm() {
    std::vector<block_buffer> buffer(chunk / block_size);
    for (std::size_t start = 0; start < file_size; start += chunk) {
      const ssize_t n = ::pread(m_fd, buffer.data(), chunk, static_cast<off_t>(start));
      if (n != static_cast<ssize_t>(chunk)) {
        fail("io_reads: reading the test file back");
      }
      for (std::size_t b = 0; b < chunk / block_size; ++b) {
        if (block_sum(buffer[b].bytes) != m_sums[start / block_size + b]) {
          errno = EIO;
          fail("io_reads: test file reads back wrong");
        }
      }
    }
  }

  int m_fd = -1;
  std::vector<std::uint64_t> m_sums;
};

inline const test_file& the_file() {
  static const test_file file;  // thread-safe, made on first use: other benchmarks never pay for it
  return file;
}

}  // namespace detail

inline int file_fd() { return detail::the_file().fd(); }

constexpr std::uint64_t offset(std::size_t i) {
  return (detail::mix(detail::offset_seed + i) & (block_count - 1)) * block_size;
}

inline bool block_ok(std::uint64_t offset, const std::byte* block) {
  return detail::block_sum(block) == detail::the_file().expected_sum(offset);
}

inline bool check_read(benchmark::State& state, std::uint64_t offset, long result, const std::byte* block) {
  if (result < 0) {
    const std::string message = "read at offset " + std::to_string(offset) + " failed: " + std::strerror(static_cast<int>(-result));
    state.SkipWithError(message.c_str());
    return false;
  }
  if (result != static_cast<long>(block_size)) {
    const std::string message = "short read at offset " + std::to_string(offset) + ": " + std::to_string(result) + " bytes";
    state.SkipWithError(message.c_str());
    return false;
  }
  if (!block_ok(offset, block)) {
    const std::string message = "wrong bytes read at offset " + std::to_string(offset);
    state.SkipWithError(message.c_str());
    return false;
  }
  return true;
}

// file_fd() for a benchmark: the file, or -1 with the benchmark marked failed (return at once).
inline int file_fd_or_skip(benchmark::State& state) {
  try {
    return file_fd();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return -1;
  }
}

inline void set_items(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(reads_per_iteration));
}

}  // namespace pulse_bench::io_reads
