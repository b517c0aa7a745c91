// pulse::sync_wait: entering a runtime from ordinary threads.
// Covers: value, void and reference results; exceptions rethrown to the caller; the task's frame
// (and its parameters) destroyed before sync_wait returns; sync_wait called on a worker is a
// std::logic_error that leaves the runtime usable; many threads calling sync_wait on one runtime at
// once; the default-runtime overload.
#include "counted.hpp"

#include <pulse/pulse.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using pulse_test::counted;

namespace {

pulse::task<int> square(int x) { co_return x* x; }
pulse::task<void> nothing() { co_return; }
pulse::task<int> fails(std::string message) {
  throw std::out_of_range(message);
  co_return 0;
}

TEST_CASE("sync_wait returns the task's result", "[sync_wait]") {
  pulse::runtime rt{{.workers = 2}};
  CHECK(pulse::sync_wait(rt, square(12)) == 144);
  pulse::sync_wait(rt, nothing());
  static int shared = 5;
  auto reference = []() -> pulse::task<int&> { co_return shared; };
  CHECK(&pulse::sync_wait(rt, reference()) == &shared);
}

TEST_CASE("sync_wait rethrows the task's exception with its type and message", "[sync_wait][exception]") {
  pulse::runtime rt{{.workers = 1}};
  CHECK_THROWS_MATCHES(pulse::sync_wait(rt, fails("index 9 of 3")), std::out_of_range,
                       Catch::Message("index 9 of 3"));
  CHECK(pulse::sync_wait(rt, square(3)) == 9);  // and the runtime carries on
}

pulse::task<int> read_parameter(counted c) { co_return c.value; }

TEST_CASE("nothing of the task is alive once sync_wait returns", "[sync_wait][lifetime]") {
  pulse::runtime rt{{.workers = 2}};
  for (int round = 0; round < 1000; ++round) {
    counted::reset();
    const int value = pulse::sync_wait(rt, read_parameter(counted{round}));
    // Checked at once, with no wait: the frame holding the parameter must already be gone.
    REQUIRE(counted::alive() == 0);
    REQUIRE(value == round);
  }
}

pulse::task<std::string> nested_sync_wait(pulse::runtime& rt) {
  try {
    pulse::sync_wait(rt, square(2));
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
  co_return "no error";
}

pulse::task<std::string> nested_default_sync_wait() {
  try {
    pulse::sync_wait(square(2));
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
  co_return "no error";
}

TEST_CASE("sync_wait on a worker is a clear error, not a deadlock", "[sync_wait][misuse]") {
  pulse::runtime rt{{.workers = 1}};  // one worker: a blocking sync_wait here would hang for ever
  const std::string message = pulse::sync_wait(rt, nested_sync_wait(rt));
  CHECK_THAT(message, Catch::Contains("pulse::sync_wait") && Catch::Contains("worker") &&
                          Catch::Contains("co_await"));
  CHECK_THAT(pulse::sync_wait(rt, nested_default_sync_wait()), Catch::Contains("pulse::sync_wait"));
  CHECK(pulse::sync_wait(rt, square(4)) == 16);

  pulse::runtime other{{.workers = 1}};  // a worker of another runtime must not block either
  CHECK_THAT(pulse::sync_wait(rt, nested_sync_wait(other)), Catch::Contains("pulse::sync_wait"));
}

TEST_CASE("many threads can sync_wait on one runtime at once", "[sync_wait][threads]") {
  pulse::runtime rt{{.workers = 2}};
  constexpr int threads = 8;
  constexpr int calls = 300;
  std::atomic<int> wrong{0};
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i) {
        const int x = t * calls + i;
        const int result = pulse::sync_wait(rt, square(x));
        if (result != x * x) {
          ++wrong;
        }
        total += result;
      }
    });
  }
  for (auto& caller : callers) {
    caller.join();
  }
  long expected = 0;
  for (long x = 0; x < threads * calls; ++x) {
    expected += x * x;
  }
  CHECK(wrong == 0);
  CHECK(total == expected);
}

TEST_CASE("sync_wait without a runtime uses the default runtime", "[sync_wait][default]") {
  CHECK(pulse::sync_wait(square(7)) == 49);
  CHECK(pulse::default_runtime().worker_count() >= 1);
}

}  // namespace
