#include "core/worker.hpp"

#include "core/runtime_impl.hpp"
#include "sched/cpu_relax.hpp"
#include "topo/hwloc_topology.hpp"

#include <pulse/detail/transfer.hpp>

#include <fmt/format.h>

#include <pthread.h>

#include <algorithm>

namespace pulse::detail {
namespace {

// Searching: rounds of (injection queue, every victim once), with exponential pause between
// rounds. About 50 us in all here: longer than a cross-CPU wake-up (~15 us), so a worker that
// will get work soon rarely pays for a park, and short enough not to burn a core when idle.
constexpr int search_rounds = 24;
constexpr int max_pause_shift = 7;

}  // namespace

worker* current_worker() noexcept { return t_this_thread_worker; }

worker::worker(runtime_impl& owner, unsigned index) noexcept
    : m_owner(owner), m_index(index), m_random(0x853C49E6748FEA9BULL * (index + 1)) {}

void worker::start() {
  m_thread = std::thread([this] { run(); });
}

void worker::join() {
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

bool worker::find_work(std::coroutine_handle<>& next) noexcept {
  if (const auto own = m_deque.pop()) {
    next = own.value;
    return true;
  }
  return m_owner.injection().try_pop(next);
}

bool worker::steal(std::coroutine_handle<>& next) noexcept {
  return for_each_victim(m_index, m_owner.worker_count(), m_random, [&](unsigned victim) {
    const auto taken = m_owner.worker_at(victim).steal_from();
    if (taken) {
      next = taken.value;
    }
    return static_cast<bool>(taken);
  });
}

bool worker::search(std::coroutine_handle<>& next) noexcept {
  for (int round = 0; round < search_rounds; ++round) {
    if (m_owner.injection().try_pop(next) || steal(next)) {
      return true;
    }
    const int pauses = 1 << std::min(round, max_pause_shift);
    for (int i = 0; i < pauses; ++i) {
      cpu_relax();
    }
  }
  return false;
}

void worker::run() noexcept {
  t_this_thread_worker = this;
  m_owner.cpus().apply_to_calling_thread();
  m_pool = new frame_pool(m_owner.options().frame_memory, current_numa_node());
  set_current_frame_pool(m_pool);
  // Names show in top, gdb and perf; the kernel keeps at most 15 characters.
  const std::string name = fmt::format("pulse-w{}", m_index);
  pthread_setname_np(pthread_self(), name.c_str());

  idle_workers& idle = m_owner.idle();
  bool counted_as_searching = false;  // true after a wake-up: the waker counted us
  std::coroutine_handle<> next;
  while (true) {
    if (!counted_as_searching && find_work(next)) {
      resume(next);
      continue;
    }
    if (!counted_as_searching) {
      idle.start_searching();
    }
    counted_as_searching = false;
    if (search(next)) {
      idle.found_work();
      resume(next);
      continue;
    }
    idle.stop_searching();
    if (m_owner.finished()) {
      break;
    }
    const auto reason = idle.park(m_index, [this] { return m_owner.work_visible() || m_owner.finished(); });
    counted_as_searching = reason == idle_workers::wake_reason::notified;
  }
  set_current_frame_pool(nullptr);
  t_this_thread_worker = nullptr;
}

}  // namespace pulse::detail
