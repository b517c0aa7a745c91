// A floor for coroutine fork-join on fib, not a runtime: the least a lazy coroutine task costs per
// call, on one thread. Each call gets a frame from a thread's LIFO free list (one load and one store
// each way), runs by symmetric transfer when awaited, and transfers straight back to its awaiter;
// no exception is kept, no scheduler is asked, no fork is recorded. A coroutine fork does all of
// this for each of its children, and more, so fib by pulse::fork (or by libfork, TooManyCooks, or
// a task of cppcoro's shape) can only cost more over serial than this: it says how low a coroutine
// fork can go on fib with this compiler, whatever its runtime.
#include "checked_loop.hpp"
#include "fib/fib.hpp"

#include <benchmark/benchmark.h>

#include <coroutine>
#include <cstdlib>
#include <exception>
#include <new>
#include <utility>

namespace {

// A free list of frames of one size, per thread: fib's frames are all alike.
struct frame_free_list {
  void* head = nullptr;
  std::size_t frame_bytes = 0;
};
thread_local frame_free_list t_frames;

class floor_task {
public:
  struct promise_type {
    std::coroutine_handle<> continuation;
    long value = 0;

    static void* operator new(std::size_t bytes) {
      if (bytes == t_frames.frame_bytes) [[likely]] {
        if (void* frame = t_frames.head) [[likely]] {
          t_frames.head = *static_cast<void**>(frame);
          return frame;
        }
      } else if (t_frames.frame_bytes == 0) {
        t_frames.frame_bytes = bytes;  // the list keeps frames of the first size asked for
      }
      if (void* frame = std::malloc(bytes)) {
        return frame;
      }
      throw std::bad_alloc();
    }
    static void operator delete(void* frame, std::size_t bytes) noexcept {
      if (bytes != t_frames.frame_bytes) {
        std::free(frame);
        return;
      }
      *static_cast<void**>(frame) = t_frames.head;
      t_frames.head = frame;
    }

    floor_task get_return_object() noexcept {
      return floor_task{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) const noexcept {
        return self.promise().continuation;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() const noexcept { return {}; }
    void return_value(long result) noexcept { value = result; }
    void unhandled_exception() const noexcept { std::terminate(); }  // fib throws nothing
  };

  floor_task(floor_task&& other) noexcept : m_handle(std::exchange(other.m_handle, {})) {}
  floor_task& operator=(floor_task&&) = delete;
  ~floor_task() {
    if (m_handle) {
      m_handle.destroy();
    }
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) const noexcept {
    m_handle.promise().continuation = awaiter;
    return m_handle;
  }
  long await_resume() const noexcept { return m_handle.promise().value; }

  // Runs the task to completion from plain code (fib never suspends on anything else).
  long run() {
    m_handle.promise().continuation = std::noop_coroutine();
    m_handle.resume();
    return m_handle.promise().value;
  }

private:
  explicit floor_task(std::coroutine_handle<promise_type> handle) noexcept : m_handle(handle) {}
  std::coroutine_handle<promise_type> m_handle;
};

void fib_coroutine_floor(benchmark::State& state) {
  pulse_bench::time_checked(state, "fib/coroutine_floor", pulse_bench::fib_expected,
                            [] { return pulse_bench::awaited_fib<floor_task>(pulse_bench::fib_n).run(); });
  while (void* frame = t_frames.head) {
    t_frames.head = *static_cast<void**>(frame);
    std::free(frame);
  }
}

}  // namespace

BENCHMARK(fib_coroutine_floor)->Name("fib/coroutine_floor")->Unit(benchmark::kMillisecond)->UseRealTime();
