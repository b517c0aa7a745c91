// A worker: one thread of a runtime, with its own work-stealing deque. It runs what it pops from
// its deque, then what arrives in the runtime's injection queue, then what it steals; with nothing
// anywhere it searches for a while and then parks (lib/sched/idle_workers.hpp).
#pragma once

#include "mem/frame_pool.hpp"
#include "sched/chase_lev_deque.hpp"
#include "sched/victim_order.hpp"

#include <coroutine>
#include <thread>
#include <utility>

namespace pulse::detail {

class runtime_impl;

class worker {
public:
  worker(runtime_impl& owner, unsigned index) noexcept;
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join();

  runtime_impl& owner() const noexcept { return m_owner; }
  // The worker's frame pool; null until its thread has started. Its thread creates it, so the
  // pool's memory is placed on the node the worker runs on.
  frame_pool* pool() const noexcept { return m_pool; }
  // After join(): the pool, for the runtime to release.
  frame_pool* take_pool() noexcept { return std::exchange(m_pool, nullptr); }
  unsigned index() const noexcept { return m_index; }

  // The continuation-publication seam: how a fork makes its not-yet-started part available to
  // thieves, and takes it back if none took it. Owner thread only. Eager for now: every publish is
  // a push onto the deque; the heartbeat policy makes publication lazy behind the same two calls.
  inline void publish(std::coroutine_handle<> continuation);
  // The most recently published continuation if it is still here, else null (a thief took it).
  std::coroutine_handle<> reclaim() noexcept {
    const auto taken = m_deque.pop();
    return taken ? taken.value : std::coroutine_handle<>{};
  }

  // For thieves and idle checks.
  take_result<std::coroutine_handle<>> steal_from() noexcept { return m_deque.steal(); }
  bool looks_idle() const noexcept { return m_deque.looks_empty(); }

private:
  void run() noexcept;
  bool find_work(std::coroutine_handle<>& next) noexcept;
  bool steal(std::coroutine_handle<>& next) noexcept;
  bool search(std::coroutine_handle<>& next) noexcept;

  runtime_impl& m_owner;
  const unsigned m_index;
  chase_lev_deque<std::coroutine_handle<>> m_deque;
  fast_random m_random;
  frame_pool* m_pool = nullptr;  // released (or orphaned) by the runtime after the thread ends
  std::thread m_thread;
};

// The worker running on the calling thread, or null on any other thread. Defined out of line on
// purpose: clang caches thread_local addresses across co_await (llvm #47179), and a call it cannot
// see through is re-evaluated after every resumption, on whatever thread that is.
[[gnu::noinline]] worker* current_worker() noexcept;

// The same, read directly: only for lib/ code that is not inside a coroutine body (the fork
// hooks, the frame allocator), where no suspension can separate the read from its use.
inline thread_local worker* t_this_thread_worker = nullptr;
inline worker* this_thread_worker() noexcept { return t_this_thread_worker; }

}  // namespace pulse::detail
