// One worker's io_uring ring on its own (lib/io/ring.hpp), driven by hand as a worker would.
// Covers: setups the kernel refuses (EINVAL) are skipped for the next, and a ring that takes none is
// a ring_setup_error (setups this kernel lacks are skipped with a message); every fallback setup a worker may end up with (DEFER_TASKRUN, COOP_TASKRUN,
// none) runs a nop, a pipe read whose data comes later, and a wake-up from another thread;
// cancel_everything completes what the ring holds (a timer, a read) with ECANCELED marked as
// shutdown's, completes later operations at once the same way, and leaves wake-ups working.
#include "io/ring.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using pulse::detail::io_opcode;
using pulse::detail::io_operation;
using pulse::detail::io_ring;

using namespace std::chrono_literals;

constexpr std::int64_t five_seconds_ns = 5'000'000'000;

class pipe_ends {
public:
  pipe_ends() { REQUIRE(::pipe2(m_ends, O_CLOEXEC) == 0); }
  ~pipe_ends() {
    ::close(m_ends[0]);
    ::close(m_ends[1]);
  }
  int read_end() const { return m_ends[0]; }
  int write_end() const { return m_ends[1]; }

private:
  int m_ends[2];
};

io_operation operation(const char* name) {
  io_operation op;
  op.name = name;
  op.complete = &pulse::detail::complete_once;
  return op;
}

// Sleeps in the ring (5 s at most each time) until `count` operations have come back on its ready
// list; returns them in order.
std::vector<io_operation*> wait_for(io_ring& ring, std::size_t count) {
  std::vector<io_operation*> done;
  for (int sleeps = 0; done.size() < count && sleeps < 10; ++sleeps) {
    while (auto* node = ring.ready().pop()) {
      done.push_back(static_cast<io_operation*>(node));
    }
    if (done.size() < count) {
      ring.sleep(five_seconds_ns);
    }
  }
  while (auto* node = ring.ready().pop()) {
    done.push_back(static_cast<io_operation*>(node));
  }
  return done;
}

// A nop, a read of data written 20 ms later by another thread, and a wake-up from another thread.
void round_trips(io_ring& ring) {
  io_operation nop = operation("nop");
  ring.prepare(nop, {.op = io_opcode::nop});
  auto done = wait_for(ring, 1);
  REQUIRE(done.size() == 1);
  CHECK(done[0] == &nop);
  CHECK(nop.result == 0);

  pipe_ends pipe;
  char buffer[8] = {};
  io_operation read = operation("read");
  ring.prepare(read, {.op = io_opcode::read, .fd = pipe.read_end(), .address = buffer, .length = sizeof buffer,
                      .offset = ~std::uint64_t{0}});
  std::thread writer([&pipe] {
    std::this_thread::sleep_for(20ms);
    [[maybe_unused]] const auto written = ::write(pipe.write_end(), "abc", 3);
  });
  done = wait_for(ring, 1);
  writer.join();
  REQUIRE(done.size() == 1);
  CHECK(read.result == 3);
  CHECK(std::string(buffer) == "abc");

  const auto before = std::chrono::steady_clock::now();
  std::thread waker([fd = ring.wake_fd()] {
    std::this_thread::sleep_for(20ms);
    io_ring::wake(fd);
  });
  ring.sleep(five_seconds_ns);
  waker.join();
  CHECK(std::chrono::steady_clock::now() - before < 4s);  // woken, not timed out
  CHECK(ring.in_flight() == 0);
  CHECK(ring.completed() == 2);
}

// A ring with exactly `flags`, or null (with a message) where this kernel refuses them or has no
// io_uring at all.
std::unique_ptr<io_ring> ring_with(unsigned flags) {
  const unsigned only[] = {flags};
  try {
    return std::make_unique<io_ring>(8, only);
  } catch (const pulse::detail::ring_setup_error& e) {
    WARN("io_uring_setup with flags " << flags << " failed here (" << e.code().message() << "): skipped");
    return nullptr;
  }
}

}  // namespace

TEST_CASE("setups the kernel refuses are skipped for the next", "[ring][setup]") {
  // DEFER_TASKRUN without SINGLE_ISSUER is EINVAL on every kernel, as a flag it does not know is
  // on an older one.
  const unsigned fallback = pulse::detail::io_ring_setups[2];  // none: any io_uring takes it
  if (ring_with(fallback) == nullptr) {
    return;
  }
  const unsigned setups[] = {IORING_SETUP_DEFER_TASKRUN, 1U << 31, fallback};
  io_ring ring(8, setups);
  CHECK(ring.setup_flags() == fallback);
  round_trips(ring);

  const unsigned none_taken[] = {IORING_SETUP_DEFER_TASKRUN, 1U << 31};
  try {
    io_ring refused(8, none_taken);
    FAIL("no setup was refused");
  } catch (const pulse::detail::ring_setup_error& e) {
    CHECK(e.code().value() == EINVAL);
    CHECK(std::string(e.failure()).find("io_uring_setup") != std::string::npos);
  }
}

TEST_CASE("every setup a worker may fall back to works", "[ring][setup]") {
  for (const unsigned flags : pulse::detail::io_ring_setups) {
    INFO("setup flags " << flags);
    const std::unique_ptr<io_ring> ring = ring_with(flags);
    if (ring != nullptr) {
      CHECK(ring->setup_flags() == flags);
      round_trips(*ring);
    }
  }
}

TEST_CASE("cancel_everything ends what the ring holds and refuses what comes after", "[ring][shutdown]") {
  for (const unsigned flags : pulse::detail::io_ring_setups) {
    INFO("setup flags " << flags);
    const std::unique_ptr<io_ring> made = ring_with(flags);
    if (made == nullptr) {
      continue;
    }
    io_ring& ring = *made;
    pipe_ends pipe;
    char buffer[8];
    io_operation read = operation("pulse::io::read");
    ring.prepare(read, {.op = io_opcode::read, .fd = pipe.read_end(), .address = buffer, .length = sizeof buffer,
                        .offset = ~std::uint64_t{0}});
    const pulse::detail::io_timespec hour{3600, 0};
    io_operation timer = operation("pulse::sleep_for");
    ring.prepare(timer, {.op = io_opcode::timeout, .address = &hour});
    ring.sleep(1'000'000);  // submits both, and arms the wake-up read, for 1 ms
    CHECK(ring.in_flight() == 2);

    ring.cancel_everything();
    CHECK(ring.cancel_everything_asked());
    CHECK(ring.cancelling_everything());
    const auto done = wait_for(ring, 2);
    CHECK(done.size() == 2);
    CHECK(ring.cancelling_everything());  // this kernel (5.19 or later) took the cancellation
    for (const io_operation* op : {&read, &timer}) {
      CHECK(op->result == -ECANCELED);
      CHECK(op->cancelled_at_shutdown);
    }
    try {
      pulse::detail::io_result_or_throw(read);
      FAIL("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ECANCELED);
      CHECK_THAT(e.what(), Catch::Contains("pulse::io::read") && Catch::Contains("shutting down"));
    }

    // Later operations complete at once, without going to the kernel.
    io_operation late = operation("pulse::io::nop");
    ring.prepare(late, {.op = io_opcode::nop});
    CHECK(ring.unsubmitted() == 0);
    CHECK(ring.ready().pop() == &late);
    CHECK(late.result == -ECANCELED);
    CHECK(late.cancelled_at_shutdown);
    CHECK(ring.in_flight() == 0);

    // The wake-up read went with the rest, and is armed again for the next sleep.
    const auto before = std::chrono::steady_clock::now();
    io_ring::wake(ring.wake_fd());
    ring.sleep(five_seconds_ns);
    CHECK(std::chrono::steady_clock::now() - before < 4s);
  }
}
