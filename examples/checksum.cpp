// checksum: file reads overlapped with hashing on all workers. Each file is cut into 1 MiB chunks,
// and each chunk is a task that reads its bytes (pulse::io::read) and hashes them; the chunks of a
// file are forked with pulse::fork_all, and so are the files. A task that waits for its read leaves
// the chunks forked after it runnable, so the reads of later chunks are in flight while the other
// worker hashes the chunks that have arrived.
//
//   pulse-checksum [--workers N] PATH...
//
// Prints `<checksum>  <size>  <path>` for every regular file named or found under a named directory
// (recursively; symbolic links to files are followed, links to directories are not), sorted by
// path; totals go to stderr. A path that does not exist or cannot be read is reported, the others
// are still summed, and the exit status is 1.
//
// The checksum, defined so that chunks can be hashed in any order and combined deterministically:
//   chunk i      = bytes [i * 2^20, min((i + 1) * 2^20, size)) of the file, for i < ceil(size / 2^20)
//   h_i          = FNV-1a 64 of chunk i
//   checksum     = FNV-1a 64 of le64(h_0) || le64(h_1) || ... || le64(h_{k-1}) || le64(size)
// where FNV-1a 64 starts from 0xcbf29ce484222325 and, for each byte b, does h = (h ^ b) * 0x100000001b3
// (mod 2^64), and le64 is the 8 bytes of a number, least significant first. It is printed as 16
// lowercase hex digits.
#include <pulse/pulse.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fcntl.h>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
// Bounds on what is in flight at once, so that a large tree neither holds its whole size in buffers
// nor runs out of descriptors: chunks of one file are forked this many at a time, and files are
// forked in groups of at most this many, with at most this many bytes of chunk buffers.
constexpr std::size_t chunks_in_flight = 64;
constexpr std::size_t files_in_flight = 64;
constexpr std::uint64_t bytes_in_flight = chunks_in_flight * chunk_bytes;

constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

std::uint64_t fnv1a(std::span<const std::byte> bytes, std::uint64_t hash = fnv_offset_basis) noexcept {
  for (const std::byte b : bytes) {
    hash = (hash ^ static_cast<std::uint64_t>(b)) * fnv_prime;
  }
  return hash;
}

std::uint64_t fnv1a_le64(std::uint64_t value, std::uint64_t hash) noexcept {
  for (int i = 0; i < 8; ++i, value >>= 8) {
    hash = (hash ^ (value & 0xff)) * fnv_prime;
  }
  return hash;
}

// A file to sum, and its size when it was listed.
using sized_path = std::pair<std::string, std::uint64_t>;

struct chunk_sum {
  std::uint64_t hash;
  std::size_t bytes;
};

struct file_sum {
  std::uint64_t checksum = 0;
  std::uint64_t size = 0;
  std::string error;  // empty: the checksum is valid
};

// Reads one chunk, looping over short reads until it is full or the file ends, and hashes it. The
// buffer is the task's own: the hashing runs wherever the read completed, while other chunks wait.
pulse::task<chunk_sum> sum_chunk(int fd, std::uint64_t offset, std::size_t length) {
  const auto buffer = std::make_unique_for_overwrite<std::byte[]>(length);
  std::size_t filled = 0;
  while (filled < length) {
    const std::size_t got = co_await pulse::io::read(fd, {buffer.get() + filled, length - filled}, offset + filled);
    if (got == 0) {
      break;  // the file is shorter than when it was opened; sum_open_file reports it
    }
    filled += got;
  }
  co_return chunk_sum{fnv1a({buffer.get(), filled}), filled};
}

pulse::task<file_sum> sum_open_file(int fd) {
  struct ::statx about {};
  co_await pulse::io::statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, about);
  if (!S_ISREG(about.stx_mode)) {
    throw std::runtime_error("not a regular file");
  }
  const std::uint64_t size = about.stx_size;
  const std::uint64_t chunks = (size + chunk_bytes - 1) / chunk_bytes;
  std::uint64_t combined = fnv_offset_basis;
  std::uint64_t total = 0;
  for (std::uint64_t first = 0; first < chunks; first += chunks_in_flight) {
    std::vector<pulse::task<chunk_sum>> reads;
    for (std::uint64_t i = first; i < std::min(chunks, first + chunks_in_flight); ++i) {
      const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes, size - i * chunk_bytes));
      reads.push_back(sum_chunk(fd, i * chunk_bytes, length));
    }
    const std::vector<chunk_sum> sums = co_await pulse::fork_all(std::move(reads));
    for (const chunk_sum& chunk : sums) {
      combined = fnv1a_le64(chunk.hash, combined);
      total += chunk.bytes;
    }
  }
  if (total != size) {
    throw std::runtime_error("the file changed size while it was read");
  }
  co_return file_sum{fnv1a_le64(size, combined), size, {}};
}

pulse::task<file_sum> sum_file(const std::string& path) {
  file_sum result;
  int fd = -1;
  try {
    fd = co_await pulse::io::openat(AT_FDCWD, path.c_str(), O_RDONLY | O_CLOEXEC);
    result = co_await sum_open_file(fd);
  } catch (const std::system_error& e) {
    result.error = e.code().message();  // "Permission denied": the operation's name is noise here
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  if (fd >= 0) {
    try {
      co_await pulse::io::close(fd);  // not in the handlers above: a catch block cannot co_await
    } catch (const std::system_error& e) {
      if (result.error.empty()) {
        result.error = e.code().message();
      }
    }
  }
  co_return result;
}

// Sums `paths` (sorted) and prints each result as soon as its group is done, so the output stays
// in order without holding a large tree's results; returns the files and bytes summed.
pulse::task<std::pair<std::uint64_t, std::uint64_t>> sum_files(const std::vector<sized_path>& paths, bool& failed) {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  for (std::size_t first = 0; first < paths.size();) {
    // A group ends at files_in_flight files or once its buffers would pass bytes_in_flight.
    std::size_t last = first;
    std::uint64_t buffered = 0;
    while (last < paths.size() && last - first < files_in_flight &&
           (last == first || buffered + std::min(paths[last].second, bytes_in_flight) <= bytes_in_flight)) {
      buffered += std::min(paths[last].second, bytes_in_flight);
      ++last;
    }
    std::vector<pulse::task<file_sum>> group;
    for (std::size_t i = first; i < last; ++i) {
      group.push_back(sum_file(paths[i].first));
    }
    const std::vector<file_sum> sums = co_await pulse::fork_all(std::move(group));
    for (std::size_t i = 0; i < sums.size(); ++i) {
      const std::string& path = paths[first + i].first;
      if (!sums[i].error.empty()) {
        std::fprintf(stderr, "pulse-checksum: %s: %s\n", path.c_str(), sums[i].error.c_str());
        failed = true;
        continue;
      }
      std::printf("%016llx  %llu  %s\n", static_cast<unsigned long long>(sums[i].checksum),
                  static_cast<unsigned long long>(sums[i].size), path.c_str());
      ++files;
      bytes += sums[i].size;
    }
    first = last;
  }
  co_return std::pair{files, bytes};
}

// Adds the regular files at or under `path` with their sizes (a hint for grouping; the size that
// counts is the one seen after opening). Reports what cannot be listed and carries on.
void collect(const fs::path& path, std::vector<sized_path>& files, bool& failed) {
  const auto report = [&](const fs::path& where, const std::error_code& error) {
    std::fprintf(stderr, "pulse-checksum: %s: %s\n", where.c_str(), error.message().c_str());
    failed = true;
  };
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error) {
    report(path, error);
  } else if (fs::is_regular_file(status)) {
    files.emplace_back(path.string(), fs::file_size(path, error));
  } else if (!fs::is_directory(status)) {
    std::fprintf(stderr, "pulse-checksum: %s: not a regular file or a directory\n", path.c_str());  // a FIFO, a device
    failed = true;
  } else {
    // directory_iterator rather than the recursive one: an unreadable subdirectory is reported
    // and skipped instead of ending the walk.
    fs::directory_iterator entry(path, error);
    if (error) {
      report(path, error);
      return;
    }
    for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
      const bool link = entry->is_symlink(error);
      const fs::file_status target = entry->status(error);  // follows a link
      if (fs::is_directory(target) && !link) {
        collect(entry->path(), files, failed);
      } else if (fs::is_regular_file(target)) {
        files.emplace_back(entry->path().string(), entry->file_size(error));
      }
      error.clear();  // a dangling link, or a file gone since the listing: not an error to report
    }
    if (error) {
      report(path, error);
    }
  }
}

constexpr const char* usage = "usage: pulse-checksum [--workers N] PATH...\n";

}  // namespace

int main(int argc, char** argv) {
  unsigned workers = 0;
  std::vector<fs::path> roots;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (options_done || !arg.starts_with("-") || arg == "-") {
      roots.emplace_back(arg);
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else if (arg == "--workers" || arg.starts_with("--workers=")) {
      std::string_view value;
      if (arg != "--workers") {
        value = arg.substr(arg.find('=') + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      }
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), workers);
      const bool whole = !value.empty() && error == std::errc{} && end == value.data() + value.size();
      if (!whole || workers == 0 || workers > 1024) {
        std::fprintf(stderr, "pulse-checksum: --workers wants a number from 1 to 1024, not '%.*s'\n%s",
                     static_cast<int>(value.size()), value.data(), usage);
        return 2;
      }
    } else {
      std::fprintf(stderr, "pulse-checksum: unknown option '%s'\n%s", argv[i], usage);
      return 2;
    }
  }
  if (roots.empty()) {
    std::fprintf(stderr, "pulse-checksum: no path given\n%s", usage);
    return 2;
  }

  try {
    pulse::runtime rt{{.workers = workers, .io = pulse::io_support::required}};
    const auto start = std::chrono::steady_clock::now();
    bool failed = false;
    std::vector<sized_path> files;
    for (const fs::path& root : roots) {
      collect(root, files, failed);
    }
    std::sort(files.begin(), files.end());
    const auto [summed, bytes] = pulse::sync_wait(rt, sum_files(files, failed));
    std::fflush(stdout);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "pulse-checksum: %llu file%s, %llu bytes in %.3f s, %.1f MB/s on %u worker%s\n",
                 static_cast<unsigned long long>(summed), summed == 1 ? "" : "s",
                 static_cast<unsigned long long>(bytes), seconds,
                 seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0.0, rt.worker_count(),
                 rt.worker_count() == 1 ? "" : "s");
    return failed ? 1 : 0;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "pulse-checksum: %s\n", e.what());  // e.g. more workers than it may start
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pulse-checksum: %s\n", e.what());
    return 1;
  }
}
