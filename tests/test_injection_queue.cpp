// lib/sched/injection_queue.hpp: the MPMC queue that work from outside the workers arrives on.
// Covers: FIFO order from one producer; empty pops; a ring too small for the load spilling into the
// overflow list without losing or duplicating anything; four producers and four consumers, every
// item taken exactly once (time-bounded stress).
#include "sched/injection_queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using pulse::detail::injection_queue;

TEST_CASE("one producer: first in, first out", "[injection]") {
  injection_queue<std::intptr_t> queue(8);
  std::intptr_t out = 0;
  CHECK_FALSE(queue.try_pop(out));
  CHECK(queue.looks_empty());
  for (std::intptr_t i = 1; i <= 5; ++i) {
    queue.push(i);
  }
  CHECK_FALSE(queue.looks_empty());
  for (std::intptr_t i = 1; i <= 5; ++i) {
    REQUIRE(queue.try_pop(out));
    CHECK(out == i);
  }
  CHECK_FALSE(queue.try_pop(out));
}

TEST_CASE("a full ring overflows instead of refusing work", "[injection]") {
  injection_queue<std::intptr_t> queue(4);
  for (std::intptr_t i = 0; i < 100; ++i) {
    queue.push(i);
  }
  std::vector<int> seen(100, 0);
  std::intptr_t out = 0;
  while (queue.try_pop(out)) {
    ++seen[static_cast<std::size_t>(out)];
  }
  for (const int count : seen) {
    CHECK(count == 1);
  }
  CHECK(queue.looks_empty());
}

TEST_CASE("four producers, four consumers: every item exactly once", "[injection][stress]") {
  constexpr int producers = 4;
  constexpr std::intptr_t per_producer = 100'000;
  injection_queue<std::intptr_t> queue(64);  // small: the overflow path races too
  std::vector<std::atomic<int>> seen(producers * per_producer);
  std::atomic<int> producers_done{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::intptr_t i = 0; i < per_producer; ++i) {
        queue.push(p * per_producer + i);
      }
      producers_done.fetch_add(1, std::memory_order_release);
    });
  }
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&] {
      std::intptr_t out = 0;
      while (true) {
        if (queue.try_pop(out)) {
          seen[static_cast<std::size_t>(out)].fetch_add(1, std::memory_order_relaxed);
        } else if (producers_done.load(std::memory_order_acquire) == producers && queue.looks_empty()) {
          break;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  long wrong = 0;
  for (auto& count : seen) {
    wrong += count.load() == 1 ? 0 : 1;
  }
  CHECK(wrong == 0);
}

}  // namespace
