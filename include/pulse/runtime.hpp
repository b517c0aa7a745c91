// pulse::runtime: a set of worker threads that run tasks, and the options it is built from.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <memory_resource>
#include <optional>
#include <string>

#include <pulse/promotion.hpp>
#include <pulse/stats.hpp>

namespace pulse {

// Whether the workers get io_uring rings (pulse/io.hpp, pulse/net.hpp).
enum class io_support {
  // Each worker gets a ring. Where io_uring is unavailable (a seccomp filter, io_uring_disabled, an
  // old kernel) the runtime runs without: tasks run as usual, and each I/O operation throws
  // std::system_error with io_uring_setup's errno and a message that says so. If only some workers
  // could make theirs (out of descriptors or memory), the constructor throws std::system_error:
  // I/O that works on one worker and fails on another is no fallback.
  automatic,
  // The same, but a runtime that cannot give every worker a ring throws std::system_error from its
  // constructor.
  required,
  // No rings: I/O operations throw std::system_error(ENOTSUP). Workers sleep on futexes.
  disabled,
};

// The bound of runtime_options::trace_events_per_worker: 2 GiB of events per worker.
inline constexpr std::size_t max_trace_events_per_worker = std::size_t{1} << 26;

// The bounds of runtime_options::io_ring_entries: room for an operation and its linked timeout, and
// a completion queue (four times larger) within the kernel's 65536.
inline constexpr unsigned min_io_ring_entries = 2;
inline constexpr unsigned max_io_ring_entries = 16384;

// An aggregate: designated initializers work, e.g. pulse::runtime{{.workers = 4}}.
struct runtime_options {
  // Worker threads. 0 means PULSE_WORKERS if that is set, else one per core the process may use
  // (its affinity mask, which taskset and cpusets set; see pulse::topology), or one per hardware
  // thread with `smt`.
  unsigned workers = 0;

  // Count SMT siblings as well as cores when `workers` is 0.
  bool smt = false;

  // Pin each worker to one CPU: the first hardware thread of each core in topology order, then the
  // SMT siblings if there are more workers than cores (then round again if more than CPUs).
  // Thieves prefer victims that share a core, then a cache, then a NUMA node. Unset means
  // PULSE_PIN if that is set (0 or 1, also false or true), else pinned. Unpinned workers float
  // over the whole affinity mask.
  std::optional<bool> pin{};

  // How often a worker's heartbeat falls due; must be positive. At each heartbeat a busy worker
  // promotes its oldest latent work so that idle workers can steal it (promotion.hpp).
  std::chrono::microseconds heartbeat{100};

  // When latent work becomes stealable. Ignored if `policy` is set.
  promotion_mode promotion = promotion_mode::heartbeat;

  // A user-defined heartbeat policy (promotion.hpp); shared by all workers, which call it
  // concurrently. Null means the built-in `promotion` mode.
  std::shared_ptr<promotion_policy> policy{};

  // Whether an idle worker may send SIGURG to a busy one that has not polled for a whole interval
  // (deep in a frame that does not fork), whose signal handler then promotes the latent work beneath
  // that frame, so that it does not wait for the frame to end; the handler also submits the I/O
  // that earlier tasks of a batch of completions prepared, if the worker's current task (resumed in
  // that batch) runs long, so that the I/O does not wait for the task to end. The price: a blocking system call in
  // such a frame that SA_RESTART does not restart (poll, select, epoll_wait, nanosleep and usleep,
  // a socket with a timeout) may fail with EINTR, which code that does not retry takes for an
  // error. false sends no signal: latent work under a long frame then waits for that frame's next
  // fork or its end, and so does such I/O. There are no signals either, whatever this says, if the program has its own
  // SIGURG handler.
  bool heartbeat_signals = true;

  // Where the workers' frame pools get their memory: chunks of 64 KiB aligned to 64 KiB, and each
  // frame larger than 2 KiB. Null means pages bound to each worker's NUMA node. A resource given
  // here must outlive the runtime and any task frame created on its workers. It need not be
  // thread-safe (std::pmr::unsynchronized_pool_resource will do): the runtime makes one call into
  // it at a time. The seed's allocator interface maps onto it: alloc is allocate, free is
  // deallocate, and reset is destroying the runtime, which returns every chunk.
  std::pmr::memory_resource* frame_memory = nullptr;

  // Called on a worker when a task started with pulse::spawn ends with an exception: there is no
  // awaiter to rethrow it to. Empty means print the exception to stderr. Several workers may call
  // it at once, so it must be thread-safe; an exception it throws is reported and dropped.
  std::function<void(std::exception_ptr)> on_unhandled_exception{};

  // While a trace runs (start_trace, or PULSE_TRACE), each worker keeps at most this many events,
  // the most recent: a long trace drops its oldest events (and says how many) rather than grow.
  // 32 bytes each, allocated when the trace starts; from 1 to max_trace_events_per_worker.
  std::size_t trace_events_per_worker = std::size_t{1} << 18;

  // I/O: whether each worker gets an io_uring ring, and its submission queue's size
  // (min_io_ring_entries to max_io_ring_entries; the kernel rounds up to a power of two). More operations than that may be
  // in flight at once: a full queue is submitted to make room, and the completion queue is four
  // times larger, with the kernel holding any overflow until it is reaped.
  io_support io = io_support::automatic;
  unsigned io_ring_entries = 256;

  // Shutdown and I/O that never comes. The destructor waits for every task, and a task can wait
  // for I/O forever (an accept, a read from a silent peer, a long sleep). Once the runtime has been
  // quiet this long while it waits (no task ran, no operation completed, no worker busy), it
  // cancels the pending operations: each throws std::system_error(ECANCELED) whose message says
  // the runtime is shutting down, and operations started after that fail the same way at once, so
  // the tasks unwind and the destructor returns. An exception that escapes a spawned task is
  // reported (on_unhandled_exception), so no task is cut short unseen. Work that keeps progressing
  // is never cut (a task that computes counts once it ends its stretch). Empty means wait forever;
  // zero cancels as soon as the runtime is quiet; at most longest_io_shutdown_grace. An operation
  // the kernel's worker threads are running in an uninterruptible wait (a read from a hung network
  // file system, say) cannot be cancelled, and still holds the destructor until it ends. Needs Linux 5.19
  // (IORING_ASYNC_CANCEL_ANY): an older kernel waits as with no grace, and says so on stderr.
  std::optional<std::chrono::milliseconds> io_shutdown_grace = std::chrono::seconds{1};
};

// The bound of runtime_options::io_shutdown_grace (longer is a mistake: use no grace at all, which
// waits forever).
inline constexpr std::chrono::hours longest_io_shutdown_grace{24};

namespace detail {
class runtime_impl;
}

class runtime {
public:
  // Validates the options and starts the workers. Invalid options throw std::invalid_argument
  // naming the option (or PULSE_WORKERS, PULSE_PIN).
  explicit runtime(runtime_options options = {});

  // Waits until every task started on this runtime (by sync_wait or spawn) has finished, cancelling
  // their pending I/O once the wait has been quiet for runtime_options::io_shutdown_grace, then
  // joins the workers. Destroying a runtime from one of its own workers is a fatal error.
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  unsigned worker_count() const noexcept;

  // The options in force, with `workers` resolved to the actual count and `pin` to whether the
  // workers are pinned.
  const runtime_options& options() const noexcept;

  // Counters per worker and summed (stats.hpp; approximate while tasks run).
  pulse::stats stats() const;

  // Tracing: records what every worker does (task spans, steals, promotions, loop splits, joins
  // waiting for a thief, parks) until stop_trace(), then writes it to `path` as a Chrome trace
  // JSON file, which ui.perfetto.dev and chrome://tracing open. start_trace opens the file at once:
  // a path that cannot be written is a std::system_error naming it, and no trace starts. Starting a
  // second trace, or stopping when none runs, is a std::logic_error. With PULSE_TRACE=path set, each
  // runtime traces from construction to destruction (the second runtime of the process writes
  // path.1, and so on); if that path cannot be written the runtime says so on stderr and runs
  // untraced. With tracing off, the cost is one relaxed load per scheduling event.
  void start_trace(std::string path);
  void stop_trace();

  detail::runtime_impl& impl() noexcept { return *m_impl; }

private:
  std::unique_ptr<detail::runtime_impl> m_impl;
};

// The runtime that pulse::sync_wait(task) and pulse::spawn(task) use, started on first use with
// default options. At exit (std::exit or returning from main) it finishes its tasks and joins its
// workers; after that, sync_wait and spawn on it are a std::logic_error. Its memory is never freed,
// so objects destroyed later at exit can still reach it safely.
runtime& default_runtime();

}  // namespace pulse
