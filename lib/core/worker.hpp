// A worker: one thread of a runtime, with its own continuation stack (latent work) and
// work-stealing deque (promoted work). It runs what it pops from its deque, then what arrives in
// the runtime's injection queue, then what it steals; with nothing anywhere it searches for a while
// and then parks (lib/sched/idle_workers.hpp).
//
// Heartbeat. Every publish counts down; when the count runs out the worker reads the clock
// (poll), and when its heartbeat is due, or an idle thief has asked for work since, it promotes its
// oldest latent entry (or what the policy says). The countdown adapts so that a poll comes about every eighth of an interval, whatever the
// grain of the forks. A frame that computes for long without forking never polls, so its latent
// work could never get out (the problem of Chili #33): a thief that finds nothing to steal sends
// such a worker SIGURG, and the handler promotes on the worker's own thread, unless the worker was
// interrupted inside an operation on its continuation stack or deque (then the next poll does it).
//
// I/O. Each worker owns an io_uring ring (lib/io/ring.hpp), made on its own thread as it starts.
// Its loop sends the operations its tasks prepared when it has nothing local left to run (or a
// batch is full, or at a heartbeat poll), takes completions as they come, and resumes the tasks
// they belong to before other work; it sleeps in the ring, so completions wake it as well as
// other workers. A strand that ends because its task suspended on I/O leaves the latent work of
// the forks above that task runnable: end_strand promotes it into the deque. Between the tasks of a
// batch of completions the entries they prepare wait, to go together; should one of those tasks
// compute for long, a thief nudges the worker (m_entries_held_since_ns) and the signal handler
// submits them.
//
// I/O load. A task suspended on I/O comes back on the worker whose ring it used, so tasks that only
// do I/O (32 readers started at once, a server's connections) stay where they first ran, however
// unevenly they started. So a worker compares its I/O load (how many tasks its batches of
// completions make ready, averaged) with one other worker's at each batch, and when it has at
// least 8 and the other at most a quarter as many, hands that worker half the difference, from the
// batch, through the other worker's hand-off list; that worker resumes them as if its own ring had
// completed them (or, if it has not taken them yet, any worker that searches does), and their next
// operations go to the ring of the worker that resumed them. Tasks suspended on I/O that has not
// completed (an idle connection, a timer) are not load: they want no CPU until it does.
#pragma once

#include "io/ring.hpp"
#include "mem/frame_pool.hpp"
#include "sched/chase_lev_deque.hpp"
#include "sched/continuation_stack.hpp"
#include "sched/handoff_list.hpp"
#include "sched/victim_order.hpp"
#include "sched/work_item.hpp"
#include "trace/trace_buffer.hpp"

#include <pulse/detail/owner_counter.hpp>
#include <pulse/promotion.hpp>
#include <pulse/stats.hpp>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <sys/types.h>
#include <thread>
#include <utility>

namespace pulse::detail {

class runtime_impl;

// Counters a worker keeps for itself; others read them for statistics (include/pulse/stats.hpp
// says what each means).
struct worker_counters {
  statistics_counter tasks_run;
  statistics_counter heartbeats;
  statistics_counter promotions;
  statistics_counter steal_attempts;
  statistics_counter steals;
  statistics_counter parks;
  statistics_counter wakeups;
  statistics_counter idle_ns;
  statistics_counter busy_ns;
  statistics_counter promotion_ns;
  statistics_counter io_handed_over;
  std::atomic<std::uint64_t> signals_received{0};  // bumped by the thieves that send them
  std::atomic<std::uint64_t> signal_submits{0};    // bumped by the signal handler
};

class worker {
public:
  worker(runtime_impl& owner, unsigned index) noexcept;
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join();

  runtime_impl& owner() const noexcept { return m_owner; }
  unsigned index() const noexcept { return m_index; }
  // After join(): the worker's frame pool (null if its thread never started), for the runtime to
  // release. The worker's thread creates it, so its memory is placed on the node the worker runs on.
  frame_pool* take_pool() noexcept { return m_pool.exchange(nullptr, std::memory_order_acquire); }
  // This worker's statistics so far; any thread. Its pool's are included while the worker runs.
  worker_stats stats() const noexcept;

  // The publication seam, owner thread only: a fork, pcall or loop split records its
  // not-yet-started part on the latent stack, and takes it back when it gets there. The fast
  // paths are inline (latent_stack.hpp); the functions below are the rest.
  latent_stack& latent() noexcept { return m_continuations.fast(); }
  // Records `item` and promotes it at once: the heartbeat is due and it is the oldest latent work.
  void publish_promoted(work_item item);
  void push_slow(latent_entry entry);
  latent_entry pop_promoted() noexcept;
  void reserve_slow(std::uint32_t count);

  // Makes `item` runnable at once by any worker, from the injection queue; false, with nothing
  // done, if the queue cannot grow.
  bool hand_off(work_item item) noexcept;
  // Runs other work until `job` (taken by a thief) is done.
  void wait_for(stack_job& job) noexcept;
  // For loops: whether a heartbeat is due now, and how long until the next look.
  loop_poll poll_for_loop() noexcept;

  // For thieves and idle checks.
  take_result<work_item> steal_from() noexcept { return m_deque.steal(); }
  // Nothing here another worker could take: its deque, and the tasks handed to it (searchers take
  // those too).
  bool looks_idle() const noexcept { return m_deque.looks_empty() && m_handed_over.looks_empty(); }
  bool busy() const noexcept { return m_busy.load(std::memory_order_relaxed); }
  // Grows whenever this worker ends a busy stretch or reaps a completed operation: with busy(),
  // how shutdown tells a quiet runtime from one still at work (relaxed reads, from any thread). A
  // stretch counts at its end, so a long computation that ends just before a look, and leaves
  // only I/O behind, still counts as something that happened.
  std::uint64_t progress() const noexcept;
  // Busy, with latent work beneath it (or a loop range to split) at a poll less than an interval
  // ago: a promotion is likely within a heartbeat. Relaxed reads: a hint for thieves.
  bool may_promote(std::int64_t now_ns) const noexcept;
  // A thief found nothing: asks this worker, if busy, to promote at its next poll rather than its
  // next heartbeat, if it has not promoted for an interval (poll()).
  void want_promotion() noexcept {
    // A look first: the flag's line is written only when it changes.
    if (m_busy.load(std::memory_order_relaxed) && !m_promotion_wanted.load(std::memory_order_relaxed)) {
      m_promotion_wanted.store(true, std::memory_order_relaxed);
    }
  }
  // A thief found nothing: nudge this worker if it has not polled for a whole interval, or if a
  // task of a batch of completions has held back the operations the batch prepared before it for
  // longer than a poll period.
  void nudge_if_stalled(std::int64_t now_ns) noexcept;
  // SIGURG arrived on this worker's thread.
  void on_heartbeat_signal() noexcept;

  trace_buffer& trace() noexcept { return m_trace; }

  // The worker's ring; null if it has none (io_support::disabled, or its setup failed, in which
  // case ring_error() is the errno and ring_failure() says what failed, for messages: "io_uring is
  // unavailable (io_uring_setup failed)", or the step after it). Set before the runtime's
  // constructor returns.
  io_ring* ring() noexcept { return m_ring.get(); }
  int ring_error() const noexcept { return m_ring_error; }
  const char* ring_failure() const noexcept { return m_ring_failure; }

private:
  void run() noexcept;
  bool find_work(work_item& next, trace_source& source) noexcept;
  bool steal(work_item& next) noexcept;
  bool search(work_item& next, trace_source& source) noexcept;
  void run_item(work_item item) noexcept;
  // Ends the strand run_item began; see continuation_stack::begin_strand.
  void end_strand(continuation_stack::strand_mark outer) noexcept;
  void end_nested_strand(continuation_stack::strand_mark outer) noexcept;
  void start_ring() noexcept;
  // Submits what is prepared if the time has come, and reaps completions if there are any; true
  // if queued work is to run before the ready tasks (its turn, after a batch of them).
  bool service_ring() noexcept;
  // run_item without announcing the strand to the idle workers (run_item does, then calls this).
  void run_strand(work_item item) noexcept;
  // The task of the oldest completed operation (after delivering what multishot ones have).
  std::coroutine_handle<> next_ready() noexcept;
  // Resumes one completed operation's task, nested in a wait; false if none is ready.
  bool run_ready() noexcept;
  // Resumes every completed operation's task, from the loop: one busy stretch for the batch.
  void run_ready_from_loop() noexcept;
  // Between two tasks of a batch: publishes m_entries_held_since_ns if the ring holds entries.
  void publish_entries_held() noexcept;
  // At a batch of completions (runtimes of two workers or more): publishes this worker's I/O load,
  // and hands part of the batch to a less loaded worker (see "I/O load" above).
  void share_surplus(io_ready_list& batch) noexcept;
  // Moves what was handed over to `from` (this worker, or another that has not taken it) onto this
  // worker's ready list; false if there was nothing.
  bool take_handed_over(worker& from) noexcept;
  // Publishes this worker's I/O load outside a batch (m_io_load), in runtimes where others read it.
  void publish_io_load(std::uint32_t load) noexcept;
  // run_item from the worker loop: counted as busy time, traced as a task span.
  void run_from_loop(work_item item, trace_source source) noexcept;
  // A runtime of one worker whose ring has operations in flight: its own completions are its likely
  // next work, and its sleep in the ring waits for them.
  bool alone_waiting_for_io() const noexcept;
  // Where a busy stretch or idle spell that begins now begins: m_last_clock_ns, read again if 0.
  std::int64_t stretch_start_ns() noexcept;
  // Counts the idle stretch that began at idle_since and ends at now.
  void end_idle(std::int64_t idle_since, std::int64_t now) noexcept;

  void poll() noexcept;
  // Publishes, for thieves, that this worker polled at `now_ns` and whether it may promote soon.
  void note_poll(std::int64_t now_ns, bool may_promote) noexcept;
  // Sets the push at which the fast path next comes to push_slow (latent_stack::poll_at_push).
  void schedule_next_poll() noexcept;
  // A heartbeat: promotes the oldest latent work, as the policy or mode says, and sets the next
  // one. With `loop_range`, called from a loop's poll with nothing latent on this worker: the
  // loop's remaining range is the one latent entry, and the answer is whether to split it (the
  // loop promotes the upper half itself).
  bool heartbeat(std::int64_t now_ns, bool loop_range = false) noexcept;
  // Shutdown has asked for pending I/O to be cancelled, and this worker's ring has not been told.
  bool ring_cancellation_due() const noexcept;
  // False if the deque could not grow (then nothing changed).
  bool promote_oldest() noexcept;
  // After a heartbeat's promotions or a loop's split, begun at `started_ns`: counts their time as
  // overhead, and if anything was promoted stamps it (for the token bound) and wakes a thief.
  void end_promotion(std::int64_t started_ns, std::size_t promoted) noexcept;

  // Brackets owner operations on the continuation stack and the deque, so that the signal handler,
  // which runs on this same thread, never sees them half done.
  struct critical_section : signal_guarded_scope {
    explicit critical_section(worker& w) noexcept : signal_guarded_scope(w.m_in_critical) {}
  };

  runtime_impl& m_owner;
  const unsigned m_index;
  chase_lev_deque<work_item> m_deque;
  continuation_stack m_continuations;
  fast_random m_random;
  // Set by the worker's thread as it starts (release: statistics read the pool's counters);
  // released (or orphaned) by the runtime after the thread ends.
  std::atomic<frame_pool*> m_pool{nullptr};

  // Heartbeat state, owner-only (the handler reads it on the owner's own thread).
  promotion_mode m_mode;
  promotion_policy* m_policy;  // null: the built-in mode
  std::int64_t m_interval_ns;
  // Whether latent work waits for a heartbeat that a thief may need (eager publishes it all, serial
  // never does, and a runtime of one worker has no thief).
  const bool m_latent_work_can_stall;
  std::uint32_t m_poll_every = 16;
  std::uint32_t m_loop_budget = 64;  // loop iterations between polls, adapted like m_poll_every
  std::int64_t m_last_poll_ns = 0;
  std::int64_t m_next_heartbeat_ns = 0;
  std::int64_t m_last_heartbeat_ns = 0;
  std::int64_t m_last_promotion_cost_ns = 0;
  std::int64_t m_last_promotion_ns = 0;  // by a heartbeat or a loop split: a thief's ask is answered early only an interval later
  // Whether the loop last ran a batch of completions (then queued work has the next turn) rather
  // than an item from the queues or a steal (then completions do): see service_ring.
  bool m_completions_ran_last = false;
  // The worker loop's latest clock reading, in statistics builds (a stretch's end, a wake-up, a
  // search's end), or 0 once time went to the kernel after it (service_ring submitted or reaped):
  // where the next busy stretch or idle spell begins. A clock read costs 20 ns here, and a worker
  // alone with its I/O would otherwise read it five times per batch of completions.
  std::int64_t m_last_clock_ns = 0;
  volatile bool m_in_critical = false;
  volatile bool m_missed_signal = false;

  // Read by thieves (relaxed): when this worker last polled, the interval it is on, and whether it
  // is running work.
  alignas(cache_line) std::atomic<std::int64_t> m_polled_at_ns{0};
  std::atomic<std::int64_t> m_current_interval_ns{0};
  std::atomic<bool> m_busy{false};
  std::atomic<bool> m_may_promote_at_poll{false};
  std::atomic<std::int64_t> m_nudged_at_ns{0};
  // While it runs a task of a batch of completions, and tasks of the batch before it prepared
  // operations that are not yet submitted: when its ring last entered the kernel (so the entries
  // have waited at most since then); 0 otherwise. Owner writes, its signal handler included.
  std::atomic<std::int64_t> m_entries_held_since_ns{0};
  // Set by idle thieves, cleared when this worker promotes; relaxed: a hint, read at each poll.
  std::atomic<bool> m_promotion_wanted{false};
  // When the current stretch of idleness or of running work began; 0 outside one.
  std::atomic<std::int64_t> m_idle_since_ns{0};
  std::atomic<std::int64_t> m_busy_since_ns{0};
  worker_counters m_counters;
  owner_counter m_stretches_ended;  // progress(): kept whether or not statistics are compiled in
  trace_buffer m_trace;
  std::unique_ptr<io_ring> m_ring;
  // Tasks of I/O completions that other workers handed to this one (pushed by them, taken by it).
  handoff_list<io_ready_node> m_handed_over;
  // This worker's I/O load, for the others' share_surplus: its batches' average size (m_batch_load,
  // 0 once it idles) plus what others have handed it since; or, while it runs a strand from its
  // deque, the injection queue or a steal (which may compute for long), a value that says it takes
  // nothing (tasks handed to it would wait for the strand). Relaxed: a hint. In sixteenths of a task.
  alignas(cache_line) std::atomic<std::uint32_t> m_io_load{0};
  std::uint32_t m_batch_load = 0;  // owner-only
  int m_ring_error = 0;
  const char* m_ring_failure = "";  // static text
  // The kernel's id of the worker's thread, set by that thread as it starts; 0 before. Thieves
  // signal it by this id (tgkill), not by pthread_t: a thief may send its nudge just after the
  // thread has ended and been joined (shutdown), and pthread_kill on a joined thread's handle reads
  // freed memory, where tgkill at worst finds no such thread.
  std::atomic<pid_t> m_thread_id{0};
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

// Monotonic nanoseconds, for heartbeats.
inline std::int64_t monotonic_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace pulse::detail
