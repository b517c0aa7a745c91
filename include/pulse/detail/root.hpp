// The coroutine at the bottom of every chain of tasks that enters a runtime from outside
// (sync_wait, spawn). Nothing awaits it: when its body ends it frees its own frame, then tells
// the runtime (and, for sync_wait, the blocked caller) that it is done.
#pragma once

#include <pulse/detail/frame_allocator.hpp>
#include <pulse/runtime.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace pulse::detail {

// A one-shot event for one waiting thread. The waiter may destroy the event as soon as wait()
// returns, so set() touches it for the last time in its final futex wake (a wake on memory that has
// been reused is harmless: futex waiters must tolerate spurious wake-ups).
class sync_event {
public:
  void set() noexcept;
  void wait() noexcept;

private:
  std::atomic<std::uint32_t> m_state{0};
};

// Runtime entry points used by the templates below; defined in lib/core. Roots hold the
// runtime_impl, not the pulse::runtime: the last roots finish while ~runtime is draining.
void throw_if_on_worker(const char* operation);
void submit_root(runtime_impl& target, std::coroutine_handle<> root);
void root_finished(runtime_impl& target) noexcept;

class [[nodiscard]] root_task {
public:
  class promise_type {
  public:
    static void* operator new(std::size_t bytes) { return frame_allocate(bytes); }
    static void operator delete(void* frame, std::size_t bytes) noexcept { frame_deallocate(frame, bytes); }

    // The promise reads its runtime and event from the coroutine's parameters:
    // (runtime&, task) for spawn, (runtime&, task, result&) for sync_wait.
    template <typename Task>
    promise_type(runtime& target, Task&) noexcept : m_runtime(&target.impl()) {}
    template <typename Task, typename Result>
    promise_type(runtime& target, Task&, Result& result) noexcept
        : m_runtime(&target.impl()), m_event(&result.event) {}

    root_task get_return_object() noexcept { return root_task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> self) const noexcept {
        runtime_impl& target = *self.promise().m_runtime;
        sync_event* event = self.promise().m_event;
        self.destroy();  // before the runtime or the caller hears of it: nothing outlives a root
        root_finished(target);
        if (event != nullptr) {
          event->set();
        }
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }

    void return_void() const noexcept {}
    // Root bodies catch everything themselves.
    void unhandled_exception() const noexcept { std::terminate(); }

  private:
    runtime_impl* m_runtime;
    sync_event* m_event = nullptr;
  };

  root_task(root_task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
  root_task(const root_task&) = delete;
  root_task& operator=(root_task&&) = delete;
  root_task& operator=(const root_task&) = delete;
  ~root_task() {
    if (m_handle) {
      m_handle.destroy();
    }
  }

  // Hands the frame to `target`, which resumes it once; from then on the frame frees itself.
  void submit_to(runtime& target) {
    submit_root(target.impl(), m_handle);
    m_handle = {};
  }

private:
  explicit root_task(std::coroutine_handle<promise_type> handle) noexcept : m_handle(handle) {}
  std::coroutine_handle<promise_type> m_handle;
};

}  // namespace pulse::detail
