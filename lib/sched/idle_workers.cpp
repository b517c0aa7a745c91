#include "sched/idle_workers.hpp"

#include "io/ring.hpp"
#include "sched/futex.hpp"

#include <algorithm>
#include <iterator>

namespace pulse::detail {
namespace {
constexpr std::uint32_t armed = 0;
std::uint32_t word_for(idle_workers::wake_reason reason) { return static_cast<std::uint32_t>(reason) + 1; }
idle_workers::wake_reason reason_of(std::uint32_t word) { return static_cast<idle_workers::wake_reason>(word - 1); }
}  // namespace

idle_workers::idle_workers(unsigned workers) : m_slots(std::make_unique<slot[]>(workers)) { m_stack.reserve(workers); }

void idle_workers::found_work() noexcept {
  // seq_cst: pairs with notify()'s view of `searching`; the last searcher out passes the baton.
  if (m_searching.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    notify();
  }
}

void idle_workers::prepare_park(unsigned self) {
  std::lock_guard lock(m_mutex);
  m_slots[self].word.store(armed, std::memory_order_relaxed);
  m_stack.push_back(self);
  // seq_cst: the counted sleeper must be visible to notify()'s fenced load.
  m_sleepers.fetch_add(1, std::memory_order_seq_cst);
}

idle_workers::wake_reason idle_workers::cancel_park(unsigned self) {
  std::lock_guard lock(m_mutex);
  const auto it = std::find(m_stack.begin(), m_stack.end(), self);
  if (it != m_stack.end()) {
    m_stack.erase(it);
    m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
    return wake_reason::not_woken;
  }
  // A waker popped us first and has counted us as it said: honour its reason.
  return reason_of(m_slots[self].word.load(std::memory_order_acquire));
}

void idle_workers::set_wake_fd(unsigned self, int fd) {
  std::lock_guard lock(m_mutex);
  m_slots[self].wake_fd = fd;
}

idle_workers::wake_reason idle_workers::sleep(unsigned self, std::int64_t timeout_ns, ring_sleeper in_ring) {
  std::atomic<std::uint32_t>& word = m_slots[self].word;
  // acquire: pairs with the waker's release, so what it published before waking us is visible.
  if (word.load(std::memory_order_acquire) == armed) {
    if (in_ring.sleep != nullptr) {
      in_ring.sleep(in_ring.context, timeout_ns);
    } else if (timeout_ns > 0) {
      const timespec relative{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
      futex_wait_for(word, armed, &relative);
    } else {
      futex_wait(word, armed);
    }
  }
  if (const std::uint32_t state = word.load(std::memory_order_acquire); state != armed) {
    return reason_of(state);
  }
  // Timed out, or a spurious return (a signal): take ourselves off the stack unless a waker just did.
  return cancel_park(self);
}

void idle_workers::wake_sleeper(unsigned target, int fd) noexcept {
  if (fd >= 0) {
    io_ring::wake(fd);
  } else {
    futex_wake(m_slots[target].word, 1);
  }
}

void idle_workers::wake_one(wake_rank nearest) noexcept {
  unsigned target = 0;
  int fd = -1;
  {
    std::lock_guard lock(m_mutex);
    if (m_stack.empty()) {
      return;
    }
    auto chosen = std::prev(m_stack.end());
    if (nearest) {
      // From the top of the stack down, so that among equals the last to park wins.
      unsigned best = nearest(*chosen);
      for (auto it = chosen; it != m_stack.begin() && best != 0;) {
        --it;
        if (const unsigned rank = nearest(*it); rank < best) {
          best = rank;
          chosen = it;
        }
      }
    }
    target = *chosen;
    m_stack.erase(chosen);
    m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
    m_searching.fetch_add(1, std::memory_order_seq_cst);  // counted on the sleeper's behalf
    // release: see sleep().
    m_slots[target].word.store(word_for(wake_reason::notified), std::memory_order_release);
    fd = m_slots[target].wake_fd;
  }
  wake_sleeper(target, fd);
}

void idle_workers::wake_all() noexcept {
  // Shutdown only: the wakes are made under the mutex (no list of targets to allocate).
  std::lock_guard lock(m_mutex);
  m_sleepers.fetch_sub(static_cast<unsigned>(m_stack.size()), std::memory_order_seq_cst);
  for (const unsigned target : m_stack) {
    m_slots[target].word.store(word_for(wake_reason::shutdown), std::memory_order_release);
    wake_sleeper(target, m_slots[target].wake_fd);
  }
  m_stack.clear();
}

}  // namespace pulse::detail
