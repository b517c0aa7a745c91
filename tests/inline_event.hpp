// A user-level event that resumes its waiter inline, inside set(), as many coroutine libraries'
// events do: the waiter then runs on top of whatever frame called set(). Not thread-safe: for
// tests on one worker, or where set() and the wait are ordered. With the small tasks that the
// tests of inline resumption build from.
#pragma once

#include <pulse/task.hpp>

#include <coroutine>
#include <utility>

namespace pulse_test {

class inline_event {
public:
  bool await_ready() const noexcept { return m_set; }
  void await_suspend(std::coroutine_handle<> waiter) noexcept { m_waiter = waiter; }
  void await_resume() const noexcept {}
  void set() {
    m_set = true;
    if (const std::coroutine_handle<> waiter = std::exchange(m_waiter, {})) {
      waiter.resume();
    }
  }

private:
  std::coroutine_handle<> m_waiter;
  bool m_set = false;
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
