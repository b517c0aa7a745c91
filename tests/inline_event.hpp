// A user-level event that resumes its waiter inline, inside set(), as many coroutine libraries'
// events do: the waiter then runs on top of whatever frame called set(). One waiter; the wait and
// set() may race from two workers (cppcoro's single_consumer_event protocol: one atomic word that
// is empty, the waiter, or set, so the waiter is resumed exactly once, by set() or at once). With
// the small tasks that the tests of inline resumption build from.
#pragma once

#include <pulse/task.hpp>

#include <atomic>
#include <coroutine>

namespace pulse_test {

class inline_event {
public:
  // acquire: what set()'s caller wrote before set() is visible to the waiter.
  bool await_ready() const noexcept { return m_state.load(std::memory_order_acquire) == set_state(); }
  // False (resume at once) if set() came first.
  bool await_suspend(std::coroutine_handle<> waiter) noexcept {
    void* empty = nullptr;
    // release: the waiter's frame, written before, is complete for set()'s resume; acquire on
    // failure: as await_ready.
    return m_state.compare_exchange_strong(empty, waiter.address(), std::memory_order_release,
                                           std::memory_order_acquire);
  }
  void await_resume() const noexcept {}
  void set() {
    // acq_rel: publishes what came before set(), and acquires the waiter's frame.
    void* const previous = m_state.exchange(set_state(), std::memory_order_acq_rel);
    if (previous != nullptr && previous != set_state()) {
      std::coroutine_handle<>::from_address(previous).resume();
    }
  }

private:
  void* set_state() const noexcept { return const_cast<inline_event*>(this); }  // no frame has this address
  std::atomic<void*> m_state{nullptr};  // null, the waiter's frame, or set_state()
};

inline pulse::task<int> value_of(int value) { co_return value; }

inline pulse::task<int> wait_then(inline_event& event, int value) {
  co_await event;
  co_return value;
}

inline pulse::task<int> set_then(inline_event& event, int value) {
  event.set();
  co_return value;
}

}  // namespace pulse_test
