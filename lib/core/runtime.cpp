#include "core/runtime_impl.hpp"

#include <pulse/detail/root.hpp>
#include <pulse/runtime.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <utility>

namespace pulse {
namespace detail {

runtime_impl::runtime_impl(runtime& facade, runtime_options resolved)
    : m_facade(facade), m_options(std::move(resolved)) {
  m_workers.reserve(m_options.workers);
  try {
    for (unsigned index = 0; index < m_options.workers; ++index) {
      m_workers.push_back(std::make_unique<worker>(*this, index));
      m_workers.back()->start();
    }
  } catch (...) {
    // Thread creation failed part way (EAGAIN): stop the workers already running.
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_work_available.notify_all();
    for (auto& started : m_workers) {
      started->join();
    }
    throw;
  }
}

runtime_impl::~runtime_impl() {
  if (is_own_worker(current_worker())) {
    // Joining would wait for the calling thread itself. A destructor cannot throw, so say so plainly.
    std::fputs("pulse: a runtime was destroyed from one of its own workers; that would deadlock\n", stderr);
    std::abort();
  }
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_work_available.notify_all();
  for (auto& each : m_workers) {
    each->join();
  }
}

void runtime_impl::submit_root(std::coroutine_handle<> root) {
  {
    std::lock_guard lock(m_mutex);
    // Once shutdown has begun, only the runtime's own tasks may add work: they are part of what
    // the destructor waits for. Anyone else would race with the workers exiting.
    if (m_stopping && !is_own_worker(current_worker())) {
      throw std::logic_error("pulse: a task was submitted to a runtime that is being destroyed");
    }
    ++m_live_roots;
    m_queue.push_back(root);
  }
  m_work_available.notify_one();
}

void runtime_impl::root_finished() noexcept {
  bool last_at_shutdown = false;
  {
    std::lock_guard lock(m_mutex);
    --m_live_roots;
    last_at_shutdown = m_stopping && m_live_roots == 0;
  }
  if (last_at_shutdown) {
    m_work_available.notify_all();
  }
}

std::coroutine_handle<> runtime_impl::wait_for_work() {
  std::unique_lock lock(m_mutex);
  // The queue is checked first: work queued before shutdown still runs.
  m_work_available.wait(lock, [this] { return !m_queue.empty() || (m_stopping && m_live_roots == 0); });
  if (m_queue.empty()) {
    return {};
  }
  const std::coroutine_handle<> next = m_queue.front();
  m_queue.pop_front();
  return next;
}

void runtime_impl::report_unhandled_exception(std::exception_ptr error) const noexcept {
  if (m_options.on_unhandled_exception) {
    try {
      m_options.on_unhandled_exception(error);
      return;
    } catch (...) {
      std::fputs("pulse: runtime_options::on_unhandled_exception threw; reporting the original exception here\n",
                 stderr);
    }
  }
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pulse: a spawned task ended with an exception: %s\n", e.what());
  } catch (...) {
    std::fputs("pulse: a spawned task ended with an exception that is not a std::exception\n", stderr);
  }
}

void throw_if_on_worker(const char* operation) {
  if (const worker* self = current_worker(); self != nullptr) {
    throw std::logic_error(fmt::format(
        "{} was called on worker {} of a pulse runtime: blocking a worker stalls the tasks queued on it and "
        "can deadlock the runtime; co_await the task instead",
        operation, self->index()));
  }
}

void submit_root(runtime& target, std::coroutine_handle<> root) { target.impl().submit_root(root); }

void root_finished(runtime& target) noexcept { target.impl().root_finished(); }

}  // namespace detail

runtime::runtime(runtime_options options)
    : m_impl(std::make_unique<detail::runtime_impl>(*this, detail::resolve_options(std::move(options)))) {}

runtime::~runtime() = default;

unsigned runtime::worker_count() const noexcept { return m_impl->worker_count(); }

const runtime_options& runtime::options() const noexcept { return m_impl->options(); }

runtime& default_runtime() {
  // A function-local static: started on first use, thread-safe, and if PULSE_WORKERS is invalid
  // the exception reaches the caller and the next call tries again.
  static runtime instance{};
  return instance;
}

}  // namespace pulse
