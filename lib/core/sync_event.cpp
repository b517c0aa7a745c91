// sync_event: how a thread blocked in sync_wait learns that its task finished.
#include <pulse/detail/root.hpp>

#include "sched/cpu_relax.hpp"
#include "sched/futex.hpp"

namespace pulse::detail {
namespace {
constexpr std::uint32_t not_set = 0;
constexpr std::uint32_t set_no_waiter = 1;
constexpr std::uint32_t waiting = 2;
constexpr int spins_before_sleep = 1024;
}  // namespace

void sync_event::set() noexcept {
  // release: the task's result, written before set(), is visible to the waiter that reads the new
  // state with acquire. The exchange tells whether anyone sleeps, so a waiter that is still
  // spinning costs no system call.
  if (m_state.exchange(set_no_waiter, std::memory_order_release) == waiting) {
    futex_wake(m_state, 1);
  }
}

void sync_event::wait() noexcept {
  // A short task finishes within microseconds; a cross-CPU futex wake costs ~15 us here, so spin
  // a little before sleeping.
  for (int spin = 0; spin < spins_before_sleep; ++spin) {
    if (m_state.load(std::memory_order_acquire) != not_set) {
      return;
    }
    cpu_relax();
  }
  std::uint32_t state = not_set;
  // Announce the sleeper. acquire: on failure set() got there first, and its result must be visible.
  if (m_state.compare_exchange_strong(state, waiting, std::memory_order_acquire, std::memory_order_acquire)) {
    state = waiting;
  }
  while (state == waiting) {
    futex_wait(m_state, waiting);
    state = m_state.load(std::memory_order_acquire);
  }
}

}  // namespace pulse::detail
