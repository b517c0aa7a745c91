// pulse::sync_wait: the way in from ordinary code. Runs a task on a runtime's workers and blocks
// the calling thread until it finishes.
#pragma once

#include <pulse/detail/root.hpp>
#include <pulse/runtime.hpp>
#include <pulse/task.hpp>

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace pulse {
namespace detail {

// Where the root leaves the task's outcome for the blocked caller. Lives on the caller's stack.
template <typename T>
class sync_wait_result {
public:
  sync_event event;

  sync_wait_result() noexcept {}
  sync_wait_result(const sync_wait_result&) = delete;
  sync_wait_result& operator=(const sync_wait_result&) = delete;
  ~sync_wait_result() {
    if (m_has_value) {
      std::destroy_at(std::addressof(m_value));
    }
  }

  template <typename U>
  void set_value(U&& value) {
    std::construct_at(std::addressof(m_value), std::forward<U>(value));
    m_has_value = true;
  }
  void set_exception(std::exception_ptr error) noexcept { m_exception = std::move(error); }

  T take() {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
    return std::move(m_value);
  }

private:
  union {
    T m_value;
  };
  bool m_has_value = false;
  std::exception_ptr m_exception;
};

template <typename T>
class sync_wait_result<T&> {
public:
  sync_event event;
  void set_value(T& value) noexcept { m_value = std::addressof(value); }
  void set_exception(std::exception_ptr error) noexcept { m_exception = std::move(error); }
  T& take() {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
    return *m_value;
  }

private:
  T* m_value = nullptr;
  std::exception_ptr m_exception;
};

template <>
class sync_wait_result<void> {
public:
  sync_event event;
  void set_exception(std::exception_ptr error) noexcept { m_exception = std::move(error); }
  void take() const {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
  }

private:
  std::exception_ptr m_exception;
};

template <typename T>
root_task sync_wait_root(runtime&, task<T> work, sync_wait_result<T>& result) {
  try {
    // The task is moved into a local so that its frame is destroyed here, before the caller is
    // released: nothing of the task may still be running when sync_wait returns.
    task<T> owned = std::move(work);
    if constexpr (std::is_void_v<T>) {
      co_await std::move(owned);
    } else {
      result.set_value(co_await std::move(owned));
    }
  } catch (...) {
    result.set_exception(std::current_exception());
  }
}

}  // namespace detail

// Runs `work` on `target`'s workers and returns its result, or rethrows its exception. Blocks the
// calling thread, so calling it on any runtime's worker is a std::logic_error: co_await instead.
template <typename T>
T sync_wait(runtime& target, task<T> work) {
  detail::throw_if_on_worker("pulse::sync_wait");
  detail::sync_wait_result<T> result;
  detail::sync_wait_root(target, std::move(work), result).submit_to(target);
  result.event.wait();
  return result.take();
}

// Runs `work` on the default runtime.
template <typename T>
T sync_wait(task<T> work) {
  detail::throw_if_on_worker("pulse::sync_wait");
  return sync_wait(default_runtime(), std::move(work));
}

}  // namespace pulse
