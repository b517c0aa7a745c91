// lib/sched/chase_lev_deque.hpp under real threads (the Relacy model in tests/model/ covers the
// weak-memory interleavings).
// Covers: LIFO pop and FIFO steal order; empty results; growth from a tiny ring with the contents
// intact; rings taken from and all given back to a memory resource of the owner's choosing (a
// worker's: pages on its NUMA node); an owner pushing and popping against three thieves with every item coming out exactly
// once and every payload destroyed exactly once (time-bounded stress).
#include "sched/chase_lev_deque.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory_resource>
#include <thread>
#include <vector>

namespace {

using pulse::detail::chase_lev_deque;
using pulse::detail::take_status;

TEST_CASE("the owner pops newest first, thieves steal oldest first", "[deque]") {
  chase_lev_deque<std::intptr_t> deque(4);
  CHECK(deque.pop().status == take_status::empty);
  CHECK(deque.steal().status == take_status::empty);
  CHECK(deque.looks_empty());
  for (std::intptr_t i = 1; i <= 3; ++i) {
    deque.push(i);
  }
  CHECK_FALSE(deque.looks_empty());
  const auto oldest = deque.steal();
  REQUIRE(oldest);
  CHECK(oldest.value == 1);
  const auto newest = deque.pop();
  REQUIRE(newest);
  CHECK(newest.value == 3);
  const auto last = deque.pop();
  REQUIRE(last);
  CHECK(last.value == 2);
  CHECK(deque.pop().status == take_status::empty);
  CHECK(deque.steal().status == take_status::empty);
}

TEST_CASE("a full ring grows and keeps every element in order", "[deque]") {
  chase_lev_deque<std::intptr_t> deque(2);
  constexpr std::intptr_t count = 10'000;
  for (std::intptr_t i = 0; i < count; ++i) {
    deque.push(i);
  }
  CHECK(deque.capacity() >= static_cast<std::size_t>(count));
  for (std::intptr_t i = 0; i < 10; ++i) {  // oldest from the top
    const auto r = deque.steal();
    REQUIRE(r);
    CHECK(r.value == i);
  }
  for (std::intptr_t i = count - 1; i >= 10; --i) {  // the rest from the bottom
    const auto r = deque.pop();
    REQUIRE(r);
    CHECK(r.value == i);
  }
  CHECK(deque.pop().status == take_status::empty);
}

// Counts what passes through to the heap.
class counting_resource final : public std::pmr::memory_resource {
public:
  long live = 0;
  long allocations = 0;

private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    ++live;
    ++allocations;
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    --live;
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

TEST_CASE("rings come from the owner's memory resource, and all go back to it", "[deque]") {
  counting_resource memory;
  {
    chase_lev_deque<std::intptr_t> deque(&memory, 2);
    CHECK(memory.allocations == 1);
    for (std::intptr_t i = 0; i < 1000; ++i) {
      deque.push(i);
    }
    CHECK(memory.allocations == 10);  // 2, 4, ... 1024 cells
    for (std::intptr_t i = 999; i >= 0; --i) {
      const auto r = deque.pop();
      REQUIRE(r);
      CHECK(r.value == i);
    }
  }
  CHECK(memory.live == 0);
}

struct payload {
  static inline std::atomic<long> destroyed{0};
  explicit payload(long id_) : id(id_) {}
  payload(const payload&) = delete;
  payload& operator=(const payload&) = delete;
  ~payload() { destroyed.fetch_add(1, std::memory_order_relaxed); }
  long id;
};

TEST_CASE("an owner and three thieves: every item comes out exactly once", "[deque][stress]") {
  // The deque carries pointers; whoever takes one deletes it, so destructor counts must match too.
  constexpr long items = 400'000;
  constexpr auto time_limit = std::chrono::seconds(20);
  payload::destroyed = 0;
  chase_lev_deque<payload*> deque(2);  // start tiny: growth races steals
  std::vector<std::atomic<int>> seen(items);
  std::atomic<bool> owner_done{false};
  std::atomic<long> stolen{0};

  auto take = [&](payload* p) {
    seen[static_cast<std::size_t>(p->id)].fetch_add(1, std::memory_order_relaxed);
    delete p;
  };

  std::vector<std::thread> thieves;
  for (int t = 0; t < 3; ++t) {
    thieves.emplace_back([&] {
      // Stop only when the owner has finished and the deque is drained.
      while (!owner_done.load(std::memory_order_acquire) || !deque.looks_empty()) {
        if (const auto r = deque.steal()) {
          take(r.value);
          stolen.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }

  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  long pushed = 0;
  // Bursts of pushes with pops in between, so both the many-elements and last-element paths race.
  while (pushed < items && std::chrono::steady_clock::now() < deadline) {
    const long burst = 1 + pushed % 7;
    for (long i = 0; i < burst && pushed < items; ++i) {
      deque.push(new payload(pushed++));
    }
    for (long i = 0; i < burst / 2 + 1; ++i) {
      if (const auto r = deque.pop()) {
        take(r.value);
      }
    }
  }
  while (true) {
    const auto r = deque.pop();
    if (r.status == take_status::empty) {
      break;
    }
    if (r) {
      take(r.value);
    }
  }
  owner_done.store(true, std::memory_order_release);
  for (auto& thief : thieves) {
    thief.join();
  }

  long missing = 0;
  long duplicated = 0;
  for (long i = 0; i < pushed; ++i) {
    const int count = seen[static_cast<std::size_t>(i)].load();
    missing += count == 0 ? 1 : 0;
    duplicated += count > 1 ? 1 : 0;
  }
  INFO("pushed " << pushed << ", stolen " << stolen.load());
  CHECK(pushed > 0);
  CHECK(missing == 0);
  CHECK(duplicated == 0);
  CHECK(payload::destroyed == pushed);
}

}  // namespace
