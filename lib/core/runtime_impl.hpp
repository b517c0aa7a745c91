// The runtime behind pulse::runtime: its workers and where they run, the injection queue that work
// from outside arrives on, the idle-worker protocol, and the count of live roots that shutdown
// waits for.
#pragma once

#include "core/worker.hpp"
#include "mem/node_memory_resource.hpp"
#include "sched/idle_workers.hpp"
#include "sched/injection_queue.hpp"
#include "sched/work_item.hpp"
#include "topo/affinity.hpp"
#include "topo/placement.hpp"
#include "trace/chrome_trace.hpp"

#include <pulse/runtime.hpp>

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <latch>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace pulse::detail {

// Validates `options` and fills in `workers` and `pin` for `machine`; throws std::invalid_argument
// naming the bad option.
runtime_options resolve_options(runtime_options options, const topology& machine);

// What the environment asks of every runtime: PULSE_STATS=1 (print the statistics when the runtime
// is destroyed) and PULSE_TRACE=path (trace it from start to end). Throws std::invalid_argument
// for a PULSE_STATS other than 0 or 1.
struct environment_requests {
  bool print_stats = false;
  std::string trace_path;
};
environment_requests read_environment_requests();

class runtime_impl {
public:
  // Reads the process's topology, resolves `options` against it, then places and starts the workers.
  runtime_impl(runtime& facade, runtime_options options);
  ~runtime_impl();
  runtime_impl(const runtime_impl&) = delete;
  runtime_impl& operator=(const runtime_impl&) = delete;

  runtime& facade() const noexcept { return m_facade; }
  const runtime_options& options() const noexcept { return m_options; }
  // The upstream of every worker's frame pool: runtime_options::frame_memory behind one lock
  // (serialized_resource), or null for each pool's own node memory. Shared: pools outlive the
  // runtime while frames of theirs are alive.
  const std::shared_ptr<std::pmr::memory_resource>& frame_upstream() const noexcept { return m_frame_upstream; }
  unsigned worker_count() const noexcept { return static_cast<unsigned>(m_workers.size()); }
  worker& worker_at(unsigned index) const noexcept { return *m_workers[index]; }
  idle_workers& idle() noexcept { return m_idle; }
  const victim_tiers& victims_of(unsigned worker) const noexcept { return m_victims[worker]; }
  // Where a worker's own structures go (the worker object, its deque's rings): pages on the NUMA
  // node of the CPU it is pinned to, or null (the global heap) for a worker that floats.
  std::pmr::memory_resource* worker_memory(unsigned worker) const noexcept;
  // Called by each worker's thread as it starts: pins it to its CPU, or lets it run anywhere in
  // the process's mask (not just where the thread that created the runtime may run).
  void place_calling_thread(unsigned worker) const noexcept;
  injection_queue<work_item>& injection() noexcept { return m_injection; }

  // True when `candidate` is one of this runtime's workers.
  bool is_own_worker(const worker* candidate) const noexcept { return candidate != nullptr && &candidate->owner() == this; }

  // Finishes every live root, then stops and joins the workers. Idempotent. ~runtime calls it
  // before any member is destroyed, because the last roots still reach this object.
  void shutdown() noexcept;

  // Queues a root coroutine (the bottom of a sync_wait or spawn) and counts it as live until
  // root_finished(). Throws std::logic_error once shutdown has begun, unless the caller is one of
  // this runtime's own workers (their roots are part of what shutdown waits for).
  void submit_root(std::coroutine_handle<> root);
  void root_finished() noexcept;

  bool has_live_roots() const noexcept { return m_live_roots.load(std::memory_order_acquire) != 0; }
  // Shutdown found the runtime quiet for io_shutdown_grace with roots still live: each worker is
  // to cancel what its ring holds (see runtime_options::io_shutdown_grace).
  bool io_cancel_requested() const noexcept { return m_cancel_io.load(std::memory_order_acquire); }
  // Whether any worker is running a task (relaxed reads: for choosing how to park).
  bool any_worker_busy() const noexcept;
  // Whether any worker is likely to promote work soon (worker::may_promote).
  bool any_worker_may_promote(std::int64_t now_ns) const noexcept;

  // Each worker calls this once, after it has tried to make its ring; the constructor waits for all.
  void ring_started() noexcept { m_rings_started.count_down(); }
  // Workers exit when this becomes true: shutdown has begun and no root is live.
  bool finished() const noexcept {
    return m_stopping.load(std::memory_order_acquire) && m_live_roots.load(std::memory_order_acquire) == 0;
  }
  // Whether any queue looks non-empty; for a parking worker's last look.
  bool work_visible() const noexcept;

  void report_unhandled_exception(std::exception_ptr error) const noexcept;

  // Whether thieves may send SIGURG to a worker stuck in a long frame (see worker.hpp).
  bool nudge_with_signals() const noexcept { return m_nudge_with_signals; }

  pulse::stats stats() const;

  // Tracing (lib/trace): see runtime::start_trace.
  void start_trace(std::string path);
  void stop_trace();

private:
  void start_trace_from_environment() noexcept;
  // After the workers are joined: PULSE_STATS's table, and the end of a trace still running.
  void finish_reports() noexcept;

  // Wakes a parked worker for new work in the injection queue: from outside the runtime, the one
  // nearest the calling thread's CPU.
  void notify_for_injected_work() noexcept;

  // Shutdown's wait for the live roots, while it has a grace to give them: returns once none is
  // live, or once it has had the workers cancel their pending I/O because a whole grace went by
  // with nothing happening.
  void cancel_io_once_quiet() noexcept;
  std::uint64_t progress() const noexcept;

  runtime& m_facade;  // the pulse::runtime that owns this, for spawn() from a worker
  topology m_topology;
  runtime_options m_options;
  cpu_mask m_cpus = cpu_mask::of_process();
  std::vector<worker_placement> m_placements;
  std::vector<victim_tiers> m_victims;
  std::vector<std::unique_ptr<node_memory_resource>> m_node_memory;  // by index in m_topology.numa_nodes
  std::shared_ptr<std::pmr::memory_resource> m_frame_upstream;
  bool m_nudge_with_signals = false;

  injection_queue<work_item> m_injection;
  idle_workers m_idle;
  std::atomic<std::size_t> m_live_roots{0};
  std::atomic<bool> m_stopping{false};
  std::atomic<bool> m_cancel_io{false};
  // Shutdown's thread waits on this for the last root to finish (root_finished notifies it).
  std::mutex m_roots_mutex;
  std::condition_variable m_roots_finished;
  std::latch m_rings_started;

  // Each worker goes back to the memory it was made in (worker_memory, or the heap).
  struct release_worker {
    std::pmr::memory_resource* memory;
    void operator()(worker* w) const noexcept {
      std::destroy_at(w);
      memory->deallocate(w, sizeof(worker), alignof(worker));
    }
  };
  std::vector<std::unique_ptr<worker, release_worker>> m_workers;

  environment_requests m_requests;
  bool m_reports_finished = false;
  std::mutex m_trace_mutex;  // serialises starting and stopping
  std::optional<chrome_trace_file> m_trace_file;
  std::int64_t m_trace_origin_ns = 0;
};

}  // namespace pulse::detail
