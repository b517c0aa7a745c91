// Statistics (runtime::stats, include/pulse/stats.hpp).
// Covers: the counters agree with the work done, exactly: fib(n) by fork and by pcall reports one
// fork per inner call and, on one worker, one frame per task; a loop's splits count as forks and
// as timed promotions (eager and heartbeat); the
// counters agree with each other (steals <= attempts = steals + failures, promotions <= forks,
// wakeups <= parks, reused <= allocated, tasks run >= steals), on one worker and two, in every
// promotion mode; the per-worker rows add up to the total; an idle runtime accrues idle time, a
// busy one busy time, and the work/overhead ratio is positive once something was promoted; the
// table (to_string and the fmt formatter) has a row per worker and a column per counter; PULSE_STATS other than 0 or 1 is an
// invalid_argument naming it. PULSE_STATS=1 printing at destruction is checked by CTest on this
// program's output ([print-at-exit]).
#include <pulse/fmt.hpp>
#include <pulse/pulse.hpp>

#include "fib.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using pulse_test::fib_fork;
using pulse_test::fib_pcall_task;

using namespace std::chrono_literals;

// Calls of fib(n), and the inner ones among them (each forks once).
std::uint64_t fib_calls(int n) { return n < 2 ? 1 : 1 + fib_calls(n - 1) + fib_calls(n - 2); }
std::uint64_t fib_inner_calls(int n) { return n < 2 ? 0 : 1 + fib_inner_calls(n - 1) + fib_inner_calls(n - 2); }

void check_consistent(const pulse::worker_stats& s) {
  CHECK(s.steals <= s.steal_attempts);
  CHECK(s.steal_attempts == s.steals + s.steal_failures);
  CHECK(s.promotions <= s.forks);
  CHECK(s.wakeups <= s.parks);
  CHECK(s.frames_reused <= s.frames_allocated);
  CHECK(s.tasks_run >= s.steals);
  CHECK(s.promotion_time <= s.busy_time);
}

void check_sums(const pulse::stats& total) {
  pulse::worker_stats sum;
  for (const pulse::worker_stats& each : total.workers) {
    check_consistent(each);
    sum += each;
  }
  CHECK(sum.tasks_run == total.tasks_run);
  CHECK(sum.forks == total.forks);
  CHECK(sum.steals == total.steals);
  CHECK(sum.promotions == total.promotions);
  CHECK(sum.frames_allocated == total.frames_allocated);
  CHECK(sum.busy_time == total.busy_time);
  check_consistent(total);
}

TEST_CASE("fib by fork reports exactly the forks it made, and one frame per task on one worker", "[stats]") {
  constexpr int n = 20;
  pulse::runtime rt{{.workers = 1}};
  REQUIRE(pulse::sync_wait(rt, fib_fork(n)) == 6765);
  const pulse::stats after = rt.stats();
  CHECK(after.forks == fib_inner_calls(n));
  // Every task but the root (created by this thread, outside the runtime) has its frame from the
  // worker's pool.
  CHECK(after.frames_allocated == fib_calls(n) - 1);
  CHECK(after.tasks_run == 1);  // the root; everything else ran inline
  CHECK(after.steals == 0);
  check_sums(after);
}

TEST_CASE("the counters agree with the work and each other on two workers, in every mode", "[stats]") {
  constexpr int n = 22;
  for (const auto mode : {pulse::promotion_mode::heartbeat, pulse::promotion_mode::eager,
                          pulse::promotion_mode::adaptive, pulse::promotion_mode::serial}) {
    pulse::runtime rt{{.workers = 2, .heartbeat = 20us, .promotion = mode}};
    REQUIRE(pulse::sync_wait(rt, fib_fork(n)) == 17711);
    REQUIRE(pulse::sync_wait(rt, fib_pcall_task(n)) == 17711);
    const pulse::stats after = rt.stats();
    INFO("mode " << static_cast<int>(mode) << "\n" << pulse::to_string(after));
    CHECK(after.forks == 2 * fib_inner_calls(n));
    CHECK(after.workers.size() == 2);
    if (mode == pulse::promotion_mode::eager) {
      CHECK(after.promotions == after.forks);  // eager promotes every fork
    }
    if (mode == pulse::promotion_mode::serial) {
      CHECK(after.promotions == 0);
      CHECK(after.steals == 0);
    }
    check_sums(after);
  }
}

TEST_CASE("loop splits count as forks, and as timed promotions", "[stats]") {
  const auto mode = GENERATE(pulse::promotion_mode::eager, pulse::promotion_mode::heartbeat);
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us, .promotion = mode}};
  const auto sum = [](std::size_t count) -> pulse::task<double> {
    co_return co_await pulse::parallel_reduce(
        0, count, 0.0, [](std::size_t i) { return static_cast<double>(i); }, [](double a, double b) { return a + b; });
  };
  constexpr std::size_t count = std::size_t{1} << 22;
  REQUIRE(pulse::sync_wait(rt, sum(count)) == static_cast<double>(count) * static_cast<double>(count - 1) / 2);
  const pulse::stats after = rt.stats();
  INFO("mode " << static_cast<int>(mode) << "\n" << pulse::to_string(after));
  if (mode == pulse::promotion_mode::eager) {
    CHECK(after.forks > 0);  // eager: the loop splits at every poll
    CHECK(after.promotions > 0);
  }
  // A split is the promotion its heartbeat chose: its time is overhead (before, a program whose
  // only parallelism was loops showed 0 ms and an infinite work/overhead ratio).
  if (after.promotions > 0) {
    CHECK(after.promotion_time > 0ns);
    CHECK(after.work_overhead_ratio() < std::numeric_limits<double>::infinity());
  }
  check_sums(after);
}

TEST_CASE("time is split into busy and idle, and the work/overhead ratio is positive", "[stats]") {
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us}};
  // A quiet runtime: its workers sit searching or asleep.
  std::this_thread::sleep_for(20ms);
  const pulse::stats quiet = rt.stats();
  CHECK(quiet.idle_time > 0ns);
  CHECK(quiet.busy_time == 0ns);
  CHECK(quiet.work_overhead_ratio() == std::numeric_limits<double>::infinity());

  REQUIRE(pulse::sync_wait(rt, fib_fork(25)) == 75025);
  const pulse::stats busy = rt.stats();
  INFO(pulse::to_string(busy));
  CHECK(busy.busy_time > 0ns);
  if (busy.promotions > 0) {
    CHECK(busy.promotion_time > 0ns);
    CHECK(busy.work_overhead_ratio() > 0.0);
  }
  check_sums(busy);
}

TEST_CASE("the table has a row per worker and a total, through to_string and fmt", "[stats]") {
  pulse::runtime rt{{.workers = 3}};
  REQUIRE(pulse::sync_wait(rt, fib_fork(15)) == 610);
  const pulse::stats after = rt.stats();
  const std::string table = pulse::to_string(after);
  CHECK(table.find("forks") != std::string::npos);
  CHECK(table.find("total") != std::string::npos);
  // Every counter has its column, these two included (they were left out).
  CHECK(table.find("steal fail") != std::string::npos);
  CHECK(table.find("io done") != std::string::npos);
  CHECK(table.find("handed") != std::string::npos);
  CHECK(table.find("io nudged") != std::string::npos);
  CHECK(std::count(table.begin(), table.end(), '\n') == 1 + 3 + 1);  // header, workers, total
  CHECK(fmt::format("{}", after) == table);
}

TEST_CASE("PULSE_STATS other than 0 or 1 is an invalid_argument naming it", "[stats]") {
  ::setenv("PULSE_STATS", "maybe", 1);
  try {
    pulse::runtime rt{{.workers = 1}};
    FAIL("a runtime started with PULSE_STATS=maybe");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("PULSE_STATS='maybe'") != std::string::npos);
  }
  ::unsetenv("PULSE_STATS");
}

TEST_CASE("with PULSE_STATS=1 the table goes to stderr when the runtime ends", "[.print-at-exit]") {
  pulse::runtime rt{{.workers = 2}};
  REQUIRE(pulse::sync_wait(rt, fib_fork(10)) == 55);
}

}  // namespace
