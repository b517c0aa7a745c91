// A worker: one thread of a runtime, running whatever the runtime's scheduler hands it.
#pragma once

#include <thread>

namespace pulse::detail {

class runtime_impl;

class worker {
public:
  worker(runtime_impl& owner, unsigned index) noexcept : m_owner(owner), m_index(index) {}
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join();

  runtime_impl& owner() const noexcept { return m_owner; }
  unsigned index() const noexcept { return m_index; }

private:
  void run() noexcept;

  runtime_impl& m_owner;
  unsigned m_index;
  std::thread m_thread;
};

// The worker running on the calling thread, or null on any other thread. Defined out of line on
// purpose: clang caches thread_local addresses across co_await (llvm #47179), and a call it cannot
// see through is re-evaluated after every resumption, on whatever thread that is.
[[gnu::noinline]] worker* current_worker() noexcept;

}  // namespace pulse::detail
