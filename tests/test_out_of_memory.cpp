// Out of memory on the scheduler's own paths: the latent stack cannot grow.
// Covers: a pcall of one later call then runs both calls inline, in order, with the right result;
// a pcall of two later calls throws std::bad_alloc before recording anything; a fork that cannot
// publish the rest of its children runs them serially, with every result, and leaves nothing
// behind (the same runtime then computes fib exactly). Replaces the global operator new to
// fail exactly the latent stack's first block (256 entries) once armed; not built under
// sanitizers, which replace it themselves.
#include <pulse/pulse.hpp>

#include "fib.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

// The latent stack's first block: 256 eight-byte entries.
constexpr std::size_t latent_stack_first_block = 256 * sizeof(void*);
std::atomic<bool> g_fail_next_latent_block{false};

void* allocate(std::size_t bytes) {
  if (bytes == latent_stack_first_block && g_fail_next_latent_block.exchange(false)) {
    throw std::bad_alloc();
  }
  if (void* memory = std::malloc(bytes == 0 ? 1 : bytes)) {
    return memory;
  }
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t bytes) { return allocate(bytes); }
void* operator new[](std::size_t bytes) { return allocate(bytes); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

pulse::task<long> one_later_call() {
  auto [a, b] = pulse::pcall([] { return 40L; }, [] { return 2L; });
  co_return a + b;
}

pulse::task<long> two_later_calls() {
  auto [a, b, c] = pulse::pcall([] { return 1L; }, [] { return 2L; }, [] { return 3L; });
  co_return a + b + c;
}

TEST_CASE("a pcall whose one later call cannot be recorded runs both calls inline", "[oom]") {
  pulse::runtime rt{{.workers = 1}};  // fresh: its worker's latent stack has no storage yet
  g_fail_next_latent_block = true;
  CHECK(pulse::sync_wait(rt, one_later_call()) == 42);
  CHECK_FALSE(g_fail_next_latent_block);  // the failure did happen
  CHECK(pulse::sync_wait(rt, pulse_test::fib_pcall_task(20)) == 6765);
}

TEST_CASE("a pcall of several calls that cannot reserve room throws bad_alloc, recording nothing", "[oom]") {
  pulse::runtime rt{{.workers = 1}};
  g_fail_next_latent_block = true;
  CHECK_THROWS_AS(pulse::sync_wait(rt, two_later_calls()), std::bad_alloc);
  CHECK_FALSE(g_fail_next_latent_block);
  CHECK(pulse::sync_wait(rt, two_later_calls()) == 6);
  CHECK(pulse::sync_wait(rt, pulse_test::fib_pcall_task(20)) == 6765);
}

TEST_CASE("a fork that cannot publish the rest of its children runs them serially", "[oom]") {
  pulse::runtime rt{{.workers = 1}};
  std::atomic<int> ran{0};
  const auto counted = [&ran](int value) -> pulse::task<int> {
    ran.fetch_add(1);
    co_return value;
  };
  const auto three = [&]() -> pulse::task<int> {
    auto [a, b, c] = co_await pulse::fork(counted(1), counted(2), counted(3));
    co_return a * 100 + b * 10 + c;
  };
  g_fail_next_latent_block = true;
  CHECK(pulse::sync_wait(rt, three()) == 123);
  CHECK_FALSE(g_fail_next_latent_block);  // the failure did happen
  CHECK(ran.load() == 3);
  CHECK(pulse::sync_wait(rt, pulse_test::fib_fork(20)) == 6765);
}

}  // namespace
