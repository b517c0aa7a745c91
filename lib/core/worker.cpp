#include "core/worker.hpp"

#include "core/runtime_impl.hpp"

#include <pulse/detail/transfer.hpp>

#include <fmt/format.h>

#include <pthread.h>

namespace pulse::detail {
namespace {
thread_local worker* t_current_worker = nullptr;
}  // namespace

worker* current_worker() noexcept { return t_current_worker; }

void worker::start() {
  m_thread = std::thread([this] { run(); });
}

void worker::join() {
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void worker::run() noexcept {
  t_current_worker = this;
  // Names show in top, gdb and perf; the kernel keeps at most 15 characters.
  const std::string name = fmt::format("pulse-w{}", m_index);
  pthread_setname_np(pthread_self(), name.c_str());

  while (std::coroutine_handle<> next = m_owner.wait_for_work()) {
    resume(next);
  }
  t_current_worker = nullptr;
}

}  // namespace pulse::detail
