// What every pulse I/O awaitable holds while it waits: the request it submits and the completion
// the worker's ring delivers back. The awaitables (io.hpp, net.hpp) are thin; lib/io turns a
// request into a submission on the calling worker's io_uring ring, and the ring's reaper turns the
// completion into a resumption on that same worker. No liburing type appears here.
//
// Life of an operation. await_suspend records the waiting coroutine and calls submit_io(), which
// prepares a submission queue entry whose user_data is the operation's address (the submission
// itself goes to the kernel in a batch, at the worker's next loop iteration). The awaitable is a
// temporary in the coroutine's frame, so it stays put until the coroutine resumes. The completion
// (a CQE) is reaped by the same worker, which stores its result here and queues the coroutine on
// its ready list; the worker loop resumes it from there as a strand of its own, so what follows the
// await (forks included) is stealable as usual.
//
// Cancellation is designed in: an operation is identified by its address (the user_data an
// IORING_OP_ASYNC_CANCEL names) and by the worker whose ring holds it (`ring_owner`), which is the
// only thread that may submit to that ring. Timeouts use it today (a linked timeout cancels the
// operation it is linked to), and so does shutdown, which cancels whatever a ring still holds once
// the runtime has waited quietly for long enough.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace pulse::detail {

enum class io_opcode : std::uint8_t {
  read,
  write,
  readv,
  writev,
  fsync,
  openat,
  close,
  statx,
  socket,
  accept,
  accept_multishot,
  connect,
  recv,
  send,
  shutdown,
  timeout,
  nop,
};

// The arguments of one request, in the kernel's terms; which fields mean what depends on `op`.
struct io_request {
  io_opcode op = io_opcode::nop;
  int fd = -1;
  const void* address = nullptr;  // buffer, iovec array, path or sockaddr
  std::uint64_t length = 0;       // bytes, iovec count or socklen_t
  std::uint64_t offset = 0;       // file offset (-1: the file's current position)
  std::uint32_t flags = 0;        // open, msg, statx, fsync or timeout flags, or `how` for shutdown
  std::uint32_t extra = 0;        // open mode, statx mask, socket type or protocol
  void* out = nullptr;            // statx buffer, or the socklen_t* of accept
  int domain = 0;                 // socket
};

// Layout of the kernel's __kernel_timespec (checked in lib/io).
struct io_timespec {
  std::int64_t tv_sec = 0;
  long long tv_nsec = 0;
};

// Anything past this is forever to the kernel as well (it saturates timeouts at 2^63 ns).
inline constexpr std::int64_t longest_io_timespec_seconds = 1'000'000'000'000'000;  // 31 million years

// Zero or less (or NaN) is zero; a span too long for nanoseconds (seconds::max(), a few centuries)
// saturates instead of overflowing, so "wait forever" waits rather than expiring at once.
template <typename Rep, typename Period>
io_timespec to_io_timespec(std::chrono::duration<Rep, Period> duration) noexcept {
  using namespace std::chrono;
  const double seconds_count = duration_cast<std::chrono::duration<double>>(duration).count();  // cannot overflow
  if (!(seconds_count > 0)) {
    return {};
  }
  if (seconds_count >= static_cast<double>(longest_io_timespec_seconds)) {
    return {longest_io_timespec_seconds, 0};
  }
  if constexpr (std::is_floating_point_v<Rep>) {
    // Now within range: whole seconds, then the nanoseconds left.
    const auto whole = duration_cast<seconds>(duration);
    return {static_cast<std::int64_t>(whole.count()), static_cast<long long>(duration_cast<nanoseconds>(duration - whole).count())};
  } else {
    // count * num / den seconds, split so that no step overflows whatever the period (duration_cast
    // multiplies by num first): count = q * den + r.
    __extension__ using wide = __int128;
    const wide count = duration.count();
    const wide q = count / Period::den;
    const wide part = (count % Period::den) * Period::num;  // below den * num
    return {static_cast<std::int64_t>(q * Period::num + part / Period::den),
            static_cast<long long>((part % Period::den) * 1'000'000'000 / Period::den)};
  }
}

// A completed operation waiting for its coroutine to be resumed, on the worker's ready list.
struct io_ready_node {
  io_ready_node* next = nullptr;
  std::coroutine_handle<> waiter;
  // Null: resume `waiter`. Otherwise the worker calls it and resumes what it returns, if anything
  // (a multishot operation delivers what it has, and returns the waiter once it has ended).
  std::coroutine_handle<> (*drain)(io_ready_node& node) noexcept = nullptr;
};

struct io_operation;
// Called by the reaper for each CQE of `op`: stores what it needs and returns the node to put on the
// ready list, or null if nothing is to be resumed yet (a multishot operation with more to come).
using io_complete_fn = io_ready_node* (*)(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept;

struct io_operation : io_ready_node {
  io_complete_fn complete = nullptr;
  const char* name = "";              // the operation, as errors name it: "pulse::io::read"
  std::int32_t result = 0;            // the CQE's res: a count, an fd, or -errno
  std::uint32_t cqe_flags = 0;
  io_timespec timeout{};              // a linked timeout when has_timeout; read by the kernel at submission
  bool has_timeout = false;
  bool cancelled_at_shutdown = false;  // the runtime cancelled it (runtime_options::io_shutdown_grace)
  unsigned ring_owner = 0;            // the worker whose ring holds the operation (set by submit_io)
};

// Submits `request` for `op` on the calling worker's ring; `op.waiter` is resumed when it completes.
// Throws std::logic_error off the workers, std::system_error if this worker has no ring (io_uring is
// unavailable or disabled: the error names why).
void submit_io(io_operation& op, const io_request& request);

// The single-shot completion: keeps the result and resumes the waiter.
io_ready_node* complete_once(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept;

// The result of `op` as a count (bytes, an fd): throws std::system_error(-result, name) if it is
// an error. A cancelled operation with a timeout that fired is ETIMEDOUT; one that shutdown
// cancelled is ECANCELED, and says so.
std::size_t io_result_or_throw(const io_operation& op);

}  // namespace pulse::detail
