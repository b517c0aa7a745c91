// pulse::fork and pulse::fork_all.
// Covers: results in order (values, references, void as std::monostate, move-only); fork of one
// task and fork_all of none; fib and nqueens exact at 1, 2, 4 and 8 workers; with one worker the
// children run in exactly the serial (depth-first) order; with two workers a sibling really runs
// in parallel (it is stolen); exceptions: the lowest-numbered failure is rethrown, siblings that
// had started finish before the await completes, siblings not started are skipped; misuse (an empty
// or already-started task) is a std::logic_error; a time-bounded stress of random fork trees with
// exceptions at random nodes, checked against a serial evaluation, at 1, 2, 4 and 8 workers; a
// fork child resumed inline by user code (an event whose set() calls resume()) from inside a
// sibling, directly or under the sibling's own fork, finishes without taking work that is not its.
#include <pulse/pulse.hpp>

#include "fib.hpp"
#include "inline_event.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace {

using pulse_test::fib_fork;

using namespace std::chrono_literals;

pulse::task<int> value(int x) { co_return x; }
pulse::task<std::string> text(std::string s) { co_return s; }
pulse::task<void> add(std::atomic<int>& target, int amount) {
  target += amount;
  co_return;
}

pulse::task<void> fork_shapes(std::atomic<int>& failures) {
  auto [a, b, c] = co_await pulse::fork(value(1), text("two"), value(3));
  failures += (a == 1 && b == "two" && c == 3) ? 0 : 1;

  std::atomic<int> total{0};
  auto [x, y] = co_await pulse::fork(add(total, 5), add(total, 7));
  static_assert(std::is_same_v<decltype(x), std::monostate>);
  failures += total == 12 ? 0 : 1;

  auto [single] = co_await pulse::fork(value(9));
  failures += single == 9 ? 0 : 1;

  static int shared = 4;
  auto ref = []() -> pulse::task<int&> { co_return shared; };
  auto [r, u] = co_await pulse::fork(ref(), []() -> pulse::task<std::unique_ptr<int>> {
    co_return std::make_unique<int>(6);
  }());
  failures += (&r == &shared && *u == 6) ? 0 : 1;

  std::vector<pulse::task<int>> many;
  for (int i = 0; i < 100; ++i) {
    many.push_back(value(i));
  }
  const std::vector<int> results = co_await pulse::fork_all(std::move(many));
  for (int i = 0; i < 100; ++i) {
    failures += results[static_cast<std::size_t>(i)] == i ? 0 : 1;
  }

  const std::vector<int> none = co_await pulse::fork_all(std::vector<pulse::task<int>>{});
  failures += none.empty() ? 0 : 1;

  std::vector<pulse::task<void>> voids;
  voids.push_back(add(total, 1));
  voids.push_back(add(total, 1));
  const std::vector<std::monostate> done = co_await pulse::fork_all(std::move(voids));
  failures += (done.size() == 2 && total == 14) ? 0 : 1;
}

TEST_CASE("fork and fork_all return every result, in order", "[fork]") {
  pulse::runtime rt{{.workers = 2}};
  std::atomic<int> failures{0};
  pulse::sync_wait(rt, fork_shapes(failures));
  CHECK(failures == 0);
}

bool safe(const std::vector<int>& queens, int column) {
  const int row = static_cast<int>(queens.size());
  for (int r = 0; r < row; ++r) {
    const int c = queens[static_cast<std::size_t>(r)];
    if (c == column || c - column == r - row || c - column == row - r) {
      return false;
    }
  }
  return true;
}

pulse::task<long> nqueens(int n, std::vector<int> queens) {
  if (static_cast<int>(queens.size()) == n) {
    co_return 1;
  }
  std::vector<pulse::task<long>> placements;
  for (int column = 0; column < n; ++column) {
    if (safe(queens, column)) {
      std::vector<int> next = queens;
      next.push_back(column);
      placements.push_back(nqueens(n, std::move(next)));
    }
  }
  long total = 0;
  for (const long count : co_await pulse::fork_all(std::move(placements))) {
    total += count;
  }
  co_return total;
}

TEST_CASE("fib and nqueens are exact at 1, 2, 4 and 8 workers", "[fork]") {
  for (const unsigned workers : {1U, 2U, 4U, 8U}) {
    INFO(workers << " workers");
    pulse::runtime rt{{.workers = workers}};
    CHECK(pulse::sync_wait(rt, fib_fork(22)) == 17711);
    CHECK(pulse::sync_wait(rt, nqueens(8, {})) == 92);
  }
}

struct trace {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(std::string event) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(event));
  }
};

pulse::task<void> traced(trace& log, std::string name, int depth) {
  log.add("start " + name);
  if (depth > 0) {
    co_await pulse::fork(traced(log, name + ".0", depth - 1), traced(log, name + ".1", depth - 1),
                         traced(log, name + ".2", depth - 1));
  }
  log.add("end " + name);
}

void serial_trace(std::vector<std::string>& out, const std::string& name, int depth) {
  out.push_back("start " + name);
  if (depth > 0) {
    for (int i = 0; i < 3; ++i) {
      serial_trace(out, name + "." + std::to_string(i), depth - 1);
    }
  }
  out.push_back("end " + name);
}

TEST_CASE("on one worker a fork runs its tasks in serial order", "[fork][order]") {
  pulse::runtime rt{{.workers = 1}};
  trace log;
  pulse::sync_wait(rt, traced(log, "r", 3));
  std::vector<std::string> expected;
  serial_trace(expected, "r", 3);
  CHECK(log.events == expected);
}

pulse::task<int> rendezvous(std::atomic<int>& arrived) {
  arrived.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
  }
  co_return arrived.load();
}

TEST_CASE("with two workers the second task is stolen and runs in parallel", "[fork][steal]") {
  pulse::runtime rt{{.workers = 2}};
  // Each task waits (bounded) for the other to arrive: only possible if a thief took the second.
  auto both = [](std::atomic<int>& arrived) -> pulse::task<bool> {
    auto [a, b] = co_await pulse::fork(rendezvous(arrived), rendezvous(arrived));
    co_return a == 2 && b == 2;
  };
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> arrived{0};
    REQUIRE(pulse::sync_wait(rt, both(arrived)));
  }
}

struct numbered_error : std::runtime_error {
  explicit numbered_error(int id_) : std::runtime_error("task " + std::to_string(id_) + " failed"), id(id_) {}
  int id;
};

// A task that records that it ran, and that it finished, even when it throws.
pulse::task<int> tracked(int id, bool fails, std::atomic<int>& ran, std::atomic<int>& active) {
  ran.fetch_add(1);
  active.fetch_add(1);
  struct on_exit {
    std::atomic<int>& active;
    ~on_exit() { active.fetch_sub(1); }
  } guard{active};
  if (fails) {
    throw numbered_error(id);
  }
  co_return id;
}

pulse::task<int> lowest_failure_wins(std::atomic<int>& ran, std::atomic<int>& active, bool& all_done) {
  try {
    co_await pulse::fork(tracked(0, false, ran, active), tracked(1, true, ran, active), tracked(2, false, ran, active),
                         tracked(3, true, ran, active));
  } catch (const numbered_error& e) {
    all_done = active.load() == 0;  // no task still running once the await is over
    co_return e.id;
  }
  co_return -1;
}

TEST_CASE("a failing task: the lowest-numbered failure is rethrown and no task outlives the await",
          "[fork][exception]") {
  for (const unsigned workers : {1U, 2U}) {
    pulse::runtime rt{{.workers = workers}};
    for (int round = 0; round < 50; ++round) {
      std::atomic<int> ran{0};
      std::atomic<int> active{0};
      bool all_done = false;
      REQUIRE(pulse::sync_wait(rt, lowest_failure_wins(ran, active, all_done)) == 1);
      REQUIRE(all_done);
      if (workers == 1) {
        // Nothing is stolen, so tasks 2 and 3 have not started when task 1 fails: both skipped.
        REQUIRE(ran == 2);
      }
    }
  }
}

pulse::task<std::string> fork_misuse() {
  std::string messages;
  pulse::task<int> empty;
  try {
    co_await pulse::fork(value(1), std::move(empty));
  } catch (const std::logic_error& e) {
    messages += e.what();
    messages += "|";
  }
  pulse::task<int> once = value(2);
  co_await once;
  std::vector<pulse::task<int>> again;
  again.push_back(std::move(once));
  try {
    co_await pulse::fork_all(std::move(again));
  } catch (const std::logic_error& e) {
    messages += e.what();
  }
  co_return messages;
}

TEST_CASE("forking an empty or already-started task is a logic_error", "[fork][misuse]") {
  pulse::runtime rt{{.workers = 1}};
  const std::string messages = pulse::sync_wait(rt, fork_misuse());
  CHECK_THAT(messages, Catch::Contains("pulse::fork: task 1 is empty") &&
                           Catch::Contains("pulse::fork_all: task 0 has already been started"));
}

// Random fork trees: a node either is a leaf (which may throw) or forks 1 to 4 children, with fork
// for two and fork_all otherwise. The same seed gives the same tree in the serial reference.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

struct tree_shape {
  bool leaf;
  bool throws;
  int children;
};

tree_shape shape_of(std::uint64_t seed, int depth) {
  const std::uint64_t r = mix(seed);
  const bool leaf = depth == 0 || r % 7 == 0;
  return {leaf, leaf && r % 53 == 0, 1 + static_cast<int>((r >> 8) % 4)};
}

std::uint64_t child_seed(std::uint64_t seed, int index) { return mix(seed + 0x9E3779B97F4A7C15ULL * (index + 1)); }

long serial_tree(std::uint64_t seed, int depth) {
  const tree_shape shape = shape_of(seed, depth);
  if (shape.leaf) {
    if (shape.throws) {
      throw numbered_error(static_cast<int>(seed % 100000));
    }
    return static_cast<long>(seed % 1000);
  }
  long total = 1;
  for (int i = 0; i < shape.children; ++i) {
    total += serial_tree(child_seed(seed, i), depth - 1);
  }
  return total;
}

struct tree_checks {
  std::atomic<long> outlived{0};  // a child still active after its parent's await completed
};

pulse::task<long> parallel_tree(std::uint64_t seed, int depth, tree_checks& checks) {
  const tree_shape shape = shape_of(seed, depth);
  if (shape.leaf) {
    if (shape.throws) {
      throw numbered_error(static_cast<int>(seed % 100000));
    }
    co_return static_cast<long>(seed % 1000);
  }
  std::atomic<int> active{0};
  auto child = [&](int i) -> pulse::task<long> {
    active.fetch_add(1);
    struct on_exit {
      std::atomic<int>& active;
      ~on_exit() { active.fetch_sub(1); }
    } guard{active};
    co_return co_await parallel_tree(child_seed(seed, i), depth - 1, checks);
  };
  long total = 1;
  try {
    if (shape.children == 2) {
      auto [a, b] = co_await pulse::fork(child(0), child(1));
      total += a + b;
    } else {
      std::vector<pulse::task<long>> tasks;
      for (int i = 0; i < shape.children; ++i) {
        tasks.push_back(child(i));
      }
      for (const long each : co_await pulse::fork_all(std::move(tasks))) {
        total += each;
      }
    }
  } catch (...) {
    if (active.load() != 0) {
      checks.outlived.fetch_add(1);
    }
    throw;
  }
  if (active.load() != 0) {
    checks.outlived.fetch_add(1);
  }
  co_return total;
}

TEST_CASE("random fork trees with exceptions match a serial evaluation", "[fork][stress]") {
  // Bounded in time so the suite fits CI under TSan; each worker count gets its share.
  constexpr auto budget_per_runtime = 1500ms;
  long trees = 0;
  long mismatches = 0;
  tree_checks checks;
  for (const unsigned workers : {1U, 2U, 4U, 8U}) {
    pulse::runtime rt{{.workers = workers}};
    const auto deadline = std::chrono::steady_clock::now() + budget_per_runtime;
    for (std::uint64_t seed = workers * 1'000'003ULL; std::chrono::steady_clock::now() < deadline; ++seed) {
      std::string expected;
      std::string actual;
      try {
        expected = "value " + std::to_string(serial_tree(seed, 7));
      } catch (const numbered_error& e) {
        expected = std::string("error ") + e.what();
      }
      try {
        actual = "value " + std::to_string(pulse::sync_wait(rt, parallel_tree(seed, 7, checks)));
      } catch (const numbered_error& e) {
        actual = std::string("error ") + e.what();
      }
      ++trees;
      if (actual != expected) {
        ++mismatches;
        UNSCOPED_INFO("seed " << seed << ": expected " << expected << ", got " << actual);
      }
    }
  }
  INFO(trees << " trees");
  CHECK(trees > 50);
  CHECK(mismatches == 0);
  CHECK(checks.outlived == 0);
}

using pulse_test::inline_event;
using pulse_test::set_then;
using pulse_test::value_of;
using pulse_test::wait_then;

pulse::task<int> set_under_fork(inline_event& event, std::atomic<int>& runs) {
  runs.fetch_add(1);
  auto [set, other] = co_await pulse::fork(set_then(event, 20), value_of(30));
  co_return set + other;
}

pulse::task<int> inline_resumed_sibling(bool under_fork, std::atomic<int>& runs) {
  inline_event event;
  // The first task suspends; the second resumes it inline, and it finishes inside the second
  // (under the second's own fork, or directly), above entries of this fork or of the inner one.
  if (under_fork) {
    auto [waited, setter, last] = co_await pulse::fork(wait_then(event, 1), set_under_fork(event, runs), value_of(400));
    co_return waited + setter + last;
  }
  auto [waited, setter, last] = co_await pulse::fork(wait_then(event, 1), set_then(event, 50), value_of(400));
  co_return waited + setter + last;
}

TEST_CASE("a fork child resumed inline by user code from inside a sibling takes only its own work", "[fork][inline]") {
  for (const unsigned workers : {1U, 2U}) {
    pulse::runtime rt({.workers = workers});
    for (int round = 0; round < 50; ++round) {
      std::atomic<int> runs{0};
      const int direct = pulse::sync_wait(rt, inline_resumed_sibling(false, runs));
      CHECK(direct == 451);
      const int nested = pulse::sync_wait(rt, inline_resumed_sibling(true, runs));
      CHECK(nested == 451);
      CHECK(runs.load() == 1);
    }
  }
}

}  // namespace
