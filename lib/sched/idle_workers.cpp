#include "sched/idle_workers.hpp"

#include "io/ring.hpp"
#include "sched/cpu_relax.hpp"
#include "sched/futex.hpp"

#include <thread>

namespace pulse::detail {
namespace {
constexpr std::uint32_t not_parked = 0;
constexpr std::uint32_t armed = 1;
std::uint32_t word_for(idle_workers::wake_reason reason) { return static_cast<std::uint32_t>(reason) + 2; }
idle_workers::wake_reason reason_of(std::uint32_t word) { return static_cast<idle_workers::wake_reason>(word - 2); }
}  // namespace

idle_workers::idle_workers(unsigned workers) : m_workers(workers), m_slots(std::make_unique<slot[]>(workers)) {}

void idle_workers::found_work() noexcept {
  // seq_cst: pairs with notify()'s view of `searching`; the last searcher out passes the baton.
  if (m_searching.fetch_sub(1, std::memory_order_seq_cst) == 1) {
    notify();
  }
}

void idle_workers::prepare_park(unsigned self) noexcept {
  slot& mine = m_slots[self];
  // relaxed: a number for the waker's preference only (two parks at once may draw the same one).
  const std::uint64_t number = m_parks.load(std::memory_order_relaxed) + 1;
  m_parks.store(number, std::memory_order_relaxed);
  mine.parked_as.store(number, std::memory_order_relaxed);
  // Counted before armed: a waker can claim only an armed word, and its claim takes the worker
  // out of the count, which must already hold it (else the count would wrap for a moment).
  // seq_cst: the counted sleeper must be visible to notify()'s fenced load.
  m_sleepers.fetch_add(1, std::memory_order_seq_cst);
  // release: a waker that claims the word (acquire) reads the wake fd set before it.
  mine.word.store(armed, std::memory_order_release);
}

idle_workers::wake_reason idle_workers::cancel_park(unsigned self) noexcept {
  std::uint32_t expected = armed;
  // acquire on failure: a waker's claim, whose reason (and what it published before) we honour.
  if (m_slots[self].word.compare_exchange_strong(expected, not_parked, std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
    m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
    return wake_reason::not_woken;
  }
  // A waker claimed us first and has counted us as it said.
  return reason_of(expected);
}

void idle_workers::set_wake_fd(unsigned self, int fd) noexcept {
  m_slots[self].wake_fd.store(fd, std::memory_order_relaxed);  // published by the first park's release
}

idle_workers::wake_reason idle_workers::sleep(unsigned self, std::int64_t timeout_ns, ring_sleeper in_ring) {
  std::atomic<std::uint32_t>& word = m_slots[self].word;
  // acquire: pairs with the waker's claim, so what it published before waking us is visible.
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
  // Woken by a claim, or it timed out, or its own I/O completed, or a spurious return (a signal):
  // leave unless a waker just claimed us.
  return cancel_park(self);
}

bool idle_workers::claim(unsigned target, wake_reason reason) noexcept {
  std::uint32_t expected = armed;
  // acq_rel: acquire the sleeper's arming (its wake fd); release what the caller published before
  // the wake-up to the sleeper, which acquires the word.
  if (!m_slots[target].word.compare_exchange_strong(expected, word_for(reason), std::memory_order_acq_rel,
                                                    std::memory_order_relaxed)) {
    return false;  // it left by itself, or another waker has it
  }
  m_sleepers.fetch_sub(1, std::memory_order_seq_cst);
  return true;
}

void idle_workers::wake_sleeper(unsigned target) noexcept {
  if (const int fd = m_slots[target].wake_fd.load(std::memory_order_relaxed); fd >= 0) {
    io_ring::wake(fd);
  } else {
    futex_wake(m_slots[target].word, 1);
  }
}

unsigned idle_workers::armed_choice(wake_rank nearest) const noexcept {
  unsigned chosen = m_workers;
  unsigned best_rank = 0;
  std::uint64_t best_number = 0;
  for (unsigned candidate = 0; candidate < m_workers; ++candidate) {
    const slot& each = m_slots[candidate];
    if (each.word.load(std::memory_order_relaxed) != armed) {
      continue;
    }
    const unsigned rank = nearest ? nearest(candidate) : 0;
    const std::uint64_t number = each.parked_as.load(std::memory_order_relaxed);
    if (chosen == m_workers || rank < best_rank || (rank == best_rank && number > best_number)) {
      chosen = candidate;
      best_rank = rank;
      best_number = number;
    }
  }
  return chosen;
}

void idle_workers::wake_one(wake_rank nearest) noexcept {
  for (unsigned round = 0;; ++round) {
    // Counted as searching on the sleeper's behalf before the claim, which the sleeper may see at
    // once: a second notify for the same work then wakes nobody else.
    m_searching.fetch_add(1, std::memory_order_seq_cst);
    // Another sleeper if the chosen one leaves or another waker claims it first.
    for (unsigned chosen = armed_choice(nearest); chosen != m_workers; chosen = armed_choice(nearest)) {
      if (claim(chosen, wake_reason::notified)) {
        wake_sleeper(chosen);
        return;
      }
    }
    // Nobody armed after all. That count may have kept a notify from waking a worker that armed
    // meanwhile (it left the wake-up to us): so, as notify does, the count given back, a fence,
    // and a look at whether a sleeper is counted with nobody searching.
    m_searching.fetch_sub(1, std::memory_order_seq_cst);
    seq_cst_fence();
    if (m_searching.load(std::memory_order_relaxed) != 0 || m_sleepers.load(std::memory_order_relaxed) == 0) {
      return;
    }
    // Counted and not armed: a worker between its count and its word, parking, or between its word
    // and its count, leaving. Its next instruction settles it, unless it was preempted there: then
    // let it run.
    if (round < 16) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void idle_workers::wake_all() noexcept {
  // seq_cst: orders the caller's state change (the runtime stopping) before the words read below,
  // against a parker's arming, fence and look at that state (store buffering, as in notify).
  seq_cst_fence();
  for (unsigned target = 0; target < m_workers; ++target) {
    if (claim(target, wake_reason::shutdown)) {
      wake_sleeper(target);
    }
  }
}

}  // namespace pulse::detail
