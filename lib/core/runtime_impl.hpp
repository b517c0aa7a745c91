// The runtime behind pulse::runtime: its workers, the queue of runnable coroutines, and the count
// of live roots that shutdown waits for.
//
// Scheduling here is one shared queue under a mutex; the work-stealing scheduler replaces the
// queue (per-worker deques plus an injection queue) behind the same three calls: submit_root,
// wait_for_work and root_finished.
#pragma once

#include "core/worker.hpp"

#include <pulse/runtime.hpp>

#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

namespace pulse::detail {

// Validates `options` and fills in `workers`; throws std::invalid_argument naming the bad option.
runtime_options resolve_options(runtime_options options);

class runtime_impl {
public:
  runtime_impl(runtime& facade, runtime_options resolved);
  ~runtime_impl();
  runtime_impl(const runtime_impl&) = delete;
  runtime_impl& operator=(const runtime_impl&) = delete;

  runtime& facade() const noexcept { return m_facade; }
  const runtime_options& options() const noexcept { return m_options; }
  unsigned worker_count() const noexcept { return static_cast<unsigned>(m_workers.size()); }

  // True when the calling thread is one of this runtime's workers.
  bool is_own_worker(const worker* candidate) const noexcept { return candidate != nullptr && &candidate->owner() == this; }

  // Queues a root coroutine (the bottom of a sync_wait or spawn) and counts it as live.
  void submit_root(std::coroutine_handle<> root);
  void root_finished() noexcept;

  // The next coroutine to run; blocks while there is none. Null tells the worker to exit: the
  // runtime is shutting down and no root is live.
  std::coroutine_handle<> wait_for_work();

  void report_unhandled_exception(std::exception_ptr error) const noexcept;

private:
  runtime& m_facade;  // the pulse::runtime that owns this, for spawn() from a worker
  runtime_options m_options;

  std::mutex m_mutex;
  std::condition_variable m_work_available;
  std::deque<std::coroutine_handle<>> m_queue;
  std::size_t m_live_roots = 0;
  bool m_stopping = false;

  std::vector<std::unique_ptr<worker>> m_workers;
};

}  // namespace pulse::detail
