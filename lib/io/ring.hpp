// One worker's io_uring ring: created on the worker's own thread, which is the only one that ever
// submits to it or reaps it (IORING_SETUP_SINGLE_ISSUER, and DEFER_TASKRUN: completion work runs
// when this thread asks for it, never as an interrupt in the middle of a task).
//
// Submissions are batched: prepare() only fills a submission queue entry; the worker calls
// submit() once per loop iteration at most (when it has nothing local left to run, or a batch is
// full, or at a heartbeat poll), so a burst of operations costs one system call.
//
// Completions are reaped by the same thread: each CQE's user_data is the io_operation it belongs
// to (or a tag: a linked timeout's or a cancellation's, whose CQEs carry nothing, and the wake-up
// read). The operation keeps its result and, when it is done, its coroutine goes on `ready`, which
// the worker loop resumes from. Reaping never runs user code, so it may happen anywhere on the
// worker's thread.
//
// Sleeping. An idle worker sleeps in its ring (io_uring_enter waiting for one completion), so that
// both its own I/O and other threads wake it. Other threads wake it through an eventfd the ring
// always has a read pending on: writing the eventfd completes that read. The eventfd's count is
// sticky, so a wake that comes before the sleep is not lost.
//
// Interruption. A signal handler on the owner's thread (the heartbeat's SIGURG) may submit what is
// prepared, through submit_unless_interrupted(): a task of a batch of completions that computes
// for long would otherwise hold back the entries the batch's earlier tasks prepared. Every other
// member that touches the rings marks itself in use, so the handler never sees a half-prepared
// entry or a half-advanced queue: interrupted there, it leaves the submission to the owner, which
// is about to make it anyway.
//
// Full rings. A full submission queue is submitted to make room. The completion queue is sized
// four times the submission queue, and where the kernel still overflows it (more operations in
// flight than that) it keeps the extra completions (IORING_FEAT_NODROP) until the next reap, which
// enters the kernel to flush them: no completion is lost.
#pragma once

#include <pulse/detail/io_operation.hpp>
#include <pulse/detail/owner_counter.hpp>

#include "sched/atomics.hpp"

#include <liburing.h>

#include <atomic>
#include <cassert>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace pulse::detail {

// The completed operations a worker has yet to resume, oldest first.
class io_ready_list {
public:
  bool empty() const noexcept { return m_head == nullptr; }
  std::uint32_t size() const noexcept { return m_size; }
  void push(io_ready_node& node) noexcept {
    node.next = nullptr;
    (m_tail != nullptr ? m_tail->next : m_head) = &node;
    m_tail = &node;
    ++m_size;
  }
  io_ready_node* pop() noexcept {
    io_ready_node* const node = m_head;
    if (node != nullptr) {
      m_head = node->next;
      if (m_head == nullptr) {
        m_tail = nullptr;
      }
      --m_size;
    }
    return node;
  }
  // Detaches the newest `count` nodes, 0 < count < size(), and returns them as a list of their own.
  io_ready_list split_newest(std::uint32_t count) noexcept {
    assert(count > 0 && count < m_size);
    io_ready_list newest;
    io_ready_node* last_kept = m_head;
    for (std::uint32_t kept = 1; kept < m_size - count; ++kept) {
      last_kept = last_kept->next;
    }
    newest.m_head = last_kept->next;
    newest.m_tail = m_tail;
    newest.m_size = count;
    last_kept->next = nullptr;
    m_tail = last_kept;
    m_size -= count;
    return newest;
  }

private:
  io_ready_node* m_head = nullptr;
  io_ready_node* m_tail = nullptr;
  std::uint32_t m_size = 0;
};

// Why a ring could not be made: the errno, and what failed in words for messages (static text, so
// that whoever keeps it needs no allocation).
class ring_setup_error : public std::system_error {
public:
  ring_setup_error(int error, const char* failure)
      : std::system_error(error, std::system_category(), failure), m_failure(failure) {}
  const char* failure() const noexcept { return m_failure; }

private:
  const char* m_failure;
};

// The setup flags to try, best first. DEFER_TASKRUN (6.1) needs SINGLE_ISSUER (6.0); COOP_TASKRUN
// (5.19) at least avoids interrupting the worker; plain works since 5.1. TASKRUN_FLAG makes the
// kernel flag pending completion work in the shared ring, so a busy worker knows when reaping needs
// a system call.
inline constexpr unsigned io_ring_setups[] = {
    IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL,
    0,
};

class io_ring {
public:
  // Creates the ring on the calling thread with `entries` submission entries and the first of
  // `setups` the kernel accepts (an older kernel refuses newer flags with EINVAL). Throws
  // ring_setup_error: io_uring_setup's errno, or its wake-up eventfd's.
  explicit io_ring(unsigned entries, std::span<const unsigned> setups = io_ring_setups);
  ~io_ring();
  io_ring(const io_ring&) = delete;
  io_ring& operator=(const io_ring&) = delete;

  // Prepares `request` for `op` (and its linked timeout), to go with the next submit().
  void prepare(io_operation& op, const io_request& request);
  // Asks the kernel to cancel `op` (its CQE then arrives with -ECANCELED).
  void prepare_cancel(io_operation& op);
  // Shutdown: asks the kernel to cancel every operation in the ring, and from now on completes each
  // operation prepared with -ECANCELED at once instead of submitting it. An operation that ends
  // with ECANCELED from then on is marked cancelled_at_shutdown (one whose linked timeout fired in
  // that moment included). A kernel older than 5.19, which cannot cancel everything, says so on
  // stderr, and the ring goes back to submitting.
  void cancel_everything() noexcept;
  // Whether cancel_everything() was called (once is enough, and all it may do).
  bool cancel_everything_asked() const noexcept { return m_cancel_everything_asked; }
  bool cancelling_everything() const noexcept { return m_cancelling_everything; }

  // The setup flags the kernel accepted (one of the constructor's `setups`).
  unsigned setup_flags() const noexcept { return m_setup_flags; }

  std::uint32_t unsubmitted() const noexcept { return io_uring_sq_ready(&m_ring); }
  // Operations prepared and not yet completed (a multishot one counts until its last completion).
  std::uint64_t in_flight() const noexcept { return m_prepared.read() - m_completed.read(); }
  std::uint64_t prepared() const noexcept { return m_prepared.read(); }
  std::uint64_t completed() const noexcept { return m_completed.read(); }
  std::uint64_t submit_calls() const noexcept { return m_submit_calls.read(); }
  // System calls the ring has made (submits, sleeps, and the reaps that had to enter): its owner
  // compares two readings to know whether time went to the kernel in between.
  std::uint64_t kernel_entries() const noexcept { return m_kernel_entries; }
  // When entries last went to the kernel (steady clock, nanoseconds; 0: never).
  std::int64_t last_submit_ns() const noexcept { return m_last_submit_ns; }

  // Sends every prepared entry to the kernel.
  void submit() noexcept;
  // submit(), from a signal handler on the owner's thread: true if it submitted; false if there was
  // nothing to submit, or the signal interrupted the ring's own code (then the owner submits soon).
  bool submit_unless_interrupted() noexcept;
  // A word the owner sets when entries wait for a submit (the time they have waited since, for
  // other threads to read), which the ring zeroes whenever it submits, whoever asked it to.
  void clear_on_submit(std::atomic<std::int64_t>& held_since_ns) noexcept { m_held_since_ns = &held_since_ns; }
  // Whether completions may be waiting: reads the shared rings only (no system call). A hint: the
  // kernel's task-work flag counts, and the kernel (6.18 here) can leave it set with no work
  // queued, clearing it only when it next runs task work.
  bool completions_pending() const noexcept;
  // Whether completions sit in the completion queue now. What decides that a worker must not
  // sleep: sleep() runs any deferred task work itself, so a worker that refused to sleep on the
  // flag alone could spin forever on a stale one, never submitting what it waits for.
  bool completions_posted() const noexcept { return io_uring_cq_ready(&m_ring) != 0; }
  // Takes every completion there is onto ready(), entering the kernel only if it has deferred
  // completion work or overflowed completions to flush. Runs no user code.
  void reap() noexcept;
  // Submits what is prepared, then sleeps until a completion arrives (its own I/O, or another
  // thread's wake()), or for at most `timeout_ns` if positive; then reaps. `clock_ns` is the caller's
  // latest clock reading (steady clock), which stamps the submission (0: the ring reads the clock):
  // a worker alone with its I/O sleeps once per batch of completions, and a read costs 20 ns here.
  void sleep(std::int64_t timeout_ns, std::int64_t clock_ns = 0) noexcept;

  io_ready_list& ready() noexcept { return m_ready; }
  // Another thread's way to end sleep(): writes the eventfd behind `wake_fd()`.
  int wake_fd() const noexcept { return m_wake_fd; }
  static void wake(int wake_fd) noexcept;

private:
  // Zeroes the clear_on_submit word: entries are about to go.
  void forget_held() noexcept;
  io_uring_sqe* next_sqe(unsigned needed) noexcept;
  void dispatch(const io_uring_cqe& cqe) noexcept;
  void complete(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept;
  void arm_wake_read() noexcept;

  io_uring m_ring{};
  unsigned m_setup_flags = 0;
  int m_wake_fd = -1;
  std::uint64_t m_wake_buffer = 0;
  bool m_wake_armed = false;
  bool m_cancel_everything_asked = false;
  bool m_cancelling_everything = false;
  volatile bool m_in_use = false;  // in every member that touches the rings: see Interruption above
  std::atomic<std::int64_t>* m_held_since_ns = nullptr;  // see clear_on_submit
  std::int64_t m_last_submit_ns = 0;
  std::uint64_t m_kernel_entries = 0;  // owner only (its signal handler only when m_in_use is not set)
  io_ready_list m_ready;
  owner_counter m_prepared;
  owner_counter m_completed;
  owner_counter m_submit_calls;
};

}  // namespace pulse::detail
