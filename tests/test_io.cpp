// File I/O, timers and the rings behind them (include/pulse/io.hpp, lib/io/ring.hpp).
// Covers: every file operation (read, write, readv, writev, fsync, fdatasync, openat, close, statx)
// against a temporary file, with its result checked; a short read returned as such and 0 at the
// end; the error paths (EBADF, ENOENT) as std::system_error with the errno and the operation's
// name; I/O outside a worker is a logic_error; sleep_for and sleep_until wait at least as long as
// asked, and timers complete in deadline order; a span too long for nanoseconds (seconds::max())
// saturates rather than expiring at once; a linked timeout that fires (ETIMEDOUT) and one
// that does not; 32 tasks from one fork_all on one worker have 32 reads in flight at once (latent
// forks are not held up by a task suspended on I/O); forks after an I/O wait still spread over the
// workers; tasks that only do I/O, all started on one worker, end up spread over both (the
// hand-over of completions to a less loaded worker, counted and traced), and tasks handed to a
// sleeping worker run while a third worker searches (a hang before); a tiny ring (4 entries) with 2000 operations at once (full submission queue, completion
// overflow) loses none; a task resumed by I/O nested in a pcall's wait, whose forks leave work
// behind, does not disturb the waiting frames (a hang before the fix); the I/O counters in stats; runtime_options::io and io_ring_entries are
// validated, and io_support::disabled makes I/O a clear error while tasks still run; a trace shows
// the batches of tasks that completions resumed; an operation prepared just before a long
// computation on the same worker is submitted before it; work from outside runs while a task's
// reads keep completing at once (not after its loop), and an I/O completion while a chain of
// spawns keeps the injection queue busy; an operation a task of a batch of completions prepared is
// submitted while a later task of that batch, or the first of the next, computes (a nudge's signal
// handler submits it), in every promotion mode; random fork trees whose tasks sleep and
// throw, on one worker, exact (seeds that once left a worker spinning on a stale task-work flag);
// shutdown cancels the reads, accepts, sleeps and timed operations of tasks that would wait forever
// once the runtime has been quiet for io_shutdown_grace (ECANCELED, saying why; a retry fails at
// once), leaves alone tasks that keep progressing or a worker busy computing, waits for good with no
// grace, and the option is validated.
#include <pulse/pulse.hpp>

#include "expect_system_error.hpp"
#include "fib.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <unistd.h>
#include <vector>

namespace {

using pulse_test::expect_system_error;

using namespace std::chrono_literals;

// A file in the temporary directory, removed with the object.
class temporary_file {
public:
  temporary_file() {
    const char* dir = std::getenv("TMPDIR");
    m_path = std::string(dir != nullptr ? dir : "/tmp") + "/pulse-test-io-XXXXXX";
    m_fd = ::mkstemp(m_path.data());
    REQUIRE(m_fd >= 0);
  }
  ~temporary_file() {
    ::close(m_fd);
    ::unlink(m_path.c_str());
  }
  int fd() const { return m_fd; }
  const std::string& path() const { return m_path; }

private:
  std::string m_path;
  int m_fd = -1;
};

std::vector<std::byte> pattern(std::size_t size, unsigned seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<std::byte>((i * 131 + seed * 7) & 0xff);
  }
  return bytes;
}

pulse::runtime_options one_worker() { return {.workers = 1}; }

// fork_all is awaited inside a task.
template <typename T>
pulse::task<std::vector<pulse::detail::fork_all_result_t<T>>> fork_all_of(std::vector<pulse::task<T>> tasks) {
  co_return co_await pulse::fork_all(std::move(tasks));
}

std::exception_ptr g_plain_coroutine_failure;

// A random tree of fork and fork_all nodes; a node may sleep a few microseconds before or after
// its children, and may throw (a leaf before, an inner node after its children).
struct sleepy_node {
  int id = 0;
  bool sleep_before = false;
  bool sleep_after = false;
  bool fail = false;
  bool fork_all = false;  // else a fork of two, if it has children
  std::vector<sleepy_node> children;
};

struct sleepy_node_failure {
  int id;
};

class sleepy_tree_builder {
public:
  explicit sleepy_tree_builder(std::uint64_t seed) : m_state(seed) {}
  sleepy_node build(int depth) {
    sleepy_node node;
    node.id = m_ids++;
    node.sleep_before = next() % 6 == 0 && next() % 2 == 1;
    node.sleep_after = next() % 6 == 0 && next() % 2 == 1;
    node.fail = next() % 40 == 0;
    if (depth > 0 && next() % 4 != 0) {
      node.fork_all = next() % 2 == 0;
      const std::uint32_t count = node.fork_all ? 1 + next() % 5 : 2;
      for (std::uint32_t i = 0; i < count; ++i) {
        node.children.push_back(build(depth - 1));
      }
    }
    return node;
  }

private:
  std::uint32_t next() {
    m_state = m_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(m_state >> 33);
  }
  std::uint64_t m_state;
  int m_ids = 0;
};

// The sum of the ids, or the failure a serial run meets first.
long serial_sum(const sleepy_node& node) {
  if (node.fail && node.children.empty()) {
    throw sleepy_node_failure{node.id};
  }
  long sum = node.id;
  for (const sleepy_node& child : node.children) {
    sum += serial_sum(child);
  }
  if (node.fail) {
    throw sleepy_node_failure{node.id};
  }
  return sum;
}

pulse::task<void> sleep_a_little(int id) { co_await pulse::sleep_for(std::chrono::microseconds(id * 7919 % 50)); }

pulse::task<long> forked_sum(const sleepy_node& node) {
  if (node.sleep_before) {
    co_await sleep_a_little(node.id);
  }
  if (node.fail && node.children.empty()) {
    throw sleepy_node_failure{node.id};
  }
  long sum = node.id;
  if (node.fork_all) {
    std::vector<pulse::task<long>> children;
    for (const sleepy_node& child : node.children) {
      children.push_back(forked_sum(child));
    }
    for (const long each : co_await pulse::fork_all(std::move(children))) {
      sum += each;
    }
  } else if (!node.children.empty()) {
    auto [left, right] = co_await pulse::fork(forked_sum(node.children[0]), forked_sum(node.children[1]));
    sum += left + right;
  }
  if (node.sleep_after) {
    co_await sleep_a_little(node.id);
  }
  if (node.fail) {
    throw sleepy_node_failure{node.id};
  }
  co_return sum;
}

// The sum, or minus one minus the id of the node whose failure came out.
long outcome_of(const std::function<long()>& run) {
  try {
    return run();
  } catch (const sleepy_node_failure& failure) {
    return -1 - failure.id;
  }
}

pulse::task<void> forked_outcome(const sleepy_node& tree, long& outcome, std::atomic<bool>& done) {
  try {
    outcome = co_await forked_sum(tree);
  } catch (const sleepy_node_failure& failure) {
    outcome = -1 - failure.id;
  }
  done.store(true, std::memory_order_release);
}

}  // namespace

TEST_CASE("read and write at offsets, and a short read at the end of the file", "[file]") {
  pulse::runtime rt(one_worker());
  temporary_file file;
  const std::vector<std::byte> data = pattern(10000, 1);
  const auto [written, whole, tail, at_end] = pulse::sync_wait(rt, [&]() -> pulse::task<std::array<std::size_t, 4>> {
    const std::size_t w = co_await pulse::io::write(file.fd(), data, 0);
    std::vector<std::byte> back(10000);
    const std::size_t r = co_await pulse::io::read(file.fd(), back, 0);
    CHECK(back == data);
    std::vector<std::byte> more(4096);
    const std::size_t short_read = co_await pulse::io::read(file.fd(), more, 8000);  // 2000 bytes are left
    CHECK(std::equal(more.begin(), more.begin() + 2000, data.begin() + 8000));
    const std::size_t end = co_await pulse::io::read(file.fd(), more, 10000);
    co_return std::array<std::size_t, 4>{w, r, short_read, end};
  }());
  CHECK(written == 10000);
  CHECK(whole == 10000);
  CHECK(tail == 2000);
  CHECK(at_end == 0);
}

TEST_CASE("readv and writev move every buffer, in order", "[file]") {
  pulse::runtime rt(one_worker());
  temporary_file file;
  const std::vector<std::byte> first = pattern(100, 2);
  const std::vector<std::byte> second = pattern(3000, 3);
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    const std::array<iovec, 2> out{iovec{const_cast<std::byte*>(first.data()), first.size()},
                                   iovec{const_cast<std::byte*>(second.data()), second.size()}};
    const std::size_t written = co_await pulse::io::writev(file.fd(), out, 0);
    CHECK(written == 3100);
    std::vector<std::byte> a(3000);
    std::vector<std::byte> b(100);
    const std::array<iovec, 2> in{iovec{a.data(), a.size()}, iovec{b.data(), b.size()}};
    const std::size_t read = co_await pulse::io::readv(file.fd(), in, 0);
    CHECK(read == 3100);
    CHECK(std::equal(a.begin(), a.begin() + 100, first.begin()));
    CHECK(std::equal(a.begin() + 100, a.end(), second.begin()));
    CHECK(std::equal(b.begin(), b.end(), second.begin() + 2900));
  }());
}

TEST_CASE("openat, write, fsync, fdatasync, statx and close on a new file", "[file]") {
  pulse::runtime rt(one_worker());
  temporary_file scratch;  // only for a unique name next to it
  const std::string path = scratch.path() + ".new";
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    const int fd = co_await pulse::io::openat(AT_FDCWD, path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    const std::vector<std::byte> data = pattern(5000, 4);
    const std::size_t written = co_await pulse::io::write(fd, data, 0);
    CHECK(written == 5000);
    co_await pulse::io::fsync(fd);
    co_await pulse::io::fdatasync(fd);
    struct statx info {};
    co_await pulse::io::statx(AT_FDCWD, path.c_str(), 0, STATX_SIZE | STATX_MODE, info);
    CHECK(info.stx_size == 5000);
    CHECK((info.stx_mode & 0777) == 0600);
    co_await pulse::io::close(fd);
    CHECK(::fcntl(fd, F_GETFD) == -1);  // really closed
  }());
  ::unlink(path.c_str());
}

TEST_CASE("kernel errors are system_errors with the errno, naming the operation", "[file][errors]") {
  pulse::runtime rt(one_worker());
  std::vector<std::byte> buffer(16);
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::io::read(-1, buffer, 0); }()); },
                     EBADF, "pulse::io::read");
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::io::write(-1, buffer, 0); }()); },
                     EBADF, "pulse::io::write");
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::io::fsync(-1); }()); }, EBADF,
                     "pulse::io::fsync");
  expect_system_error(
      [&] {
        pulse::sync_wait(rt, [&]() -> pulse::task<int> {
          co_return co_await pulse::io::openat(AT_FDCWD, "/nonexistent/pulse/file", O_RDONLY);
        }());
      },
      ENOENT, "pulse::io::openat");
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::io::close(-1); }()); }, EBADF,
                     "pulse::io::close");
  // And the runtime still works afterwards.
  CHECK(pulse::sync_wait(rt, pulse_test::fib_fork(15)) == 610);
}

TEST_CASE("I/O awaited outside a worker is a logic_error", "[errors]") {
  // A coroutine of the user's own, resumed on this thread: no ring to submit to.
  struct plain {
    struct promise_type {
      plain get_return_object() { return {}; }
      std::suspend_never initial_suspend() noexcept { return {}; }
      std::suspend_never final_suspend() noexcept { return {}; }
      void return_void() {}
      void unhandled_exception() { g_plain_coroutine_failure = std::current_exception(); }
    };
  };
  [&]() -> plain { co_await pulse::io::nop(); }();
  REQUIRE(g_plain_coroutine_failure);
  CHECK_THROWS_AS(std::rethrow_exception(g_plain_coroutine_failure), std::logic_error);
}

TEST_CASE("sleep_for and sleep_until wait at least as asked, and wake in deadline order", "[timer]") {
  pulse::runtime rt(one_worker());
  const auto started = std::chrono::steady_clock::now();
  pulse::sync_wait(rt, []() -> pulse::task<void> { co_await pulse::sleep_for(20ms); }());
  CHECK(std::chrono::steady_clock::now() - started >= 20ms);

  const auto deadline = std::chrono::steady_clock::now() + 15ms;
  pulse::sync_wait(rt, [](auto when) -> pulse::task<void> { co_await pulse::sleep_until(when); }(deadline));
  CHECK(std::chrono::steady_clock::now() >= deadline);

  // Five sleepers started longest first finish shortest first.
  std::vector<int> order;
  auto sleeper = [&](int ms) -> pulse::task<void> {
    co_await pulse::sleep_for(std::chrono::milliseconds(ms));
    order.push_back(ms);  // one worker: no race
  };
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    co_await pulse::fork(sleeper(50), sleeper(40), sleeper(30), sleeper(20), sleeper(10));
  }());
  CHECK(order == std::vector<int>{10, 20, 30, 40, 50});
  // Zero and negative durations complete.
  pulse::sync_wait(rt, []() -> pulse::task<void> {
    co_await pulse::sleep_for(0ms);
    co_await pulse::sleep_for(-5ms);
  }());
}

TEST_CASE("a linked timeout cancels an operation that takes too long, and leaves a quick one alone", "[timer][errors]") {
  pulse::runtime rt(one_worker());
  int ends[2];
  REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
  std::vector<std::byte> buffer(8);
  const auto started = std::chrono::steady_clock::now();
  expect_system_error(
      [&] {
        pulse::sync_wait(rt, [&]() -> pulse::task<void> {
          co_await pulse::io::read(ends[0], buffer, pulse::io::current_position).with_timeout(10ms);
        }());
      },
      ETIMEDOUT, "pulse::io::read");
  CHECK(std::chrono::steady_clock::now() - started >= 10ms);
  REQUIRE(::write(ends[1], "abc", 3) == 3);
  const std::size_t read = pulse::sync_wait(rt, [&]() -> pulse::task<std::size_t> {
    co_return co_await pulse::io::read(ends[0], buffer, pulse::io::current_position).with_timeout(5s);
  }());
  CHECK(read == 3);
  ::close(ends[0]);
  ::close(ends[1]);
}

TEST_CASE("a duration too long for nanoseconds means forever, not at once", "[timer]") {
  using pulse::detail::to_io_timespec;
  constexpr auto longest = pulse::detail::longest_io_timespec_seconds;
  CHECK(to_io_timespec(std::chrono::seconds::max()).tv_sec == longest);
  CHECK(to_io_timespec(std::chrono::hours(24 * 365 * 400)).tv_sec == 24LL * 365 * 400 * 3600);
  CHECK(to_io_timespec(std::chrono::duration<double>(1.5)).tv_nsec == 500'000'000);
  CHECK(to_io_timespec(std::chrono::nanoseconds(-1)).tv_sec == 0);
  CHECK(to_io_timespec(std::chrono::milliseconds::min()).tv_nsec == 0);
  // Periods whose numerator would overflow a plain duration_cast, and exact thirds.
  const auto odd = to_io_timespec(std::chrono::duration<long long, std::ratio<3, 10000>>{3'200'000'000'000'000'000});
  CHECK((odd.tv_sec == 960'000'000'000'000 && odd.tv_nsec == 0));
  const auto thirds = to_io_timespec(std::chrono::duration<long long, std::ratio<1, 3>>{4});
  CHECK((thirds.tv_sec == 1 && thirds.tv_nsec == 333'333'333));
  // A read with such a timeout waits for its data (before: ETIMEDOUT at once, the span wrapped).
  pulse::runtime rt(one_worker());
  int ends[2];
  REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    [[maybe_unused]] const auto written = ::write(ends[1], "abc", 3);
  });
  std::vector<std::byte> buffer(8);
  const std::size_t read = pulse::sync_wait(rt, [&]() -> pulse::task<std::size_t> {
    co_return co_await pulse::io::read(ends[0], buffer, pulse::io::current_position).with_timeout(std::chrono::seconds::max());
  }());
  writer.join();
  CHECK(read == 3);
  ::close(ends[0]);
  ::close(ends[1]);
}

TEST_CASE("32 forked tasks on one worker have 32 reads in flight at once", "[fork][latent]") {
  // Each task reads its own pipe; the pipes are written only once the runtime's statistics show 32
  // reads in flight. Were the latent forks held up behind the first task's read, only one would
  // ever be in flight, and the writer would give up.
  pulse::runtime rt({.workers = 1});
  constexpr int tasks = 32;
  std::array<std::array<int, 2>, tasks> pipes{};
  for (auto& ends : pipes) {
    REQUIRE(::pipe2(ends.data(), O_CLOEXEC) == 0);
  }
  std::atomic<bool> all_in_flight{false};
  std::thread writer([&] {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (rt.stats().io_in_flight < tasks && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    all_in_flight = rt.stats().io_in_flight >= tasks;
    for (int i = 0; i < tasks; ++i) {
      const char byte = static_cast<char>('a' + i % 26);
      [[maybe_unused]] const auto written = ::write(pipes[i][1], &byte, 1);
    }
  });
  auto reader = [&](int i) -> pulse::task<char> {
    std::array<std::byte, 1> byte{};
    co_await pulse::io::read(pipes[i][0], byte, pulse::io::current_position);
    co_return static_cast<char>(byte[0]);
  };
  std::vector<pulse::task<char>> readers;
  for (int i = 0; i < tasks; ++i) {
    readers.push_back(reader(i));
  }
  const std::vector<char> got = pulse::sync_wait(rt, fork_all_of(std::move(readers)));
  writer.join();
  CHECK(all_in_flight);
  for (int i = 0; i < tasks; ++i) {
    CHECK(got[i] == static_cast<char>('a' + i % 26));
  }
  for (auto& ends : pipes) {
    ::close(ends[0]);
    ::close(ends[1]);
  }
}

TEST_CASE("forks after an I/O wait spread over the workers, with exact results", "[fork]") {
  pulse::runtime rt({.workers = 2});
  temporary_file file;
  const std::vector<std::byte> data = pattern(4096, 5);
  pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::io::write(file.fd(), data, 0); }());
  // Each task reads, then forks a computation: results exact whatever worker resumes what.
  auto work = [&](int i) -> pulse::task<long> {
    std::vector<std::byte> back(4096);
    const std::size_t n = co_await pulse::io::read(file.fd(), back, 0);
    auto [a, b] = co_await pulse::fork(pulse_test::fib_fork(20 + i % 3), pulse_test::fib_fork(18));
    co_return n == 4096 ? a + b + static_cast<long>(back[i % 4096]) : -1;  // checked on one thread, below
  };
  for (int round = 0; round < 5; ++round) {
    std::vector<pulse::task<long>> tasks;
    for (int i = 0; i < 16; ++i) {
      tasks.push_back(work(i));
    }
    const std::vector<long> results = pulse::sync_wait(rt, fork_all_of(std::move(tasks)));
    for (int i = 0; i < 16; ++i) {
      const long fib = i % 3 == 0 ? 6765 : i % 3 == 1 ? 10946 : 17711;
      CHECK(results[i] == fib + 2584 + static_cast<long>(data[i % 4096]));
    }
  }
  const pulse::stats s = rt.stats();
  CHECK(s.io_completions == s.io_operations);
  CHECK(s.io_in_flight == 0);
  CHECK(s.io_operations >= 5 * 16 + 1);
}

namespace {

// Says it runs, then spins until `count` tasks have started (at most 10 s). A coroutine function,
// not a capturing lambda: a spawned task outlives the statement that spawned it, and a lambda's
// captures with it.
pulse::task<void> spin_until_started(const std::atomic<int>& started, int count, std::atomic<bool>& running) {
  running.store(true, std::memory_order_release);
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (started.load(std::memory_order_acquire) < count && std::chrono::steady_clock::now() < give_up) {
  }
  co_return;
}

}  // namespace

TEST_CASE("tasks that only do I/O spread over the workers, however unevenly they started", "[balance]") {
  // A completion resumes its task on the worker whose ring it used, so tasks that only read stay
  // where they first ran. Here every reader starts on one worker: the other is held by a task that
  // spins until all 32 have started. Then the readers' worker must hand some of them over (about
  // half, on a quiet machine); before it could, the other worker did none of the reads.
  constexpr int readers = 32;
  std::atomic<int> started{0};
  std::atomic<bool> hog_running{false};
  pulse::runtime rt({.workers = 2});  // after what the spawned task uses: its destructor waits for it
  temporary_file file;
  constexpr std::size_t block = 512;
  constexpr int reads_each = 400;
  const std::vector<std::byte> data = pattern(block * readers, 5);
  REQUIRE(::pwrite(file.fd(), data.data(), data.size(), 0) == static_cast<ssize_t>(data.size()));
  pulse::spawn(rt, spin_until_started(started, readers, hog_running));
  while (!hog_running.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  // Each reader reads its own block again and again; the number of reads that came back wrong.
  auto reader = [&](int index) -> pulse::task<int> {
    std::vector<std::byte> buffer(block);
    const std::uint64_t offset = static_cast<std::uint64_t>(index) * block;
    started.fetch_add(1, std::memory_order_release);
    int wrong = 0;
    for (int i = 0; i < reads_each; ++i) {
      const std::size_t n = co_await pulse::io::read(file.fd(), buffer, offset);
      wrong += n == block && std::equal(buffer.begin(), buffer.end(), data.begin() + static_cast<std::ptrdiff_t>(offset)) ? 0 : 1;
    }
    co_return wrong;
  };
  std::vector<pulse::task<int>> tasks;
  for (int i = 0; i < readers; ++i) {
    tasks.push_back(reader(i));
  }
  temporary_file trace_file;
  rt.start_trace(trace_file.path());
  const std::vector<int> wrong = pulse::sync_wait(rt, fork_all_of(std::move(tasks)));
  rt.stop_trace();
  CHECK(std::accumulate(wrong.begin(), wrong.end(), 0) == 0);
  std::string trace(1 << 22, '\0');
  const ssize_t trace_size = ::pread(trace_file.fd(), trace.data(), trace.size(), 0);
  REQUIRE(trace_size > 0);
  trace.resize(static_cast<std::size_t>(trace_size));
  CHECK(trace.find(R"("name":"hand over")") != std::string::npos);
  const pulse::stats s = rt.stats();
  REQUIRE(s.workers.size() == 2);
  const std::uint64_t total = s.workers[0].io_operations + s.workers[1].io_operations;
  CHECK(total == static_cast<std::uint64_t>(readers * reads_each));
  INFO("reads per worker: " << s.workers[0].io_operations << " and " << s.workers[1].io_operations
                            << "; handed over: " << s.io_handed_over);
  // How evenly they end up depends on how the machine schedules the two threads (another process
  // may hold one CPU for milliseconds); the benchmark measures that (io_reads/pulse/2). What must
  // hold is that the second worker gets tasks at all.
  CHECK(s.io_handed_over > 0);
  CHECK(std::min(s.workers[0].io_operations, s.workers[1].io_operations) > 0);
}

namespace {

pulse::task<int> sleep_in_steps(std::chrono::steady_clock::time_point start, int steps) {
  for (int step = 1; step <= steps; ++step) {
    co_await pulse::sleep_until(start + step * 2ms);
  }
  co_return 1;
}

}  // namespace

TEST_CASE("tasks handed to a sleeping worker run even while another worker searches", "[balance]") {
  // With 3 workers or more, a worker could hand tasks to one that slept while a third searched:
  // notify() then wakes nobody (a searcher is expected to find the work), and the third looked only
  // into its own hand-off list. The sleeper had no I/O of its own to wake it, and sync_wait hung
  // (the reviewer's probe: within 0 to 22 rounds of these, in every configuration of 3 and 4
  // workers). Searchers now look into every worker's list.
  pulse::runtime rt({.workers = 4});
  for (int round = 0; round < 30; ++round) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<pulse::task<int>> sleepers;
    for (int i = 0; i < 48; ++i) {
      sleepers.push_back(sleep_in_steps(start, 20));
    }
    auto done = std::async(std::launch::async, [&] { return pulse::sync_wait(rt, fork_all_of(std::move(sleepers))); });
    if (done.wait_for(20s) != std::future_status::ready) {
      std::fprintf(stderr, "round %d of 48 sleeping tasks has not ended after 20 s: a hang\n", round);
      std::abort();  // the runtime cannot be destroyed with its tasks stuck
    }
    const std::vector<int> ran = done.get();
    REQUIRE(std::accumulate(ran.begin(), ran.end(), 0) == 48);
  }
}

TEST_CASE("a 4-entry ring runs 2000 operations at once without losing a completion", "[ring]") {
  // Far more than the submission queue holds (it is submitted to make room) and than the
  // completion queue holds (16: the kernel keeps the overflow until it is reaped).
  pulse::runtime rt({.workers = 1, .io_ring_entries = 4});
  constexpr int operations = 2000;
  std::atomic<int> done{0};
  auto sleeper = [&](int i) -> pulse::task<void> {
    co_await pulse::sleep_for(std::chrono::microseconds(1000 + i % 7));
    co_await pulse::io::nop();
    done.fetch_add(1, std::memory_order_relaxed);
  };
  std::vector<pulse::task<void>> tasks;
  for (int i = 0; i < operations; ++i) {
    tasks.push_back(sleeper(i));
  }
  pulse::sync_wait(rt, fork_all_of(std::move(tasks)));
  CHECK(done.load() == operations);
  const pulse::stats s = rt.stats();
  CHECK(s.io_operations == 2 * operations);
  CHECK(s.io_completions == 2 * operations);
  CHECK(s.io_submit_calls < s.io_operations);  // batched
}

TEST_CASE("runtime_options::io and io_ring_entries", "[options][errors]") {
  CHECK_THROWS_WITH(pulse::runtime({.io_ring_entries = 0}), Catch::Contains("io_ring_entries"));
  CHECK_THROWS_WITH(pulse::runtime({.io_ring_entries = 1}), Catch::Contains("io_ring_entries"));  // no room for a timeout
  pulse::runtime biggest({.workers = 1, .io_ring_entries = pulse::max_io_ring_entries});
  pulse::sync_wait(biggest, []() -> pulse::task<void> { co_await pulse::io::nop().with_timeout(1s); }());
  CHECK_THROWS_WITH(pulse::runtime({.io_ring_entries = pulse::max_io_ring_entries + 1}), Catch::Contains("io_ring_entries"));
  CHECK_THROWS_WITH(pulse::runtime({.io = static_cast<pulse::io_support>(7)}), Catch::Contains("runtime_options::io"));

  pulse::runtime disabled({.workers = 2, .io = pulse::io_support::disabled});
  expect_system_error([&] { pulse::sync_wait(disabled, []() -> pulse::task<void> { co_await pulse::io::nop(); }()); },
                     ENOTSUP, "disabled");
  CHECK(pulse::sync_wait(disabled, pulse_test::fib_fork(18)) == 2584);  // tasks still run
  CHECK(disabled.stats().io_operations == 0);

  pulse::runtime required({.workers = 2, .io = pulse::io_support::required});  // io_uring works here
  pulse::sync_wait(required, []() -> pulse::task<void> { co_await pulse::io::nop(); }());
  CHECK(required.stats().io_operations == 1);
}

TEST_CASE("a trace shows the batches of tasks that I/O completions resumed", "[trace]") {
  temporary_file trace_file;
  {
    pulse::runtime rt({.workers = 1});
    rt.start_trace(trace_file.path());
    pulse::sync_wait(rt, []() -> pulse::task<void> {
      for (int i = 0; i < 10; ++i) {
        co_await pulse::io::nop();
      }
    }());
    rt.stop_trace();
  }
  std::string contents(1 << 20, '\0');
  const ssize_t size = ::pread(trace_file.fd(), contents.data(), contents.size(), 0);
  REQUIRE(size > 0);
  contents.resize(static_cast<std::size_t>(size));
  CHECK(contents.find(R"("name":"I/O completions")") != std::string::npos);
  CHECK(contents.find(R"("resumed":1)") != std::string::npos);
}

namespace {

// Spins for `duration` in plain code that forks with pcall, so that heartbeats promote and the
// other worker steals.
std::atomic<std::uint64_t> g_spin_sink{0};  // keeps the spinning from being optimised away

void spin_with_pcalls(std::chrono::milliseconds duration) {
  const auto end = std::chrono::steady_clock::now() + duration;
  std::uint64_t sum = 0;  // unsigned: it wraps, by design
  while (std::chrono::steady_clock::now() < end) {
    auto [a, b] = pulse::pcall([&] { return sum + 1; }, [&] { return sum + 2; });
    sum += a + b;
  }
  g_spin_sink.fetch_add(sum, std::memory_order_relaxed);  // no Catch2 assertion here: a worker thread
}

}  // namespace

TEST_CASE("a task resumed by I/O inside a pcall's wait leaves the waiting frames' work alone", "[fork][latent]") {
  // R = fork(T, A), A = fork(A1, A2), A1 = pcall(spin 50 ms, spin 100 ms). While A1 waits for the
  // thief that took its second call, T's timer completes and T runs nested in that wait; T forks,
  // and its first child suspends on I/O, leaving the second behind. That leftover must not sit
  // where A1, taking its own entry back, would take it instead (then A never joined: a hang).
  pulse::runtime rt({.workers = 2});
  std::atomic<int> leftovers_run{0};
  auto sleeper = []() -> pulse::task<void> { co_await pulse::sleep_for(10ms); };
  auto leftover = [&]() -> pulse::task<void> {
    leftovers_run.fetch_add(1, std::memory_order_relaxed);
    co_return;
  };
  auto t = [&]() -> pulse::task<void> {
    co_await pulse::sleep_for(80ms);
    co_await pulse::fork(sleeper(), leftover());
  };
  auto a1 = []() -> pulse::task<void> {
    pulse::pcall([] { spin_with_pcalls(50ms); }, [] { spin_with_pcalls(100ms); });
    co_return;
  };
  auto a = [&]() -> pulse::task<void> { co_await pulse::fork(a1(), []() -> pulse::task<void> { co_return; }()); };
  std::atomic<bool> done{false};
  auto r = [&]() -> pulse::task<void> {  // named: a coroutine lambda's captures live in the closure
    co_await pulse::fork(t(), a());
    done.store(true, std::memory_order_release);
  };
  for (int round = 0; round < 6; ++round) {
    done.store(false, std::memory_order_relaxed);
    pulse::spawn(rt, r());
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    if (!done.load(std::memory_order_acquire)) {
      std::fprintf(stderr, "round %d: the fork never joined (the runtime would wait for it forever)\n", round);
      std::_Exit(1);
    }
  }
  CHECK(leftovers_run.load() == 6);
}

TEST_CASE("random fork trees over short sleeps with failures are exact on one worker", "[fork][timer]") {
  // Seed 7 under heartbeat and 14835 under eager promotion once left the worker entering the
  // kernel forever for a task-work flag that the kernel left set with no work queued, never
  // sleeping and so never submitting the next timer: a hang within a second.
  using pulse::promotion_mode;
  for (const auto& [seed, mode] : {std::pair{7, promotion_mode::heartbeat}, std::pair{14835, promotion_mode::eager},
                                   std::pair{7, promotion_mode::eager}, std::pair{14835, promotion_mode::heartbeat}}) {
    const sleepy_node tree = sleepy_tree_builder(static_cast<std::uint64_t>(seed)).build(5);
    const long expected = outcome_of([&] { return serial_sum(tree); });
    pulse::runtime rt({.workers = 1, .heartbeat = 5us, .promotion = mode});
    const auto stop = std::chrono::steady_clock::now() + 400ms;
    int rounds = 0;
    while (std::chrono::steady_clock::now() < stop) {
      long outcome = 0;
      std::atomic<bool> done{false};
      pulse::spawn(rt, forked_outcome(tree, outcome, done));
      const auto give_up = std::chrono::steady_clock::now() + 20s;
      while (!done.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(100us);
      }
      if (!done.load(std::memory_order_acquire)) {
        std::fprintf(stderr, "seed %d, round %d: the tree never finished (the worker would spin forever)\n", seed, rounds);
        std::_Exit(1);
      }
      INFO("seed " << seed << ", round " << rounds);
      REQUIRE(outcome == expected);
      ++rounds;
    }
  }
}

TEST_CASE("an operation prepared before a long computation goes to the kernel without waiting for it", "[submit]") {
  // fork(write, compute): the write's task suspends, and the computation (which never forks, so
  // never polls) runs next on the same worker. The write must be submitted first: a thread reading
  // the pipe's other end sees the byte while the computation still runs. Also right after another
  // operation (a nop) completed: the ring then entered the kernel a moment ago, and the write was
  // held back to go with more (before the fix, for the whole computation, 19 times in 20).
  const unsigned workers = GENERATE(1u, 2u);
  const bool operation_just_before = GENERATE(false, true);
  pulse::runtime rt({.workers = workers});
  constexpr int rounds = 10;
  int ends[2];
  REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
  std::atomic<int> bytes_arrived{0};
  std::thread reader([&] {
    char byte = 0;
    while (::read(ends[0], &byte, 1) == 1) {
      bytes_arrived.fetch_add(1, std::memory_order_release);
    }
  });
  auto writer = [&]() -> pulse::task<bool> {
    const std::array<std::byte, 1> byte{std::byte{'x'}};
    co_return co_await pulse::io::write(ends[1], byte, pulse::io::current_position) == 1;
  };
  auto compute = [&](int byte_count) -> pulse::task<bool> {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (bytes_arrived.load(std::memory_order_acquire) < byte_count && std::chrono::steady_clock::now() < give_up) {
    }
    co_return bytes_arrived.load(std::memory_order_acquire) >= byte_count;
  };
  auto round = [&](int byte_count) -> pulse::task<std::tuple<bool, bool>> {
    if (operation_just_before) {
      co_await pulse::io::nop();
    }
    co_return co_await pulse::fork(writer(), compute(byte_count));
  };
  int written = 0;
  int seen_while_computing = 0;
  for (int byte_count = 1; byte_count <= rounds; ++byte_count) {
    const auto [wrote, seen] = pulse::sync_wait(rt, round(byte_count));
    written += wrote ? 1 : 0;
    seen_while_computing += seen ? 1 : 0;
  }
  ::close(ends[1]);
  reader.join();
  ::close(ends[0]);
  INFO(workers << " worker(s), " << (operation_just_before ? "a nop just before" : "nothing just before"));
  CHECK(written == rounds);
  CHECK(seen_while_computing == rounds);
}

TEST_CASE("work from outside runs while a task's reads keep completing at once", "[submit]") {
  // A cached read completes within the system call that submits it, so a task reading in a loop
  // always has its next completion ready. The loop runs ready tasks first; before the fix it never
  // reached the injection queue, and a sync_wait from another thread waited for the reading loop
  // to end (340 ms for a million reads; forever for a loop that never ends).
  pulse::runtime rt(one_worker());
  temporary_file file;
  const std::vector<std::byte> data = pattern(64, 3);
  REQUIRE(::pwrite(file.fd(), data.data(), data.size(), 0) == 64);
  std::atomic<bool> reading{false};
  std::atomic<bool> stop{false};
  auto reader = [&]() -> pulse::task<bool> {
    std::array<std::byte, 64> buffer{};
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    reading.store(true, std::memory_order_release);
    while (!stop.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
      co_await pulse::io::read(file.fd(), buffer, 0);
    }
    co_return stop.load(std::memory_order_acquire);
  };
  bool stopped_by_outside_task = false;
  std::thread reading_thread([&] { stopped_by_outside_task = pulse::sync_wait(rt, reader()); });
  while (!reading.load(std::memory_order_acquire)) {
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(5ms);  // well into the loop
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    stop.store(true, std::memory_order_release);
    co_return;
  }());
  reading_thread.join();
  CHECK(stopped_by_outside_task);
}

namespace {

// Spawns itself again and again, keeping the injection queue busy, until `stop` or `give_up`.
pulse::task<void> respawn_until(const std::atomic<bool>& stop, std::chrono::steady_clock::time_point give_up) {
  if (!stop.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
    pulse::spawn(respawn_until(stop, give_up));
  }
  co_return;
}

}  // namespace

TEST_CASE("an I/O completion is not held back by a stream of queued work", "[submit]") {
  // The other side of the test above: completions and queued work take turns. A chain of tasks
  // that each spawn the next keeps the injection queue from ever being empty; a nop and a 1 ms sleep
  // awaited meanwhile must still complete (with a first version of the fix, they waited for the
  // chain to give up).
  const bool sleep = GENERATE(false, true);
  std::atomic<bool> stop{false};
  pulse::runtime rt(one_worker());  // after `stop`: its destructor waits for the chain's last task
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  const bool completed_before_giving_up = pulse::sync_wait(rt, [&]() -> pulse::task<bool> {
    pulse::spawn(respawn_until(stop, give_up));
    if (sleep) {
      co_await pulse::sleep_for(1ms);
    } else {
      co_await pulse::io::nop();
    }
    const bool in_time = std::chrono::steady_clock::now() < give_up;
    stop.store(true, std::memory_order_release);
    co_return in_time;
  }());
  INFO((sleep ? "sleep_for(1ms)" : "nop"));
  CHECK(completed_before_giving_up);
}

namespace {

// A pipe whose bytes a thread of its own reads, noting that one came: how a test sees a write
// reach the kernel while the worker that prepared it is still busy.
class watched_pipe {
public:
  watched_pipe() {
    REQUIRE(::pipe2(m_ends, O_CLOEXEC) == 0);
    m_reader = std::thread([this] {
      char byte = 0;
      while (::read(m_ends[0], &byte, 1) == 1) {
        m_byte_seen.store(true, std::memory_order_release);
      }
    });
  }
  watched_pipe(const watched_pipe&) = delete;
  watched_pipe& operator=(const watched_pipe&) = delete;
  ~watched_pipe() {
    ::close(m_ends[1]);
    m_reader.join();
    ::close(m_ends[0]);
  }
  int write_end() const noexcept { return m_ends[1]; }
  void forget() noexcept { m_byte_seen.store(false, std::memory_order_relaxed); }
  // Spins (as a task computing would, never yielding its worker) until a byte has come, or for
  // at most 2 s; whether one came.
  bool spin_until_byte_seen() const noexcept {
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    while (!m_byte_seen.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
    }
    return m_byte_seen.load(std::memory_order_acquire);
  }

private:
  int m_ends[2] = {-1, -1};
  std::atomic<bool> m_byte_seen{false};
  std::thread m_reader;
};

}  // namespace

TEST_CASE("a long task of a batch of completions does not hold back what the batch's earlier tasks prepared", "[submit]") {
  // Two tasks read one byte each from the same pipe on the same worker (the other worker is held
  // by a spinning task until both wait), so that one write of two bytes completes both reads in
  // one batch. The first of them to run writes a byte to a second pipe; the second computes,
  // without forking, until a thread reading that pipe has seen the byte. The loop holds entries
  // prepared by a batch's tasks to submit them together, so the write waited for the whole
  // computation (2 s here, every round); now the idle worker nudges the busy one, whose signal
  // handler submits it. In every promotion mode: eager and serial wake no thief at a batch, and a
  // first version of the fix was left with nobody to nudge there (2 and 3 rounds of 5 in time).
  const pulse::promotion_mode mode =
      GENERATE(pulse::promotion_mode::heartbeat, pulse::promotion_mode::eager, pulse::promotion_mode::serial);
  constexpr int rounds = 5;
  std::atomic<int> started{0};
  std::atomic<bool> hog_running{false};
  std::atomic<bool> first_resumed{false};
  watched_pipe answers;
  pulse::runtime rt({.workers = 2, .promotion = mode});  // after what the spawned task reads
  int requests[2];
  REQUIRE(::pipe2(requests, O_CLOEXEC) == 0);
  // Whether the task, if it was the second to run, saw the byte before giving up (the first, which
  // writes, says whether its write went through).
  auto reader = [&]() -> pulse::task<bool> {
    std::array<std::byte, 1> byte{};
    started.fetch_add(1, std::memory_order_release);
    if (co_await pulse::io::read(requests[0], byte, pulse::io::current_position) != 1) {
      co_return false;
    }
    if (!first_resumed.exchange(true, std::memory_order_acq_rel)) {
      co_return co_await pulse::io::write(answers.write_end(), byte, pulse::io::current_position) == 1;
    }
    co_return answers.spin_until_byte_seen();
  };
  auto both = [&]() -> pulse::task<std::tuple<bool, bool>> { co_return co_await pulse::fork(reader(), reader()); };
  int rounds_in_time = 0;
  for (int round = 0; round < rounds; ++round) {
    started.store(0, std::memory_order_relaxed);
    hog_running.store(false, std::memory_order_relaxed);
    first_resumed.store(false, std::memory_order_relaxed);
    answers.forget();
    pulse::spawn(rt, spin_until_started(started, 2, hog_running));
    while (!hog_running.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
    std::thread requester([&] {
      while (started.load(std::memory_order_acquire) < 2) {
        std::this_thread::yield();
      }
      std::this_thread::sleep_for(1ms);  // both reads submitted: the worker waits in its ring
      [[maybe_unused]] const ssize_t written = ::write(requests[1], "ab", 2);
    });
    const auto [first, second] = pulse::sync_wait(rt, both());
    requester.join();
    rounds_in_time += first && second ? 1 : 0;
  }
  ::close(requests[0]);
  ::close(requests[1]);
  INFO("promotion mode " << static_cast<int>(mode));
  CHECK(rounds_in_time == rounds);
  // Both reads completed in one batch in (nearly) every round: the nudge was needed, and made.
  CHECK(rt.stats().io_signal_submits > 0);
}

namespace {

// Spins until `release` (or 10 s), holding a worker.
pulse::task<void> spin_until_released(std::atomic<bool>& running, const std::atomic<bool>& release) {
  running.store(true, std::memory_order_release);
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!release.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
  }
  co_return;
}

}  // namespace

TEST_CASE("a long task first in a batch does not hold back what an earlier batch prepared", "[submit]") {
  // 66 reads of one pipe complete together on one worker (the other is held until then): a batch
  // of 64 tasks, then one of 2. With a 2-entry ring the 62nd and 63rd tasks' writes fill the
  // submission queue, so the 64th's write submits them (a submit a moment ago) and then waits
  // itself; the loop holds it past the batch's end, to go with more. The 65th task, first of the
  // next batch, computes until a reader thread has seen the 64th's byte. A first version of the
  // fix looked for held entries only between tasks of one batch: 2 s, every round.
  constexpr int readers = 66;
  constexpr int rounds = 3;
  std::atomic<int> started{0};
  std::atomic<int> resumed{0};
  std::atomic<bool> hog_running{false};
  std::atomic<bool> release{false};
  watched_pipe answers;
  pulse::runtime rt({.workers = 2, .io_ring_entries = 2});  // after what the spawned task reads
  int requests[2];
  REQUIRE(::pipe2(requests, O_CLOEXEC) == 0);
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  REQUIRE(devnull >= 0);
  // False only for the computing task, if it gave up before the byte came.
  auto reader = [&]() -> pulse::task<bool> {
    std::array<std::byte, 1> byte{};
    started.fetch_add(1, std::memory_order_release);
    co_await pulse::io::read(requests[0], byte, pulse::io::current_position);
    const int order = resumed.fetch_add(1, std::memory_order_acq_rel) + 1;
    if (order == 62 || order == 63) {
      co_await pulse::io::write(devnull, byte, pulse::io::current_position);
    } else if (order == 64) {
      co_await pulse::io::write(answers.write_end(), byte, pulse::io::current_position);
    } else if (order == 65) {
      release.store(true, std::memory_order_release);  // the other worker may now nudge this one
      co_return answers.spin_until_byte_seen();
    }
    co_return true;
  };
  auto all = [&]() -> pulse::task<bool> {
    std::vector<pulse::task<bool>> tasks;
    for (int i = 0; i < readers; ++i) {
      tasks.push_back(reader());
    }
    const std::vector<bool> each = co_await pulse::fork_all(std::move(tasks));
    co_return std::find(each.begin(), each.end(), false) == each.end();
  };
  int rounds_in_time = 0;
  for (int round = 0; round < rounds; ++round) {
    started.store(0, std::memory_order_relaxed);
    resumed.store(0, std::memory_order_relaxed);
    hog_running.store(false, std::memory_order_relaxed);
    release.store(false, std::memory_order_relaxed);
    answers.forget();
    pulse::spawn(rt, spin_until_released(hog_running, release));
    while (!hog_running.load(std::memory_order_acquire)) {
      std::this_thread::yield();
    }
    std::thread requester([&] {
      while (started.load(std::memory_order_acquire) < readers) {
        std::this_thread::yield();
      }
      std::this_thread::sleep_for(5ms);  // every read submitted: the worker waits in its ring
      const std::array<char, readers> bytes{};
      [[maybe_unused]] const ssize_t written = ::write(requests[1], bytes.data(), bytes.size());
    });
    rounds_in_time += pulse::sync_wait(rt, all()) ? 1 : 0;
    requester.join();
  }
  for (const int fd : {requests[0], requests[1], devnull}) {
    ::close(fd);
  }
  CHECK(rounds_in_time == rounds);
  CHECK(rt.stats().io_signal_submits > 0);
}

namespace {

// What spawned tasks let escape, kept by on_unhandled_exception (called on the workers; checked on
// the test's thread once the runtime is gone).
struct escaped_errors {
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> errors;  // errno (or -1: not a system_error), message

  std::function<void(std::exception_ptr)> recorder() {
    return [this](std::exception_ptr error) {
      std::pair<int, std::string> entry{-1, ""};
      try {
        std::rethrow_exception(error);
      } catch (const std::system_error& e) {
        entry = {e.code().value(), e.what()};
      } catch (const std::exception& e) {
        entry.second = e.what();
      }
      const std::lock_guard lock(mutex);
      errors.push_back(std::move(entry));
    };
  }
};

// Waits (on the test's thread) until `count` tasks have started and have as many operations in
// flight on `rt`; false if that takes more than 10 s.
bool wait_for_in_flight(pulse::runtime& rt, const std::atomic<int>& started, int count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (started.load(std::memory_order_acquire) < count || rt.stats().io_in_flight < static_cast<std::uint64_t>(count)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Tasks that say they have started, then wait on something that never comes by itself.
pulse::task<void> read_forever(int fd, bool timed, std::atomic<int>& started) {
  std::array<std::byte, 8> buffer{};
  started.fetch_add(1, std::memory_order_release);
  if (timed) {
    co_await pulse::io::read(fd, buffer, pulse::io::current_position).with_timeout(1h);  // not "timed out"
  } else {
    co_await pulse::io::read(fd, buffer, pulse::io::current_position);
  }
}

pulse::task<void> sleep_forever(std::atomic<int>& started) {
  started.fetch_add(1, std::memory_order_release);
  co_await pulse::sleep_for(1h);
}

pulse::task<void> accept_forever(int listener, std::atomic<int>& started) {
  started.fetch_add(1, std::memory_order_release);
  co_await pulse::net::accept_each(listener, [](int fd) { ::close(fd); });
}

// Catches the cancellation and sleeps again: `retried` gets what that second sleep threw.
pulse::task<void> sleep_again_when_cancelled(std::atomic<int>& started, std::string& retried) {
  try {
    co_await sleep_forever(started);
  } catch (const std::system_error&) {
  }
  try {
    co_await pulse::sleep_for(1h);
  } catch (const std::system_error& e) {
    retried = e.what();
  }
}

// Ten sleeps of 20 ms: 200 ms in all, more than a grace of 150 ms, never quiet for long.
pulse::task<void> sleep_ten_times(std::atomic<int>& sleeps) {
  for (int i = 0; i < 10; ++i) {
    co_await pulse::sleep_for(20ms);
    sleeps.fetch_add(1, std::memory_order_relaxed);
  }
}

// With graces of 150 ms from shutdown's start (just after this is spawned): a sleep to 210 ms, then
// computing to 675 ms (three graces end meanwhile, with nothing counted and the worker busy), then
// a sleep to 795 ms, across the grace that ends at 750 ms. That grace must not take the runtime
// for quiet: the computation ended in it. (It did when a task counted as it started rather than as
// it ended; each time is 45 ms or more from a grace's end, so the test does not hang on timing.)
pulse::task<void> compute_between_sleeps(std::atomic<bool>& computed) {
  co_await pulse::sleep_for(210ms);
  const auto until = std::chrono::steady_clock::now() + 465ms;
  while (std::chrono::steady_clock::now() < until) {
  }
  co_await pulse::sleep_for(120ms);
  computed.store(true, std::memory_order_relaxed);
}

pulse::task<void> read_into(int fd, std::atomic<std::size_t>& count, std::atomic<int>& started) {
  std::array<std::byte, 8> buffer{};
  started.fetch_add(1, std::memory_order_release);
  count.store(co_await pulse::io::read(fd, buffer, pulse::io::current_position), std::memory_order_relaxed);
}

}  // namespace

TEST_CASE("shutdown cancels the I/O of tasks that would wait forever, once the runtime is quiet", "[shutdown][errors]") {
  escaped_errors escaped;
  int ends[2];
  REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
  const int listener = pulse::net::listen_tcp(0, "127.0.0.1");
  std::atomic<int> started{0};
  std::string retried;
  const auto began = std::chrono::steady_clock::now();
  {
    pulse::runtime rt({.workers = 2, .on_unhandled_exception = escaped.recorder(), .io_shutdown_grace = 50ms});
    pulse::spawn(rt, read_forever(ends[0], false, started));
    pulse::spawn(rt, read_forever(ends[0], true, started));
    pulse::spawn(rt, sleep_forever(started));
    pulse::spawn(rt, accept_forever(listener, started));
    pulse::spawn(rt, sleep_again_when_cancelled(started, retried));
    CHECK(wait_for_in_flight(rt, started, 5));  // so that the kernel holds them when shutdown comes
  }
  const auto took = std::chrono::steady_clock::now() - began;
  ::close(ends[0]);
  ::close(ends[1]);
  ::close(listener);
  CHECK(took < 30s);  // not a timing test: a broken cancellation hangs above instead
  // Whoever catches the cancellation and starts again is refused at once, not left waiting.
  CHECK_THAT(retried, Catch::Contains("pulse::sleep_for") && Catch::Contains("shutting down"));
  REQUIRE(escaped.errors.size() == 4);
  std::set<std::string> operations;
  for (const auto& [code, message] : escaped.errors) {
    INFO(message);
    CHECK(code == ECANCELED);
    CHECK_THAT(message, Catch::Contains("shutting down") && Catch::Contains("io_shutdown_grace"));
    CHECK_THAT(message, !Catch::Contains("timed out"));
    operations.insert(message.substr(0, message.find(": ")));
  }
  CHECK(operations == std::set<std::string>{"pulse::io::read", "pulse::sleep_for", "pulse::net::accept_each"});
}

TEST_CASE("shutdown leaves alone work that keeps progressing, or a busy worker", "[shutdown]") {
  escaped_errors escaped;
  std::atomic<int> sleeps{0};
  std::atomic<bool> computed{false};
  {
    // 150 ms: sleeps of 20 ms are never quiet that long, even on a loaded machine.
    pulse::runtime rt({.workers = 1, .on_unhandled_exception = escaped.recorder(), .io_shutdown_grace = 150ms});
    pulse::spawn(rt, sleep_ten_times(sleeps));
    pulse::spawn(rt, compute_between_sleeps(computed));
  }
  CHECK(sleeps.load() == 10);
  CHECK(computed.load());
  CHECK(escaped.errors.empty());
}

TEST_CASE("with no io_shutdown_grace, shutdown waits for I/O however long it takes", "[shutdown]") {
  int ends[2];
  REQUIRE(::pipe2(ends, O_CLOEXEC) == 0);
  std::atomic<std::size_t> count{0};
  std::atomic<int> started{0};
  std::thread writer;
  {
    pulse::runtime rt({.workers = 1, .io_shutdown_grace = std::nullopt});
    pulse::spawn(rt, read_into(ends[0], count, started));
    CHECK(wait_for_in_flight(rt, started, 1));
    // Longer than the default grace (1 s), which would have cancelled the read.
    writer = std::thread([&ends] {
      std::this_thread::sleep_for(1200ms);
      [[maybe_unused]] const auto written = ::write(ends[1], "abc", 3);
    });
  }
  writer.join();
  CHECK(count.load() == 3);
  ::close(ends[0]);
  ::close(ends[1]);
}

TEST_CASE("runtime_options::io_shutdown_grace is checked", "[shutdown][options][errors]") {
  CHECK_THROWS_WITH(pulse::runtime({.io_shutdown_grace = -1ms}), Catch::Contains("io_shutdown_grace"));
  CHECK_THROWS_WITH(pulse::runtime({.io_shutdown_grace = pulse::longest_io_shutdown_grace + 1ms}),
                    Catch::Contains("io_shutdown_grace"));
  pulse::runtime immediate({.workers = 1, .io_shutdown_grace = 0ms});
  pulse::runtime longest({.workers = 1, .io_shutdown_grace = pulse::longest_io_shutdown_grace});
}
