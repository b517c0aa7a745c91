#include "core/runtime_impl.hpp"
#include "mem/serialized_resource.hpp"
#include "topo/platform.hpp"

#include <pulse/detail/root.hpp>
#include <pulse/runtime.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace pulse {
namespace detail {
namespace {

void heartbeat_signal_handler(int) {
  const int saved_errno = errno;
  if (worker* const self = t_this_thread_worker) {
    self->on_heartbeat_signal();
  }
  errno = saved_errno;
}

}  // namespace

bool heartbeat_signal_installed() noexcept {
  // Once per process, and only if the program has not claimed SIGURG for itself (then a worker
  // in a long frame waits for its next poll instead). SA_RESTART: an interrupted system call in
  // user code carries on.
  static const bool installed = [] {
    struct sigaction current {};
    if (sigaction(SIGURG, nullptr, &current) != 0) {
      return false;
    }
    const bool claimed = (current.sa_flags & SA_SIGINFO) != 0 ||
                         (current.sa_handler != SIG_DFL && current.sa_handler != SIG_IGN);
    if (claimed) {
      return false;
    }
    struct sigaction action {};
    action.sa_handler = heartbeat_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(SIGURG, &action, nullptr) == 0;
  }();
  return installed;
}

runtime_impl::runtime_impl(runtime& facade, runtime_options options)
    : m_facade(facade),
      m_topology(topology::detect()),
      m_options(resolve_options(std::move(options), m_topology)),
      m_placements(plan_placement(m_topology, m_options.workers, *m_options.pin)),
      m_idle(m_options.workers),
      m_rings_started(m_options.workers),
      m_requests(read_environment_requests()) {
  m_nudge_with_signals = m_options.heartbeat_signals && heartbeat_signal_installed();
  if (m_options.frame_memory != nullptr) {
    m_frame_upstream = std::make_shared<serialized_resource>(*m_options.frame_memory);
  }
  for (const topology::numa_node& node : m_topology.numa_nodes) {
    m_node_memory.push_back(std::make_unique<node_memory_resource>(static_cast<int>(node.os_index)));
  }
  m_victims.reserve(m_options.workers);
  m_workers.reserve(m_options.workers);
  // Every worker exists before any starts: thieves index the whole vector.
  for (unsigned index = 0; index < m_options.workers; ++index) {
    m_victims.emplace_back(m_topology, m_placements, index);
    std::pmr::memory_resource* memory = worker_memory(index);
    memory = memory != nullptr ? memory : std::pmr::new_delete_resource();
    void* const place = memory->allocate(sizeof(worker), alignof(worker));
    // Reserved above, so emplace_back cannot throw and leak `place`; the constructor is noexcept.
    m_workers.emplace_back(std::construct_at(static_cast<worker*>(place), *this, index), release_worker{memory});
  }
  try {
    for (auto& each : m_workers) {
      each->start();
    }
  } catch (...) {
    // Thread creation failed part way (EAGAIN): stop the workers already running.
    shutdown();
    throw;
  }
  // Every worker has its ring (or knows why not) before any task can ask for one.
  m_rings_started.wait();
  const auto without_ring = std::find_if(m_workers.begin(), m_workers.end(), [](const auto& each) { return each->ring() == nullptr; });
  const bool some_have_rings = std::any_of(m_workers.begin(), m_workers.end(), [](const auto& each) { return each->ring() != nullptr; });
  if (m_options.io != io_support::disabled && without_ring != m_workers.end() &&
      (m_options.io == io_support::required || some_have_rings)) {
    const int error = (*without_ring)->ring_error();
    const unsigned index = (*without_ring)->index();
    const char* const failure = (*without_ring)->ring_failure();
    shutdown();
    throw std::system_error(error, std::system_category(),
                            m_options.io == io_support::required
                                ? fmt::format("pulse::runtime: {} on worker {}, and runtime_options::io is io_support::required",
                                              failure, index)
                                : fmt::format("pulse::runtime: worker {} has no ring while others do: {}", index, failure));
  }
  if (!m_requests.trace_path.empty()) {
    start_trace_from_environment();
  }
}

void runtime_impl::start_trace_from_environment() noexcept {
  // Each runtime of the process gets a file of its own: path, path.1, path.2, ...
  static std::atomic<unsigned> traced_runtimes{0};
  const unsigned sequence = traced_runtimes.fetch_add(1, std::memory_order_relaxed);
  std::string path = sequence == 0 ? m_requests.trace_path : fmt::format("{}.{}", m_requests.trace_path, sequence);
  try {
    start_trace(std::move(path));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pulse: PULSE_TRACE: %s; this runtime runs untraced\n", e.what());
  }
}

pulse::stats runtime_impl::stats() const {
  pulse::stats total;
  total.workers.reserve(m_workers.size());
  for (const auto& each : m_workers) {
    total.workers.push_back(each->stats());
    total += total.workers.back();
  }
  return total;
}

void runtime_impl::start_trace(std::string path) {
  const std::lock_guard lock(m_trace_mutex);
  if (m_trace_file) {
    throw std::logic_error(fmt::format("pulse: start_trace('{}'): a trace to '{}' is already running", path,
                                       m_trace_file->path()));
  }
  chrome_trace_file file(std::move(path));
  m_trace_origin_ns = monotonic_ns();
  try {
    for (auto& each : m_workers) {
      each->trace().start(m_options.trace_events_per_worker);
    }
  } catch (...) {
    for (auto& each : m_workers) {
      each->trace().stop();  // the buffers that did start (no memory for the rest)
    }
    throw;
  }
  m_trace_file.emplace(std::move(file));
}

void runtime_impl::stop_trace() {
  const std::lock_guard lock(m_trace_mutex);
  if (!m_trace_file) {
    throw std::logic_error("pulse: stop_trace() with no trace running");
  }
  std::vector<worker_trace> traces;
  traces.reserve(m_workers.size());
  for (auto& each : m_workers) {
    each->trace().stop();
    traces.push_back({each->index(), each->trace().events(), each->trace().dropped()});
  }
  chrome_trace_file file = std::move(*m_trace_file);
  m_trace_file.reset();
  file.write(traces, m_trace_origin_ns);
}

runtime_impl::~runtime_impl() { shutdown(); }

bool runtime_impl::any_worker_busy() const noexcept {
  return std::any_of(m_workers.begin(), m_workers.end(), [](const auto& each) { return each->busy(); });
}

bool runtime_impl::any_worker_may_promote(std::int64_t now_ns) const noexcept {
  return std::any_of(m_workers.begin(), m_workers.end(), [now_ns](const auto& each) { return each->may_promote(now_ns); });
}

void runtime_impl::shutdown() noexcept {
  if (is_own_worker(current_worker())) {
    // Joining would wait for the calling thread itself. A destructor cannot throw, so say so plainly.
    std::fputs("pulse: a runtime was destroyed from one of its own workers; that would deadlock\n", stderr);
    std::abort();
  }
  // seq_cst, then wake_all's fence and claims: a worker parking now either armed its word before
  // that fence (and wake_all claims it) or fences after it and sees m_stopping in its last look.
  m_stopping.store(true, std::memory_order_seq_cst);
  m_idle.wake_all();
  cancel_io_once_quiet();
  for (auto& each : m_workers) {
    each->join();
  }
  finish_reports();
  // Workers are gone: hand their pools back (or leave them to frames that outlive the runtime).
  for (auto& each : m_workers) {
    if (frame_pool* const pool = each->take_pool()) {
      frame_pool::release_or_orphan(pool);
    }
  }
}

std::uint64_t runtime_impl::progress() const noexcept {
  std::uint64_t total = 0;
  for (const auto& each : m_workers) {
    total += each->progress();
  }
  return total;
}

void runtime_impl::cancel_io_once_quiet() noexcept {
  const std::optional<std::chrono::milliseconds> grace = m_options.io_shutdown_grace;
  const bool any_ring = std::any_of(m_workers.begin(), m_workers.end(), [](const auto& each) { return each->ring() != nullptr; });
  if (!grace || !any_ring) {
    return;  // the workers' join waits as long as it takes
  }
  // seq_cst, as root_finished's read of m_stopping: one of the two sees the other.
  const auto all_finished = [this] { return m_live_roots.load(std::memory_order_seq_cst) == 0; };
  std::uint64_t before = progress();
  std::unique_lock lock(m_roots_mutex);
  // Quiet means a whole grace in which no worker ended a busy stretch or reaped a completion, and
  // none is busy at its end (a long task counts no progress until it ends).
  while (!m_roots_finished.wait_for(lock, *grace, all_finished)) {
    const std::uint64_t now = progress();
    if (now == before && !any_worker_busy()) {
      break;
    }
    before = now;
  }
  if (all_finished()) {
    return;
  }
  lock.unlock();
  // As for m_stopping: a worker parking now either is woken here or sees the request in its last look.
  m_cancel_io.store(true, std::memory_order_seq_cst);
  m_idle.wake_all();
}

void runtime_impl::finish_reports() noexcept {
  if (std::exchange(m_reports_finished, true)) {
    return;  // shutdown() again
  }
  // Before the pools go: the frame counters live in them.
  if (m_requests.print_stats) {
    const std::string table = to_string(stats());
    std::fprintf(stderr, "pulse: statistics of a runtime with %u workers\n%s", worker_count(), table.c_str());
  }
  bool tracing = false;
  {
    const std::lock_guard lock(m_trace_mutex);
    tracing = m_trace_file.has_value();
  }
  if (tracing) {
    try {
      stop_trace();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "pulse: %s\n", e.what());
    }
  }
}

void runtime_impl::submit_root(std::coroutine_handle<> root) {
  // Counted before it is queued, so no worker sees "finished" while it waits in the queue.
  m_live_roots.fetch_add(1, std::memory_order_seq_cst);
  // Once shutdown has begun, only the runtime's own tasks may add work: they are part of what
  // the destructor waits for. Anyone else would race with the workers exiting.
  if (m_stopping.load(std::memory_order_seq_cst) && !is_own_worker(current_worker())) {
    root_finished();
    throw std::logic_error("pulse: a task was submitted to a runtime that is being destroyed");
  }
  try {
    m_injection.push(work_item::coroutine(root));
  } catch (...) {
    root_finished();  // not queued after all (bad_alloc in the overflow list)
    throw;
  }
  notify_for_injected_work();
}

void runtime_impl::notify_for_injected_work() noexcept {
  const int cpu = current_cpu();
  const auto here = std::find_if(m_topology.pus.begin(), m_topology.pus.end(), [cpu](const topology::processing_unit& pu) {
    return static_cast<int>(pu.os_index) == cpu;
  });
  // A worker's own submissions (spawn from a task) wake whoever parked last, as for its forks.
  // Floating workers have no distance; nor does a thread on a CPU outside the runtime's mask.
  if (is_own_worker(current_worker()) || !*m_options.pin || here == m_topology.pus.end()) {
    m_idle.notify();
    return;
  }
  const auto from = static_cast<unsigned>(here - m_topology.pus.begin());
  const auto distance_to = [this, from](unsigned worker) {
    return static_cast<unsigned>(distance_between(m_topology, from, m_placements[worker].pu));
  };
  m_idle.notify(wake_rank(distance_to));
}

std::pmr::memory_resource* runtime_impl::worker_memory(unsigned worker) const noexcept {
  const worker_placement& placement = m_placements[worker];
  if (!placement.pinned) {
    return nullptr;
  }
  return m_node_memory[m_topology.cores[m_topology.pus[placement.pu].core].numa_node].get();
}

void runtime_impl::place_calling_thread(unsigned worker) const noexcept {
  const worker_placement& placement = m_placements[worker];
  // If the kernel refuses the pin (the CPU went offline since the topology was read), the worker
  // floats: slower perhaps, never wrong.
  if (!placement.pinned || !pin_calling_thread(m_topology.pus[placement.pu].os_index)) {
    m_cpus.apply_to_calling_thread();
  }
}

void runtime_impl::root_finished() noexcept {
  // acq_rel: the root's work happens before a worker that sees zero live roots exits.
  if (m_live_roots.fetch_sub(1, std::memory_order_acq_rel) == 1 && m_stopping.load(std::memory_order_seq_cst)) {
    m_idle.wake_all();
    // Through the mutex: shutdown's thread is either waiting, and woken, or yet to look at the count.
    { const std::lock_guard lock(m_roots_mutex); }
    m_roots_finished.notify_all();
  }
}

bool runtime_impl::work_visible() const noexcept {
  if (!m_injection.looks_empty()) {
    return true;
  }
  return std::any_of(m_workers.begin(), m_workers.end(), [](const auto& each) { return !each->looks_idle(); });
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

void submit_root(runtime_impl& target, std::coroutine_handle<> root) { target.submit_root(root); }

void root_finished(runtime_impl& target) noexcept { target.root_finished(); }

}  // namespace detail

runtime::runtime(runtime_options options) : m_impl(std::make_unique<detail::runtime_impl>(*this, std::move(options))) {}

runtime::~runtime() { m_impl->shutdown(); }

unsigned runtime::worker_count() const noexcept { return m_impl->worker_count(); }

const runtime_options& runtime::options() const noexcept { return m_impl->options(); }

pulse::stats runtime::stats() const { return m_impl->stats(); }

void runtime::start_trace(std::string path) { m_impl->start_trace(std::move(path)); }

void runtime::stop_trace() { m_impl->stop_trace(); }

namespace {

runtime* g_default_runtime = nullptr;

void finish_default_runtime() noexcept {
  // std::exit called from a task runs this on a worker, which cannot join itself: then the
  // workers simply end with the process.
  detail::runtime_impl& impl = g_default_runtime->impl();
  if (!impl.is_own_worker(detail::current_worker())) {
    impl.shutdown();
  }
}

}  // namespace

runtime& default_runtime() {
  // Started on first use (thread-safe; if PULSE_WORKERS is invalid the exception reaches the
  // caller and the next call tries again), drained by an atexit handler, never freed.
  static runtime& instance = []() -> runtime& {
    g_default_runtime = new runtime{};
    std::atexit(finish_default_runtime);
    return *g_default_runtime;
  }();
  return instance;
}

}  // namespace pulse
