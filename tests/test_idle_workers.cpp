// lib/sched/idle_workers.hpp: how idle workers park and are woken, on its own with plain threads
// as workers, sleeping on their futex words. Covers: a notify wakes the worker that parked last,
// or the one a ranking prefers, counted as searching; a park whose last look sees work does not
// sleep; wake_all wakes every sleeper with shutdown; and a stress of the protocol itself, parkers
// that take work items against producers that publish them and notify, where a lost wake-up shows
// as items left over (a watchdog aborts after 60 s instead of hanging CTest).
#include "sched/idle_workers.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace {

using pulse::detail::idle_workers;
using pulse::detail::wake_rank;
using wake_reason = idle_workers::wake_reason;
using namespace std::chrono_literals;

// Parks `self` with nothing visible and no timeout, on a thread of its own; the reason is kept.
class parked_thread {
public:
  parked_thread(idle_workers& idle, unsigned self, std::atomic<int>& parked) {
    m_thread = std::thread([&idle, self, &parked, this] {
      parked.fetch_add(1, std::memory_order_release);
      m_reason.store(static_cast<int>(idle.park(self, [] { return false; }, 0)), std::memory_order_release);
    });
  }
  parked_thread(const parked_thread&) = delete;
  parked_thread& operator=(const parked_thread&) = delete;
  ~parked_thread() { join(); }
  void join() {
    if (m_thread.joinable()) {
      m_thread.join();
    }
  }
  // -1 while asleep.
  int reason() const noexcept { return m_reason.load(std::memory_order_acquire); }

private:
  std::atomic<int> m_reason{-1};
  std::thread m_thread;
};

// Until `count` threads have counted themselves and gone to sleep (the counter is bumped just
// before parking, so the sleep itself is given a moment).
void wait_until_parked(const std::atomic<int>& parked, int count) {
  while (parked.load(std::memory_order_acquire) < count) {
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(20ms);
}

// Workers 0, 1 and 2 of `idle`, parked in that order.
struct three_parked {
  explicit three_parked(idle_workers& idle) {
    for (unsigned self = 0; self < 3; ++self) {
      threads.push_back(std::make_unique<parked_thread>(idle, self, parked));
      wait_until_parked(parked, static_cast<int>(self) + 1);
    }
  }
  parked_thread& operator[](std::size_t i) { return *threads[i]; }
  // Waits up to 5 s for one of them to wake; its index, or -1.
  int the_one_woken() const {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < give_up) {
      for (std::size_t i = 0; i < threads.size(); ++i) {
        if (threads[i]->reason() != -1) {
          return static_cast<int>(i);
        }
      }
      std::this_thread::sleep_for(1ms);
    }
    return -1;
  }

  std::atomic<int> parked{0};
  std::vector<std::unique_ptr<parked_thread>> threads;
};

}  // namespace

TEST_CASE("notify wakes the worker that parked last, counted as searching", "[idle]") {
  idle_workers idle(3);
  three_parked workers(idle);
  idle.notify();
  CHECK(workers.the_one_woken() == 2);
  CHECK(workers[2].reason() == static_cast<int>(wake_reason::notified));
  // Counted as searching on its behalf: another notify wakes nobody until it stops searching.
  idle.notify();
  std::this_thread::sleep_for(50ms);
  CHECK(workers[0].reason() == -1);
  CHECK(workers[1].reason() == -1);
  idle.stop_searching();
  idle.wake_all();
  workers[0].join();
  workers[1].join();
  CHECK(workers[0].reason() == static_cast<int>(wake_reason::shutdown));
  CHECK(workers[1].reason() == static_cast<int>(wake_reason::shutdown));
}

TEST_CASE("a ranking chooses the sleeper, whenever it parked", "[idle]") {
  idle_workers idle(3);
  three_parked workers(idle);
  const auto worker_1_first = [](unsigned worker) { return worker == 1 ? 0U : 1U; };
  idle.notify(wake_rank{worker_1_first});
  CHECK(workers.the_one_woken() == 1);
  idle.stop_searching();
  idle.wake_all();
}

TEST_CASE("a park whose last look sees work does not sleep, and leaves no sleeper counted", "[idle]") {
  idle_workers idle(1);
  CHECK(idle.park(0, [] { return true; }, 0) == wake_reason::not_woken);
  idle.notify();  // nobody to wake: were the worker still counted, this would look for it forever
  CHECK(idle.park(0, [] { return false; }, 1'000'000) == wake_reason::not_woken);  // timed out
}

TEST_CASE("parkers and producers: every item is taken, no wake-up is lost", "[idle][stress]") {
  // The protocol as the workers run it: look, search, park with a last look, and after a wake-up
  // search again (counted by the waker). Producers publish items and notify. A wake-up lost would
  // leave items behind with every parker asleep for good (no timeout here).
  constexpr unsigned parkers = 4;
  constexpr int producers = 2;
  constexpr int items_each = 20000;
  idle_workers idle(parkers);
  std::atomic<int> available{0};
  std::atomic<int> taken{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> finished_in_time{false};
  std::thread watchdog([&] {
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (!finished_in_time.load(std::memory_order_acquire)) {
      if (std::chrono::steady_clock::now() > give_up) {
        std::fprintf(stderr, "idle_workers stress: %d of %d items taken after 60 s: a wake-up was lost\n",
                     taken.load(), producers * items_each);
        std::abort();
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  const auto take = [&] {
    int now = available.load(std::memory_order_acquire);
    while (now > 0) {
      if (available.compare_exchange_weak(now, now - 1, std::memory_order_acq_rel)) {
        taken.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  };
  std::vector<std::thread> threads;
  for (unsigned self = 0; self < parkers; ++self) {
    threads.emplace_back([&, self] {
      bool counted = false;  // as searching, by a waker
      while (true) {
        if (!counted) {
          if (take()) {
            continue;
          }
          idle.start_searching();
        }
        counted = false;
        bool found = false;
        for (int look = 0; look < 8 && !found; ++look) {
          found = take();
        }
        if (found) {
          idle.found_work();
          continue;
        }
        idle.stop_searching();
        if (stopping.load(std::memory_order_acquire)) {
          return;
        }
        const wake_reason reason = idle.park(
            self, [&] { return available.load(std::memory_order_relaxed) > 0 || stopping.load(std::memory_order_relaxed); }, 0);
        if (reason == wake_reason::shutdown) {
          return;
        }
        counted = reason == wake_reason::notified;
      }
    });
  }
  std::vector<std::thread> producing;
  for (int p = 0; p < producers; ++p) {
    producing.emplace_back([&, p] {
      for (int i = 0; i < items_each; ++i) {
        available.fetch_add(1, std::memory_order_release);
        // Sometimes a preference, as work from outside names one.
        const auto prefer = [p](unsigned worker) { return (worker + static_cast<unsigned>(p)) % parkers; };
        if (i % 3 == 0) {
          idle.notify(wake_rank{prefer});
        } else {
          idle.notify();
        }
        if (i % 16 == 0) {
          std::this_thread::sleep_for(20us);  // let the parkers run dry and park
        }
      }
    });
  }
  for (auto& each : producing) {
    each.join();
  }
  while (taken.load(std::memory_order_acquire) < producers * items_each) {
    std::this_thread::sleep_for(1ms);
  }
  finished_in_time.store(true, std::memory_order_release);
  watchdog.join();
  stopping.store(true, std::memory_order_seq_cst);
  idle.wake_all();
  for (auto& each : threads) {
    each.join();
  }
  CHECK(taken.load() == producers * items_each);
  CHECK(available.load() == 0);
}
