// pulse::task<T>: the lazy coroutine type users write.
//
// A task does nothing until it is awaited; awaiting it runs it on the awaiting thread by symmetric
// transfer, and its completion transfers straight back to the awaiter. The awaiter receives the
// result (a value, a reference or nothing), or the exception that escaped the task.
// A task owns its coroutine frame: destroying a task destroys the frame, whether it never started
// or has finished. Destroying one that is running (awaited, and suspended before its end) is a
// fatal error: the process says so and aborts, rather than free the frame under the coroutine.
#pragma once

#include <pulse/detail/frame_allocator.hpp>
#include <pulse/detail/transfer.hpp>

#include <concepts>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

namespace pulse {

template <typename T = void>
class task;

namespace detail {

// Throws std::logic_error naming the misuse. Out of line: the cold path stays out of every awaiter.
[[noreturn]] void throw_task_misuse(const char* message);
// A task destroyed while it runs: says so on stderr and aborts (a destructor cannot throw, and
// going on would free the frame under the running coroutine).
[[noreturn]] void die_task_destroyed_while_running() noexcept;

class fork_join;
class task_promise_base;
struct task_access;

// The fork hook, inline in fork_join.hpp (included at the end). A task started by pulse::fork runs
// it as it finishes, instead of returning to an awaiter: it takes the rest of the fork back and
// starts the next child, or, if a thief took the rest, arrives at the join.
[[gnu::always_inline]] inline std::coroutine_handle<> fork_child_finished(task_promise_base& child) noexcept;

class task_promise_base {
public:
  // Frames come from the worker's pool: no malloc on the fork path.
  static void* operator new(std::size_t bytes) { return frame_allocate(bytes); }
  static void operator delete(void* frame, std::size_t bytes) noexcept { frame_deallocate(frame, bytes); }

  // Lazy: nothing runs until the task is awaited or forked, and nothing runs as it starts.
  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    [[gnu::always_inline]] std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
      task_promise_base& promise = self.promise();
      if (promise.m_join != nullptr) {
        return transfer_to(fork_child_finished(promise));
      }
      return transfer_to(promise.m_continuation);
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() const noexcept { return {}; }

  void unhandled_exception() noexcept { m_exception = std::current_exception(); }

  // A task has been started exactly when it has a continuation: the awaiter (or the fork) sets it
  // before the first resume and nothing clears it.
  bool started() const noexcept { return static_cast<bool>(m_continuation); }
  void set_continuation(std::coroutine_handle<> continuation) noexcept { m_continuation = continuation; }

  // Makes this task child `index` of `join`; `parent` marks it started.
  void link_to_fork(fork_join& join, std::uint32_t index, std::coroutine_handle<> parent) noexcept {
    m_join = &join;
    m_fork_index = index;
    m_continuation = parent;
  }
  fork_join* join() const noexcept { return m_join; }
  std::uint32_t fork_index() const noexcept { return m_fork_index; }

  // The exception that ended the task, if one did.
  const std::exception_ptr* failure() const noexcept { return m_exception ? &m_exception : nullptr; }

protected:
  void rethrow_if_failed() const {
    if (m_exception) {
      std::rethrow_exception(m_exception);
    }
  }

private:
  std::coroutine_handle<> m_continuation;
  std::exception_ptr m_exception;
  fork_join* m_join = nullptr;
  std::uint32_t m_fork_index = 0;
};

template <typename T>
class task_promise final : public task_promise_base {
public:
  task_promise() noexcept {}
  task_promise(const task_promise&) = delete;
  task_promise& operator=(const task_promise&) = delete;
  ~task_promise() {
    if (m_has_value) {
      std::destroy_at(std::addressof(m_value));
    }
  }

  task<T> get_return_object() noexcept;

  // U defaults to T so that `co_return {a, b};` builds a T from the braced list.
  template <typename U = T>
    requires std::constructible_from<T, U&&>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    std::construct_at(std::addressof(m_value), std::forward<U>(value));
    m_has_value = true;
  }

  T take_result() {
    rethrow_if_failed();
    return take_value();
  }
  // For a caller that knows the task returned (fork's join, which tracks failures itself).
  T take_value() { return std::move(m_value); }

private:
  // A union, not std::optional: T need not be default-constructible and no engaged flag is read on
  // the hot path except here.
  union {
    T m_value;
  };
  bool m_has_value = false;
};

template <typename T>
class task_promise<T&> final : public task_promise_base {
public:
  task<T&> get_return_object() noexcept;
  void return_value(T& value) noexcept { m_value = std::addressof(value); }
  T& take_result() {
    rethrow_if_failed();
    return take_value();
  }
  T& take_value() const noexcept { return *m_value; }

private:
  T* m_value = nullptr;
};

template <>
class task_promise<void> final : public task_promise_base {
public:
  task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take_result() const { rethrow_if_failed(); }
  void take_value() const noexcept {}
};

}  // namespace detail

// Lazy, move-only coroutine. [[nodiscard]]: a task that is dropped never runs, which is always a bug.
template <typename T>
class [[nodiscard("a pulse::task does nothing until it is awaited")]] task {
public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  // An empty task, as left behind by a move; awaiting it is a std::logic_error.
  task() noexcept = default;
  task(task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      m_handle = std::exchange(other.m_handle, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  // True while the task holds a coroutine (it was not moved from).
  explicit operator bool() const noexcept { return static_cast<bool>(m_handle); }

  class [[nodiscard("co_await the awaiter: on its own it does nothing")]] awaiter {
  public:
    explicit awaiter(std::coroutine_handle<promise_type> child) noexcept : m_child(child) {}
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) const noexcept {
      m_child.promise().set_continuation(parent);
      return detail::transfer_to(m_child);
    }
    decltype(auto) await_resume() const { return m_child.promise().take_result(); }

  private:
    std::coroutine_handle<promise_type> m_child;
  };

  // Awaiting runs the task once; the result is moved out to the awaiter. A task may be awaited as
  // an lvalue or an rvalue, but only once: a second await is a std::logic_error, as is awaiting an
  // empty task.
  awaiter operator co_await() const {
    if (!m_handle) {
      detail::throw_task_misuse("co_await on an empty pulse::task (default-constructed or moved from)");
    }
    if (m_handle.promise().started()) {
      detail::throw_task_misuse("a pulse::task was awaited twice; a task runs once, so keep its result instead");
    }
    return awaiter{m_handle};
  }

  // The coroutine, for pulse's own awaitables (fork). Null for an empty task.
  std::coroutine_handle<promise_type> handle() const noexcept { return m_handle; }

private:
  friend promise_type;
  friend detail::task_access;
  explicit task(std::coroutine_handle<promise_type> handle) noexcept : m_handle(handle) {}

  void reset() noexcept {
    if (m_handle) {
      // Started and not at its final suspend: suspended somewhere (on I/O, say), and its frame
      // still in use by whatever will resume it.
      if (m_handle.promise().started() && !m_handle.done()) [[unlikely]] {
        detail::die_task_destroyed_while_running();
      }
      std::exchange(m_handle, {}).destroy();
    }
  }

  std::coroutine_handle<promise_type> m_handle;
};

namespace detail {

// For pulse's own awaitables that take over a task's coroutine (fork).
struct task_access {
  template <typename T>
  static std::coroutine_handle<task_promise<T>> release(task<T>& owner) noexcept {
    return std::exchange(owner.m_handle, {});
  }
};

template <typename T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<task_promise>::from_promise(*this)};
}

template <typename T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>{std::coroutine_handle<task_promise>::from_promise(*this)};
}

inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<task_promise>::from_promise(*this)};
}

}  // namespace detail
}  // namespace pulse

#include <pulse/detail/fork_join.hpp>
