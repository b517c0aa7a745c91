// pulse::runtime and pulse::spawn.
// Covers: worker counts as asked, and every worker running at once; option validation (heartbeat,
// workers, PULSE_WORKERS) as std::invalid_argument naming the option; workers = 0 meaning one per
// core of the affinity mask (per hardware thread with smt) or PULSE_WORKERS; the destructor finishing all spawned work, including work spawned
// by spawned tasks; exceptions from spawned tasks reaching on_unhandled_exception (and a throwing
// handler not taking the process down); 200 runtimes created and destroyed; an idle runtime using
// no CPU; a runtime created on a pinned thread still sized from the process's CPUs and, unpinned,
// running on all of them. Pinning itself is in test_placement.cpp.
#include "scoped_env.hpp"

#include <pulse/pulse.hpp>

#include <catch2/catch.hpp>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

unsigned cpus_in_affinity_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(sched_getaffinity(0, sizeof set, &set) == 0);
  return static_cast<unsigned>(CPU_COUNT(&set));
}

unsigned cores_in_affinity_mask() { return static_cast<unsigned>(pulse::topology::detect().cores.size()); }

TEST_CASE("a runtime has the workers it was asked for", "[runtime]") {
  for (unsigned n : {1U, 2U, 3U, 8U}) {
    pulse::runtime rt{{.workers = n}};
    CHECK(rt.worker_count() == n);
    CHECK(rt.options().workers == n);
  }
}

TEST_CASE("workers = 0 means one per core in the affinity mask, or PULSE_WORKERS", "[runtime][options]") {
  {
    pulse_test::scoped_env unset{"PULSE_WORKERS", nullptr};
    pulse::runtime rt;
    CHECK(rt.worker_count() == cores_in_affinity_mask());
    pulse::runtime per_thread{{.smt = true}};
    CHECK(per_thread.worker_count() == cpus_in_affinity_mask());
  }
  {
    pulse_test::scoped_env three{"PULSE_WORKERS", "3"};
    pulse::runtime rt;
    CHECK(rt.worker_count() == 3);
    pulse::runtime explicit_count{{.workers = 2}};  // an explicit count wins over the environment
    CHECK(explicit_count.worker_count() == 2);
  }
  {
    pulse_test::scoped_env empty{"PULSE_WORKERS", ""};  // set but empty reads as unset
    pulse::runtime rt;
    CHECK(rt.worker_count() == cores_in_affinity_mask());
  }
}

TEST_CASE("invalid options throw invalid_argument naming the option", "[runtime][options]") {
  using Catch::Contains;
  CHECK_THROWS_MATCHES(pulse::runtime({.heartbeat = 0us}), std::invalid_argument, Catch::Message(
      "pulse::runtime_options::heartbeat must be positive; got 0us"));
  CHECK_THROWS_WITH(pulse::runtime({.heartbeat = -5us}), Contains("heartbeat") && Contains("-5us"));
  CHECK_THROWS_WITH(pulse::runtime({.heartbeat = std::chrono::microseconds::max()}),
                    Contains("pulse::runtime_options::heartbeat") && Contains("longer than pulse::longest_heartbeat"));
  CHECK_NOTHROW(pulse::runtime({.workers = 1, .heartbeat = pulse::longest_heartbeat}));
  CHECK_THROWS_MATCHES(pulse::runtime({.promotion = static_cast<pulse::promotion_mode>(42)}), std::invalid_argument,
                    Catch::Message("pulse::runtime_options::promotion = 42 is not a promotion_mode value"));
  CHECK_THROWS_WITH(pulse::runtime({.workers = 1'000'000}),
                    Contains("pulse::runtime_options::workers = 1000000") && Contains("at most"));
  for (const char* bad : {"abc", "-1", "0", "3x", " 3", "4294967296", "1000000"}) {
    pulse_test::scoped_env env{"PULSE_WORKERS", bad};
    INFO("PULSE_WORKERS=" << bad);
    CHECK_THROWS_AS(pulse::runtime(), std::invalid_argument);
    CHECK_THROWS_WITH(pulse::runtime(), Contains("PULSE_WORKERS='" + std::string(bad) + "'"));
  }
}

TEST_CASE("every worker runs at the same time", "[runtime][threads]") {
  constexpr unsigned workers = 4;
  std::atomic<unsigned> arrived{0};
  std::atomic<unsigned> saw_everyone{0};
  std::mutex ids_mutex;
  std::set<std::thread::id> ids;
  // Each task waits (bounded) until all four have arrived: that can only happen if four threads
  // run them at once. sync_wait would block, so they are spawned and the destructor waits.
  auto rendezvous = [&]() -> pulse::task<void> {
    {
      std::lock_guard lock(ids_mutex);
      ids.insert(std::this_thread::get_id());
    }
    arrived.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (arrived.load() < workers && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (arrived.load() == workers) {
      saw_everyone.fetch_add(1);
    }
    co_return;
  };
  {
    pulse::runtime local{{.workers = workers}};
    for (unsigned i = 0; i < workers; ++i) {
      pulse::spawn(local, rendezvous());
    }
  }
  CHECK(saw_everyone == workers);
  CHECK(ids.size() == workers);
}

pulse::task<void> count_up(std::atomic<long>& counter, long amount) {
  counter.fetch_add(amount, std::memory_order_relaxed);
  co_return;
}

pulse::task<void> spawn_children(std::atomic<long>& counter, int children) {
  for (int i = 0; i < children; ++i) {
    pulse::spawn(count_up(counter, 1));  // from a worker: lands on this same runtime
  }
  co_return;
}

TEST_CASE("the destructor finishes every spawned task before joining", "[runtime][spawn]") {
  std::atomic<long> counter{0};
  {
    pulse::runtime rt{{.workers = 2}};
    for (int i = 0; i < 10'000; ++i) {
      pulse::spawn(rt, count_up(counter, 1));
    }
    for (int i = 0; i < 100; ++i) {
      pulse::spawn(rt, spawn_children(counter, 100));
    }
  }
  CHECK(counter == 20'000);
}

pulse::task<void> throw_logic(std::string message) {
  throw std::logic_error(message);
  co_return;
}

TEST_CASE("an exception from a spawned task reaches on_unhandled_exception", "[runtime][spawn][exception]") {
  std::mutex seen_mutex;
  std::multiset<std::string> seen;
  std::atomic<long> counter{0};
  {
    pulse::runtime rt{{.workers = 2, .on_unhandled_exception = [&](std::exception_ptr error) {
                         try {
                           std::rethrow_exception(error);
                         } catch (const std::exception& e) {
                           std::lock_guard lock(seen_mutex);
                           seen.insert(e.what());
                         }
                       }}};
    pulse::spawn(rt, throw_logic("first"));
    pulse::spawn(rt, count_up(counter, 1));
    pulse::spawn(rt, throw_logic("second"));
  }
  CHECK(seen == std::multiset<std::string>{"first", "second"});
  CHECK(counter == 1);
}

TEST_CASE("a handler that throws does not take the process down", "[runtime][spawn][exception]") {
  std::atomic<int> calls{0};
  {
    pulse::runtime rt{{.workers = 1, .on_unhandled_exception = [&](std::exception_ptr) {
                         ++calls;
                         throw std::runtime_error("handler failed");
                       }}};
    pulse::spawn(rt, throw_logic("reported on stderr"));
  }
  CHECK(calls == 1);
}

pulse::task<int> plus_one(int x) { co_return x + 1; }

TEST_CASE("200 runtimes created and destroyed", "[runtime][lifecycle]") {
  long total = 0;
  for (int i = 0; i < 200; ++i) {
    pulse::runtime rt{{.workers = 1U + static_cast<unsigned>(i % 4)}};
    total += pulse::sync_wait(rt, plus_one(i));
  }
  CHECK(total == 200L * 201L / 2L);
}

double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

TEST_CASE("an idle runtime uses no CPU", "[runtime][idle]") {
  // Not a performance target: parked workers sleep in the kernel, so the bound is two orders of
  // magnitude above what they use, and only a spinning worker could break it.
  pulse::runtime rt{{.workers = 2}};
  CHECK(pulse::sync_wait(rt, plus_one(1)) == 2);
  std::this_thread::sleep_for(50ms);  // let the workers finish spinning and park
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(500ms);
  const double used = process_cpu_seconds() - before;
  CHECK(used < 0.05);
}

}  // namespace

namespace {

unsigned cpus_of_calling_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  return static_cast<unsigned>(CPU_COUNT(&set));
}

pulse::task<unsigned> worker_cpu_count() { co_return cpus_of_calling_thread(); }

TEST_CASE("a runtime created on a pinned thread uses the process's CPUs", "[runtime][affinity]") {
  const unsigned process_cores = cores_in_affinity_mask();
  const unsigned process_cpus = cpus_in_affinity_mask();
  unsigned workers = 0;
  unsigned worker_cpus = 0;
  unsigned creator_cpus = 0;
  std::thread creator([&] {
    cpu_set_t one;
    CPU_ZERO(&one);
    sched_getaffinity(0, sizeof one, &one);
    int first = 0;
    while (!CPU_ISSET(first, &one)) {
      ++first;
    }
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    sched_setaffinity(0, sizeof one, &one);
    creator_cpus = cpus_of_calling_thread();
    pulse_test::scoped_env unset{"PULSE_WORKERS", nullptr};
    pulse::runtime rt{{.pin = false}};  // a pinned worker has one CPU, whoever created it
    workers = rt.worker_count();
    worker_cpus = pulse::sync_wait(rt, worker_cpu_count());
  });
  creator.join();
  CHECK(creator_cpus == 1);
  CHECK(workers == process_cores);
  CHECK(worker_cpus == process_cpus);
}

}  // namespace
