// pulse::task<T>: what it is and how it behaves when awaited.
// Covers: laziness; value, move-only, braced, reference and void results; that results are moved,
// never copied, and every value is destroyed exactly once (lifetime counters); exceptions rethrown
// at the awaiter with the task's locals destroyed; a task that is never awaited freeing its frame
// and parameters; misuse (awaiting an empty task, awaiting twice) as std::logic_error; a million
// synchronously completing co_awaits and a 100,000-deep await chain in bounded stack, in every
// preset and at GCC -O1 (symmetric transfer, or the depth guard where GCC makes no tail call).
#include "counted.hpp"

#include <pulse/pulse.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

using pulse_test::counted;

static_assert(!std::is_copy_constructible_v<pulse::task<int>>);
static_assert(!std::is_copy_assignable_v<pulse::task<int>>);
static_assert(std::is_nothrow_move_constructible_v<pulse::task<int>>);
static_assert(std::is_nothrow_move_assignable_v<pulse::task<int>>);

namespace {

pulse::runtime& test_runtime() {
  static pulse::runtime instance{{.workers = 2}};
  return instance;
}

pulse::task<int> forty_two() { co_return 42; }

pulse::task<int> set_flag(bool& flag) {
  flag = true;
  co_return 1;
}

TEST_CASE("a task does not start until it is awaited", "[task]") {
  bool ran = false;
  pulse::task<int> lazy = set_flag(ran);
  CHECK_FALSE(ran);
  const int result = pulse::sync_wait(test_runtime(), std::move(lazy));
  CHECK(ran);
  CHECK(result == 1);
}

pulse::task<counted> make_counted(int value) { co_return counted{value}; }

pulse::task<int> consume_counted() {
  counted c = co_await make_counted(7);
  co_return c.value;
}

TEST_CASE("a value result is moved to the awaiter, never copied, and destroyed once", "[task][lifetime]") {
  counted::reset();
  CHECK(pulse::sync_wait(test_runtime(), consume_counted()) == 7);
  CHECK(counted::constructed == 1);
  CHECK(counted::copied == 0);
  CHECK(counted::alive() == 0);
}

TEST_CASE("sync_wait returns a value result by move", "[task][lifetime]") {
  counted::reset();
  {
    counted c = pulse::sync_wait(test_runtime(), make_counted(9));
    CHECK(c.value == 9);
    CHECK(counted::copied == 0);
  }
  CHECK(counted::alive() == 0);
}

pulse::task<std::unique_ptr<int>> make_unique_int(int value) { co_return std::make_unique<int>(value); }
pulse::task<std::pair<int, std::string>> braced() { co_return {3, "three"}; }

TEST_CASE("move-only and braced results", "[task]") {
  std::unique_ptr<int> p = pulse::sync_wait(test_runtime(), make_unique_int(5));
  REQUIRE(p != nullptr);
  CHECK(*p == 5);
  const auto [n, name] = pulse::sync_wait(test_runtime(), braced());
  CHECK(n == 3);
  CHECK(name == "three");
}

pulse::task<int&> pick(int& a, int& b, bool first) { co_return first ? a : b; }

pulse::task<int*> address_through_reference(int& a, int& b) {
  int& chosen = co_await pick(a, b, false);
  co_return &chosen;
}

TEST_CASE("a reference result refers to the original object", "[task]") {
  int a = 1;
  int b = 2;
  CHECK(pulse::sync_wait(test_runtime(), address_through_reference(a, b)) == &b);
  int& direct = pulse::sync_wait(test_runtime(), pick(a, b, true));
  CHECK(&direct == &a);
}

pulse::task<void> add_to(int& target, int amount) {
  target += amount;
  co_return;
}

pulse::task<void> add_three_times(int& target) {
  co_await add_to(target, 1);
  co_await add_to(target, 2);
  co_await add_to(target, 3);
}

TEST_CASE("void tasks run in order", "[task]") {
  int total = 0;
  pulse::sync_wait(test_runtime(), add_three_times(total));
  CHECK(total == 6);
}

pulse::task<int> throws_after_local(int& destroyed_locals) {
  struct guard {
    int& count;
    ~guard() { ++count; }
  } local{destroyed_locals};
  throw std::runtime_error("boom in child");
  co_return 0;
}

pulse::task<std::string> catches_child(int& destroyed_locals) {
  try {
    co_await throws_after_local(destroyed_locals);
  } catch (const std::runtime_error& e) {
    co_return std::string("caught: ") + e.what();
  }
  co_return "not thrown";
}

TEST_CASE("an exception escaping a task is rethrown at its awaiter", "[task][exception]") {
  int destroyed_locals = 0;
  CHECK(pulse::sync_wait(test_runtime(), catches_child(destroyed_locals)) == "caught: boom in child");
  CHECK(destroyed_locals == 1);
}

pulse::task<int> passes_exception_up(int& destroyed_locals) {
  const int value = co_await throws_after_local(destroyed_locals);
  co_return value + 1;
}

TEST_CASE("an exception nobody catches reaches sync_wait's caller", "[task][exception]") {
  int destroyed_locals = 0;
  CHECK_THROWS_MATCHES(pulse::sync_wait(test_runtime(), passes_exception_up(destroyed_locals)), std::runtime_error,
                       Catch::Message("boom in child"));
  CHECK(destroyed_locals == 1);
}

pulse::task<int> holds_parameter(counted c) { co_return c.value; }

TEST_CASE("a task that is never awaited frees its frame and parameters", "[task][lifetime]") {
  counted::reset();
  {
    pulse::task<int> never = holds_parameter(counted{1});
    CHECK(counted::alive() == 1);  // the copy that lives in the frame
  }
  CHECK(counted::alive() == 0);

  // Moving and reassigning transfer ownership of the frame; the overwritten frame is freed.
  pulse::task<int> first = holds_parameter(counted{2});
  pulse::task<int> second = holds_parameter(counted{3});
  first = std::move(second);
  CHECK(counted::alive() == 1);
  CHECK_FALSE(static_cast<bool>(second));  // NOLINT(bugprone-use-after-move): that is the point
  CHECK(pulse::sync_wait(test_runtime(), std::move(first)) == 3);
  CHECK(counted::alive() == 0);
}

pulse::task<std::string> await_twice() {
  pulse::task<int> once = forty_two();
  const int value = co_await once;
  try {
    co_await once;
  } catch (const std::logic_error& e) {
    co_return std::to_string(value) + ": " + e.what();
  }
  co_return "no error";
}

pulse::task<std::string> await_empty() {
  pulse::task<int> source = forty_two();
  pulse::task<int> target = std::move(source);
  try {
    co_await source;  // NOLINT(bugprone-use-after-move): that is the point
  } catch (const std::logic_error& e) {
    co_return e.what();
  }
  co_return "no error";
}

TEST_CASE("awaiting a task twice, or an empty task, is a logic_error", "[task][misuse]") {
  const std::string twice = pulse::sync_wait(test_runtime(), await_twice());
  CHECK_THAT(twice, Catch::StartsWith("42: ") && Catch::Contains("awaited twice"));
  CHECK_THAT(pulse::sync_wait(test_runtime(), await_empty()), Catch::Contains("empty pulse::task"));
  CHECK_THROWS_AS(pulse::sync_wait(test_runtime(), pulse::task<int>{}), std::logic_error);
}

// The stack address of the coroutine resumed to run this task.
pulse::task<std::uintptr_t> stack_position() {
  co_return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

// Where GCC makes no tail call, transfers may nest down to the trampoline's budget (256 KiB) before
// they bounce; with tail calls the span is a few bytes. Either way it does not depend on how many
// awaits there are: without the bound, a million would need hundreds of MiB and crash.
constexpr std::uintptr_t bounded_stack = 320 * 1024;

struct stack_span {
  std::uintptr_t lowest = UINTPTR_MAX;
  std::uintptr_t highest = 0;
  void add(std::uintptr_t position) {
    lowest = std::min(lowest, position);
    highest = std::max(highest, position);
  }
  std::uintptr_t width() const { return highest - lowest; }
};

pulse::task<stack_span> million_synchronous_awaits() {
  stack_span span;
  for (int i = 0; i < 1'000'000; ++i) {
    span.add(co_await stack_position());
  }
  co_return span;
}

TEST_CASE("a million co_awaits of tasks that complete at once run in bounded stack", "[task][stack]") {
  const stack_span span = pulse::sync_wait(test_runtime(), million_synchronous_awaits());
  INFO("PULSE_BOUNDED_TRANSFER=" << PULSE_BOUNDED_TRANSFER);
  CHECK(span.width() <= bounded_stack);
}

pulse::task<std::uintptr_t> deepest_position(int depth) {
  if (depth == 0) {
    co_return co_await stack_position();
  }
  co_return co_await deepest_position(depth - 1);
}

pulse::task<stack_span> deep_chain() {
  stack_span span;
  span.add(co_await stack_position());
  span.add(co_await deepest_position(100'000));
  co_return span;
}

TEST_CASE("a 100,000-deep chain of awaits runs in bounded stack", "[task][stack]") {
  const stack_span span = pulse::sync_wait(test_runtime(), deep_chain());
  CHECK(span.width() <= bounded_stack);
}

}  // namespace

namespace {

std::unique_ptr<pulse::task<int>> g_running_task;

pulse::task<int> sleeps_then_seven() {
  co_await pulse::sleep_for(std::chrono::milliseconds(200));
  co_return 7;
}

pulse::task<void> await_the_running_task() { co_await *g_running_task; }

pulse::task<void> destroy_the_running_task() {
  co_await pulse::sleep_for(std::chrono::milliseconds(50));
  g_running_task.reset();
}

}  // namespace

// In a process of its own (CTest looks for the message): the task is suspended in its sleep when
// another task destroys it, on the same worker (so that the misuse is not also a data race, which
// TSan would report first). Before, the timer's completion resumed the freed frame (SIGSEGV).
TEST_CASE("destroying a task while it runs is a fatal error that says so", "[.][destroy-running]") {
  pulse::runtime rt({.workers = 1});
  g_running_task = std::make_unique<pulse::task<int>>(sleeps_then_seven());
  pulse::spawn(rt, await_the_running_task());
  pulse::sync_wait(rt, destroy_the_running_task());
  FAIL("the destruction returned");
}

