// Heartbeat scheduling: latent work, promotion, pcall, policies, loops.
// Covers: with two workers, long tasks get their latent siblings promoted and stolen (counters),
// including under a frame that never forks (the SIGURG nudge; every promotion a heartbeat's or a
// nudge's), and with heartbeat_signals off no signal interrupts a blocking call there; a worker promotes at most once per
// interval however often an idle thief asks (the paper's token bound); pcall's results (values, void,
// references), calling the caller's callables (not copies), taking its call back from under a
// coroutine its first call resumed inline (which forked and suspended), its plain join and its
// stolen join (a call that provably ran on another worker), its exception path (every call runs,
// the lowest-numbered exception is rethrown, every value made is destroyed, inline or stolen,
// first call failing or a later one) and its inline path off the workers; fib by fork and by pcall
// exact under every promotion mode, heartbeat intervals of 20 us, 100 us and 1 ms, and a user
// policy (which is called, decides loop splits too, whose out-of-range interval is clamped, and
// whose select_victim thieves call with the promised arguments and try first, an out-of-range
// answer taken modulo, the thief's own index skipped);
// a runtime of one worker promoting nothing at heartbeats (eager and a user policy aside);
// parallel_for visiting every index exactly once, empty and one-element ranges, ranges ending at
// SIZE_MAX (on and off the workers), a negative bound refused; parallel_reduce exact under every
// mode and with an accumulator too big for 64 stack copies; an exception in a loop rethrown after
// the split-off ranges finish; sequential forks in a task that moved to another worker at a join
// (its continuation stack there starts above its entries).
#include <pulse/pulse.hpp>

#include "counted.hpp"
#include "fib.hpp"
#include "inline_event.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <variant>
#include <unistd.h>
#include <vector>

namespace {

using pulse_test::fib_fork;
using pulse_test::fib_pcall_task;

using namespace std::chrono_literals;

// Busy for `duration` without forking.
void spin_for(std::chrono::microseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// A long frame that never forks: it waits (bounded) until its sibling has started too, which
// can only happen if the sibling, latent under it, was promoted and stolen. No timing assumption:
// however late the thief runs, the wait outlasts it.
pulse::task<std::thread::id> long_task(std::atomic<int>& started) {
  started.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) {
  }
  co_return std::this_thread::get_id();
}

pulse::task<bool> two_long_tasks() {
  std::atomic<int> started{0};
  auto [a, b] = co_await pulse::fork(long_task(started), long_task(started));
  co_return a != b;
}

TEST_CASE("with two workers, latent siblings of long tasks are promoted and stolen", "[heartbeat]") {
  pulse::runtime rt{{.workers = 2}};
  int in_parallel = 0;
  for (int round = 0; round < 5; ++round) {
    in_parallel += pulse::sync_wait(rt, two_long_tasks()) ? 1 : 0;
  }
  const pulse::stats counters = rt.stats();
  INFO("heartbeats " << counters.heartbeats << ", promotions " << counters.promotions << ", steals "
                     << counters.steals << ", signals " << counters.heartbeat_signals);
  CHECK(in_parallel == 5);  // every pair ran on two threads
  CHECK(counters.promotions >= 5);
  CHECK(counters.steals >= 5);
  // The first task never polls: its sibling went out at the fork's own poll, if a heartbeat was due
  // then, or else by a thief's SIGURG. Either way, one promotion each (which of the two varies).
  CHECK(counters.heartbeats + counters.heartbeat_signals >= counters.promotions);
}

// A blocking sleep as the first call of a pcall, with an idle thief: usleep's result.
pulse::task<int> sleep_in_pcall() {
  auto [slept, other] = pulse::pcall([] { return ::usleep(300'000); }, [] { return 1; });
  co_return other == 1 ? slept : -2;
}

TEST_CASE("with heartbeat_signals off, no SIGURG interrupts a blocking call in a long frame", "[heartbeat][signals]") {
  pulse::runtime rt{{.workers = 2, .heartbeat_signals = false}};
  CHECK(pulse::sync_wait(rt, sleep_in_pcall()) == 0);  // with signals on: -1, EINTR (3 runs in 3)
  CHECK(rt.stats().heartbeat_signals == 0);
}

// Sums small enough (fib(12) by pcall, microseconds each) that the thief keeps running out of work
// and asking the busy worker to promote, for at least `duration`.
pulse::task<long> many_small_sums(std::chrono::milliseconds duration) {
  long total = 0;
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    total += pulse_test::fib_pcall(12);
  }
  co_return total;
}

TEST_CASE("a worker promotes at most once per heartbeat interval, however often thieves ask", "[heartbeat]") {
  // Token accounting (the paper's bound): a promotion is earned by an interval of work. A thief's
  // ask may be answered before the next heartbeat only if the last promotion is an interval old.
  const auto interval = 1ms;
  const auto started = std::chrono::steady_clock::now();
  pulse::runtime rt{{.workers = 2, .heartbeat = interval}};
  const long total = pulse::sync_wait(rt, many_small_sums(300ms));
  const pulse::stats counters = rt.stats();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  const auto heartbeats_in_time = static_cast<std::uint64_t>(elapsed / interval) + 2;  // + the first, rounding
  CHECK(total % 144 == 0);  // fib(12) = 144
  for (const pulse::worker_stats& worker : counters.workers) {
    // A SIGURG nudge (a frame that did not poll for an interval: a slow sanitizer build) may
    // promote once more of its own.
    const std::uint64_t bound = heartbeats_in_time + worker.heartbeat_signals;
    INFO("promotions " << worker.promotions << ", heartbeats " << worker.heartbeats << ", signals "
                       << worker.heartbeat_signals << ", bound " << bound);
    CHECK(worker.promotions <= bound);
  }
  CHECK(counters.promotions >= 1);
}

int rendezvous(std::atomic<int>& arrived) {
  arrived.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
  }
  return arrived.load();
}

pulse::task<std::string> pcall_shapes() {
  static int shared = 3;
  auto [a, nothing, ref, text, moved] =
      pulse::pcall([] { return 1; }, [] {}, []() -> int& { return shared; }, [] { return std::string("four"); },
                   []() -> int&& { return std::move(shared); });
  static_assert(std::is_same_v<decltype(nothing), std::monostate>);
  static_assert(std::is_same_v<decltype(moved), int&&>);
  co_return std::to_string(a) + (&ref == &shared && &moved == &shared ? " ref " : " copy ") + text;
}

TEST_CASE("pcall returns every result in order", "[pcall]") {
  pulse::runtime rt{{.workers = 2}};
  CHECK(pulse::sync_wait(rt, pcall_shapes()) == "1 ref four");
  auto [x, y] = pulse::pcall([] { return 5; }, [] { return 6; });  // off the workers: inline
  CHECK(x + y == 11);
}

pulse::task<bool> pcall_stolen_join(std::atomic<int>& arrived) {
  // Each side waits (bounded) for the other: only possible if the second call was stolen.
  auto [a, b] = pulse::pcall([&] { return rendezvous(arrived); }, [&] { return rendezvous(arrived); });
  co_return a == 2 && b == 2;
}

// Callables that a copy would not call alike: pcall must call the caller's object, as a plain call
// would, inline and on a thief. Each later call here meets the first call, which waits for it: so
// it ran on the other worker.
struct call_counter {
  int calls = 0;
  int operator()() { return ++calls; }
};
struct mutable_member_call {
  std::atomic<int>* arrived;
  mutable int calls = 0;
  int operator()() const {
    rendezvous(*arrived);
    return ++calls;
  }
};
struct const_overloads {
  std::atomic<int>* arrived;
  int operator()() {
    rendezvous(*arrived);
    return 1;
  }
  int operator()() const {
    rendezvous(*arrived);
    return 2;
  }
};
struct refers_into_itself {
  std::atomic<int>* arrived;
  int value = 7;
  const int& operator()() const {
    rendezvous(*arrived);
    return value;
  }
};

pulse::task<int> pcall_calls_the_callers_object(call_counter& later) {
  call_counter first;
  auto [a, b] = pulse::pcall(first, later);
  co_return a + b + first.calls + later.calls;
}

pulse::task<int> stolen_calls_of_the_callers_objects() {
  std::atomic<int> arrived{0};
  const auto meet = [&] { return rendezvous(arrived); };
  mutable_member_call counting{&arrived};
  auto [a, counted] = pulse::pcall(meet, counting);
  arrived = 0;
  const_overloads overloaded{&arrived};
  auto [b, overload] = pulse::pcall(meet, overloaded);
  arrived = 0;
  refers_into_itself referring{&arrived};
  auto [c, referred] = pulse::pcall(meet, referring);
  // Temporaries, which pcall may copy: the same results.
  arrived = 0;
  auto [d, counted_temporary] = pulse::pcall(meet, mutable_member_call{&arrived});
  arrived = 0;
  auto [e, overload_temporary] = pulse::pcall(meet, const_overloads{&arrived});
  co_return (a + b + c + d + e == 10) + (counted == 1 && counting.calls == 1) + (overload == 1) +
            (&referred == &referring.value) + (counted_temporary == 1) + (overload_temporary == 1);
}

int one() { return 1; }
int two() { return 2; }

TEST_CASE("pcall calls the caller's own callables", "[pcall]") {
  pulse::runtime rt{{.workers = 2}};
  call_counter later;
  CHECK(pulse::sync_wait(rt, pcall_calls_the_callers_object(later)) == 4);
  CHECK(later.calls == 1);
  CHECK(pulse::sync_wait(rt, stolen_calls_of_the_callers_objects()) == 6);
  auto [x, y] = pulse::pcall(one, two);  // functions, not objects
  CHECK(x + y == 3);
}

using pulse_test::inline_event;

// Resumed inline from inside a pcall's first call, this forks, and its first child suspends: the
// fork's rest is left latent above the pcall's own later call.
pulse::task<int> fork_after_event(inline_event& resumed, inline_event& released) {
  co_await resumed;
  auto [waited, other] = co_await pulse::fork(pulse_test::wait_then(released, 10), pulse_test::value_of(20));
  co_return waited + other;
}

pulse::task<int> pcall_resuming_inline(inline_event& resumed) {
  auto [set, later] = pulse::pcall(
      [&] {
        resumed.set();
        return 100;
      },
      [] { return 200; });
  co_return set + later;
}

pulse::task<int> pcall_under_inline_resumption() {
  inline_event resumed;
  inline_event released;
  auto [forked, pcalled, setter] =
      co_await pulse::fork(fork_after_event(resumed, released), pcall_resuming_inline(resumed),
                           pulse_test::set_then(released, 1000));
  co_return forked + pcalled + setter;
}

TEST_CASE("pcall takes back its own call from under a coroutine it resumed inline", "[pcall][inline]") {
  // The resumed coroutine's pending fork goes to the injection queue and still runs; the pcall's
  // later call runs too. On one worker (the event is not thread-safe); latent and promoted.
  for (const auto mode : {pulse::promotion_mode::heartbeat, pulse::promotion_mode::eager}) {
    pulse::runtime rt{{.workers = 1, .promotion = mode}};
    for (int round = 0; round < 20; ++round) {
      CHECK(pulse::sync_wait(rt, pcall_under_inline_resumption()) == 30 + 300 + 1000);
    }
  }
}

TEST_CASE("pcall's stolen join waits for the thief", "[pcall][steal]") {
  pulse::runtime rt{{.workers = 2}};
  for (int round = 0; round < 10; ++round) {
    std::atomic<int> arrived{0};
    REQUIRE(pulse::sync_wait(rt, pcall_stolen_join(arrived)));
  }
}

struct numbered_error : std::runtime_error {
  explicit numbered_error(int id_) : std::runtime_error("call " + std::to_string(id_)), id(id_) {}
  int id;
};

pulse::task<int> pcall_failures(std::atomic<int>& ran, bool first_waits_for_thief) {
  std::atomic<int> arrived{0};
  try {
    pulse::pcall(
        [&] {
          ++ran;
          if (first_waits_for_thief) {
            rendezvous(arrived);
          }
          return 0;
        },
        [&]() -> int {
          ++ran;
          if (first_waits_for_thief) {
            rendezvous(arrived);
          }
          throw numbered_error(1);
        },
        [&]() -> int {
          ++ran;
          throw numbered_error(2);
        });
  } catch (const numbered_error& e) {
    co_return e.id;
  }
  co_return -1;
}

TEST_CASE("pcall runs every call and rethrows the lowest-numbered failure", "[pcall][exception]") {
  pulse::runtime rt{{.workers = 2}};
  for (const bool stolen : {false, true}) {
    std::atomic<int> ran{0};
    CHECK(pulse::sync_wait(rt, pcall_failures(ran, stolen)) == 1);
    CHECK(ran == 3);
  }
}

// The first call throws; the later ones return values that must still be destroyed, whether they
// ran inline or on the thief. With `stolen`, the first waits until the second started elsewhere.
pulse::task<int> pcall_first_fails(std::atomic<int>& ran, bool stolen) {
  using pulse_test::counted;
  std::atomic<int> arrived{0};
  try {
    pulse::pcall(
        [&]() -> counted {
          ++ran;
          if (stolen) {
            rendezvous(arrived);
          }
          throw numbered_error(0);
        },
        [&] {
          ++ran;
          if (stolen) {
            rendezvous(arrived);
          }
          return counted(1);
        },
        [&] {
          ++ran;
          return counted(2);
        });
  } catch (const numbered_error& e) {
    co_return e.id;
  }
  co_return -1;
}

pulse::task<int> pcall_counted_values() {
  using pulse_test::counted;
  auto [a, b] = pulse::pcall([] { return counted(1); }, [] { return counted(2); });
  co_return a.value + b.value + pulse_test::counted::alive();
}

TEST_CASE("pcall destroys every value it made, whichever call threw", "[pcall][exception]") {
  using pulse_test::counted;
  pulse::runtime rt{{.workers = 2}};
  for (const bool stolen : {false, true}) {
    counted::reset();
    std::atomic<int> ran{0};
    CHECK(pulse::sync_wait(rt, pcall_first_fails(ran, stolen)) == 0);
    CHECK(ran == 3);
    CHECK(counted::alive() == 0);
  }
  counted::reset();
  CHECK(pulse::sync_wait(rt, pcall_counted_values()) == 1 + 2 + 2);  // the two in the tuple are alive
  CHECK(counted::alive() == 0);
  CHECK(counted::copied == 0);
}

// What sum_of_squares must give.
long sum_of_squares_serially(std::size_t n) {
  long total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    total += static_cast<long>(i * i);
  }
  return total;
}

pulse::task<long> sum_of_squares(std::size_t n) {
  co_return co_await pulse::parallel_reduce(
      0, n, 0L, [](std::size_t i) { return static_cast<long>(i * i); }, [](long a, long b) { return a + b; });
}

class counting_policy final : public pulse::promotion_policy {
public:
  std::atomic<long> asked{0};
  std::size_t should_promote(const pulse::heartbeat_sample& sample) noexcept override {
    ++asked;
    return sample.latent;  // promote everything latent
  }
};

// Never promotes, and asks for an interval far beyond the longest.
class refusing_policy final : public pulse::promotion_policy {
public:
  std::atomic<long> asked{0};
  std::size_t should_promote(const pulse::heartbeat_sample&) noexcept override {
    ++asked;
    return 0;
  }
  std::chrono::nanoseconds next_interval(const pulse::heartbeat_sample&) noexcept override {
    return std::chrono::nanoseconds::max();
  }
};

TEST_CASE("results are exact under every promotion mode and interval", "[heartbeat][policy]") {
  const std::size_t n = 200'000;
  const long squares = sum_of_squares_serially(n);
  using pulse::promotion_mode;
  for (const auto mode : {promotion_mode::heartbeat, promotion_mode::eager, promotion_mode::adaptive, promotion_mode::serial}) {
    for (const auto interval : {20us, 100us, 1000us}) {
      INFO("mode " << static_cast<int>(mode) << ", heartbeat " << interval.count() << " us");
      pulse::runtime rt{{.workers = 2, .heartbeat = interval, .promotion = mode}};
      CHECK(pulse::sync_wait(rt, fib_fork(20)) == 6765);
      CHECK(pulse::sync_wait(rt, fib_pcall_task(25)) == 75025);
      CHECK(pulse::sync_wait(rt, sum_of_squares(n)) == squares);
    }
  }
  auto policy = std::make_shared<counting_policy>();
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us, .policy = policy}};
  CHECK(pulse::sync_wait(rt, fib_pcall_task(27)) == 196418);
  CHECK(pulse::sync_wait(rt, two_long_tasks()));
  CHECK(policy->asked > 0);
}

TEST_CASE("one worker alone promotes nothing at heartbeats, unless eager or a policy says so", "[heartbeat][policy]") {
  // Promoted work is for thieves, and a runtime of one worker has none: a loop split there only
  // reordered its range (reduce 5% slower than its own serial mode). Heartbeats still come (the
  // same 20 us interval over a few milliseconds of pcalls and loop), and results stay exact.
  const std::size_t n = 2'000'000;
  const long squares = sum_of_squares_serially(n);
  using pulse::promotion_mode;
  for (const auto mode : {promotion_mode::heartbeat, promotion_mode::adaptive, promotion_mode::eager}) {
    INFO("mode " << static_cast<int>(mode));
    pulse::runtime rt{{.workers = 1, .heartbeat = 20us, .promotion = mode}};
    CHECK(pulse::sync_wait(rt, fib_pcall_task(27)) == 196418);
    CHECK(pulse::sync_wait(rt, sum_of_squares(n)) == squares);
    const pulse::stats counters = rt.stats();
    CHECK(counters.heartbeats > 0);
    if (mode == promotion_mode::eager) {
      CHECK(counters.promotions > 0);
    } else {
      CHECK(counters.promotions == 0);
    }
  }
  auto counting = std::make_shared<counting_policy>();
  pulse::runtime rt{{.workers = 1, .heartbeat = 20us, .policy = counting}};
  CHECK(pulse::sync_wait(rt, sum_of_squares(n)) == squares);
  CHECK(counting->asked > 0);
  CHECK(rt.stats().promotions > 0);  // the policy's answer holds, one worker or not
}

pulse::task<long> visit_each(std::vector<std::atomic<int>>& visits, std::size_t first, std::size_t last) {
  co_await pulse::parallel_for(first, last, [&](std::size_t i) {
    visits[i].fetch_add(1, std::memory_order_relaxed);
    if (i % 4096 == 0) {
      spin_for(1us);
    }
  });
  co_return 0;
}

TEST_CASE("a user policy decides loop splits, and its interval is clamped", "[heartbeat][policy][loops]") {
  const std::size_t n = 1'000'000;  // the sum of squares stays below 2^63
  auto refusing = std::make_shared<refusing_policy>();
  {
    pulse::runtime rt{{.workers = 2, .heartbeat = 20us, .policy = refusing}};
    CHECK(pulse::sync_wait(rt, sum_of_squares(n)) == pulse::sync_wait(rt, sum_of_squares(n)));
    CHECK(rt.stats().promotions == 0);  // the policy said no, loops included
  }
  CHECK(refusing->asked > 0);  // the first heartbeat came; the clamped interval then held off the rest
  auto counting = std::make_shared<counting_policy>();
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us, .policy = counting}};
  pulse::sync_wait(rt, sum_of_squares(n));
  CHECK(counting->asked > 0);  // asked by the loop, the only latent work
  CHECK(rt.stats().promotions > 0);
}

// Chooses one victim for every thief, out of range on purpose (answers are taken modulo the
// workers): on 2 workers, thief + 1001 is the other worker and thief + 1000 the thief itself, which
// the runtime skips. Notes any call whose arguments are not what the runtime promised.
class victim_choosing_policy final : public pulse::promotion_policy {
public:
  explicit victim_choosing_policy(unsigned offset) : m_offset(offset) {}
  std::atomic<long> chosen{0};
  std::atomic<bool> bad_arguments{false};
  std::size_t should_promote(const pulse::heartbeat_sample&) noexcept override { return 1; }
  unsigned select_victim(unsigned thief, unsigned workers, std::uint64_t) noexcept override {
    chosen.fetch_add(1, std::memory_order_relaxed);
    if (workers != 2 || thief >= workers) {
      bad_arguments.store(true, std::memory_order_relaxed);
    }
    return thief + m_offset;
  }

private:
  const unsigned m_offset;
};

struct steal_accounting {
  long chosen;
  std::uint64_t attempts;
  std::uint64_t steals;
  bool operator==(const steal_accounting&) const = default;
};

// The policy's answers and the thieves' attempts once the idle workers have parked (two readings
// 50 ms apart agree), so that no search is half-counted.
steal_accounting settled_accounting(const pulse::runtime& rt, const victim_choosing_policy& policy) {
  const auto read = [&] {
    const pulse::stats counters = rt.stats();
    return steal_accounting{policy.chosen.load(), counters.steal_attempts, counters.steals};
  };
  steal_accounting last = read();
  for (int tries = 0; tries < 100; ++tries) {
    std::this_thread::sleep_for(50ms);
    const steal_accounting now = read();
    if (now == last) {
      break;
    }
    last = now;
  }
  return last;
}

// Each search asks the policy once, tries its answer unless that is the thief itself, then, if that
// found nothing, every other worker in the runtime's own order (here, the one other worker). So
// the count of attempts shows whether the answer was tried: answering the thief itself, one
// attempt per search; answering the other worker, two per search that found nothing at first.
TEST_CASE("a user policy chooses the victim thieves try first", "[heartbeat][policy][steal]") {
  const bool choose_other = GENERATE(true, false);
  auto policy = std::make_shared<victim_choosing_policy>(choose_other ? 1001 : 1000);
  pulse::runtime rt{{.workers = 2, .policy = policy}};
  for (int round = 0; round < 3; ++round) {
    CHECK(pulse::sync_wait(rt, two_long_tasks()));  // needs a steal
  }
  CHECK(pulse::sync_wait(rt, fib_fork(22)) == 17711);
  const steal_accounting seen = settled_accounting(rt, *policy);
  INFO("choosing the other worker: " << choose_other << ", policy asked " << seen.chosen << " times, attempts "
                                     << seen.attempts << ", steals " << seen.steals);
  CHECK_FALSE(policy->bad_arguments.load());
  CHECK(seen.steals >= 3);
  const auto chosen = static_cast<std::uint64_t>(seen.chosen);
  REQUIRE(chosen > seen.steals);  // some searches found nothing, which is what tells the cases apart
  if (choose_other) {
    // 2 per search, less one for each search whose first try took something.
    CHECK(seen.attempts <= 2 * chosen);
    CHECK(seen.attempts + seen.steals >= 2 * chosen);
  } else {
    CHECK(seen.attempts == chosen);
  }
}

// Every index of [first, last), counted, as offsets from `first` (the range may end at SIZE_MAX).
pulse::task<bool> visits_exactly(std::size_t first, std::size_t last) {
  std::vector<std::atomic<int>> visits(last - first);
  co_await pulse::parallel_for(first, last, [&](std::size_t i) {
    if (i - first < visits.size()) {
      visits[i - first].fetch_add(1, std::memory_order_relaxed);
    }
  });
  for (auto& v : visits) {
    if (v.load() != 1) {
      co_return false;
    }
  }
  co_return true;
}

pulse::task<std::size_t> count_of(std::size_t first, std::size_t last) {
  co_return co_await pulse::parallel_reduce(first, last, std::size_t{0}, [](std::size_t) { return std::size_t{1}; },
                                            [](std::size_t a, std::size_t b) { return a + b; });
}

TEST_CASE("loops over ranges that end at SIZE_MAX", "[loops]") {
  constexpr std::size_t last = SIZE_MAX;
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us}};
  CHECK(pulse::sync_wait(rt, visits_exactly(last - 100'000, last)));
  CHECK(pulse::sync_wait(rt, visits_exactly(last - 10, last)));
  CHECK(pulse::sync_wait(rt, count_of(last - 100'000, last)) == 100'000);
  // Off the workers, where a loop runs 2^30 iterations between polls.
  std::size_t visited = 0;
  pulse::parallel_for(last - 10, last, [&](std::size_t i) { visited += i >= last - 10 ? 1 : 1000; }).await_resume();
  CHECK(visited == 10);
}

pulse::task<int> negative_bound_loop(int first, int last) {
  co_await pulse::parallel_for(first, last, [](std::size_t) {});
  co_return 0;
}

TEST_CASE("a loop with a negative bound is refused", "[loops]") {
  pulse::runtime rt{{.workers = 1}};
  CHECK_THROWS_MATCHES(pulse::sync_wait(rt, negative_bound_loop(-10, -5)), std::invalid_argument,
                       Catch::Message("pulse::parallel_for: the range [-10, -5) has a negative bound; indices are std::size_t"));
  CHECK_THROWS_WITH(pulse::parallel_reduce(0, -1L, 0, [](std::size_t) { return 1; }, [](int a, int b) { return a + b; }),
                    Catch::Contains("pulse::parallel_reduce: the range [0, -1)"));
  CHECK(pulse::sync_wait(rt, negative_bound_loop(0, 3)) == 0);  // signed, not negative: fine
}

using big_accumulator = std::array<double, 16384>;  // 128 KiB: 64 split slots of it would be 8 MiB

pulse::task<double> big_reduce(std::size_t n) {
  const big_accumulator total = co_await pulse::parallel_reduce(
      0, n, big_accumulator{},
      [](std::size_t i) {
        big_accumulator one{};
        one[i % one.size()] = 1.0;
        return one;
      },
      [](big_accumulator a, const big_accumulator& b) {
        for (std::size_t k = 0; k < a.size(); ++k) {
          a[k] += b[k];
        }
        return a;
      });
  double sum = 0;
  for (const double x : total) {
    sum += x;
  }
  co_return sum;
}

TEST_CASE("parallel_reduce with an accumulator too big for the stack's split slots", "[loops]") {
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us}};
  CHECK(pulse::sync_wait(rt, big_reduce(3000)) == 3000.0);
}

TEST_CASE("parallel_for visits every index exactly once", "[loops]") {
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us}};
  constexpr std::size_t n = 1 << 21;
  std::vector<std::atomic<int>> visits(n);
  pulse::sync_wait(rt, visit_each(visits, 0, n));
  long wrong = 0;
  for (auto& v : visits) {
    wrong += v.load() == 1 ? 0 : 1;
  }
  CHECK(wrong == 0);
  pulse::sync_wait(rt, visit_each(visits, 5, 5));  // empty
  pulse::sync_wait(rt, visit_each(visits, 9, 3));  // reversed bounds: empty too
  pulse::sync_wait(rt, visit_each(visits, 7, 8));  // one element
  CHECK(visits[7].load() == 2);
  CHECK(visits[5].load() == 1);
  CHECK(pulse::sync_wait(rt, sum_of_squares(0)) == 0);
  CHECK(pulse::sync_wait(rt, sum_of_squares(1)) == 0);
}

pulse::task<int> failing_loop(std::atomic<long>& done) {
  try {
    co_await pulse::parallel_for(0, 1 << 20, [&](std::size_t i) {
      if (i == 1000 || i == 900'000) {
        throw numbered_error(static_cast<int>(i));
      }
      done.fetch_add(1, std::memory_order_relaxed);
    });
  } catch (const numbered_error& e) {
    co_return e.id;
  }
  co_return -1;
}

TEST_CASE("an exception in a loop is rethrown after the split-off ranges finish", "[loops][exception]") {
  pulse::runtime rt{{.workers = 2, .heartbeat = 20us}};
  std::atomic<long> done{0};
  CHECK(pulse::sync_wait(rt, failing_loop(done)) == 1000);  // the lowest-indexed failing range
}

pulse::task<long> two_phases(int depth) {
  if (depth == 0) {
    co_return 1;
  }
  // After the first join this task may continue on the worker that arrived last; its second fork
  // and its own finish then run on that worker, above whatever that worker was doing.
  auto [a, b] = co_await pulse::fork(two_phases(depth - 1), two_phases(depth - 1));
  auto [c, d] = co_await pulse::fork(two_phases(depth - 1), two_phases(depth - 1));
  co_return a + b + c + d;
}

TEST_CASE("sequential forks after a join that moved the task to another worker", "[heartbeat][migration]") {
  for (const auto mode : {pulse::promotion_mode::heartbeat, pulse::promotion_mode::eager}) {
    pulse::runtime rt{{.workers = 2, .heartbeat = 20us, .promotion = mode}};
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    int rounds = 0;
    long wrong = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      wrong += pulse::sync_wait(rt, two_phases(7)) == 16384 ? 0 : 1;
      ++rounds;
    }
    INFO(rounds << " rounds, " << rt.stats().steals << " steals");
    CHECK(wrong == 0);
    CHECK(rt.stats().steals > 0);
  }
}

}  // namespace
