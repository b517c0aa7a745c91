// File I/O and timers on the workers' io_uring rings.
//
//   std::size_t n = co_await pulse::io::read(fd, buffer, offset);
//   co_await pulse::sleep_for(5ms);
//   std::size_t n = co_await pulse::io::read(fd, buffer, offset).with_timeout(10ms);
//
// Each worker owns one ring. An operation is prepared on the ring of the worker that awaits it and
// sent to the kernel with the others of that loop iteration, in one system call; the task is
// suspended meanwhile and the worker runs other work. The completion resumes the task on the same
// worker, and what the task does next (forks included) is stealable as usual. A task that suspends
// on I/O leaves the latent work of the forks above it runnable at once: 32 tasks started with
// fork_all on one worker have 32 operations in flight.
//
// Results and errors. A read or write returns the bytes transferred, which may be fewer than asked
// (a short read is returned as such; 0 is the end of the file). An error from the kernel is a
// std::system_error carrying the errno, whose message names the operation. An operation given a
// timeout that expires first is cancelled and throws std::system_error(ETIMEDOUT). One limit, the
// kernel's: an operation that its worker threads are running in an uninterruptible wait (a read
// from a hung network file system, say) cannot be cancelled, by a timeout or by shutdown
// (runtime_options::io_shutdown_grace); it ends only when that wait does.
//
// Shutdown. A runtime's destructor waits for its tasks; if they wait on I/O that never comes, it
// cancels that I/O once it has waited io_shutdown_grace with nothing happening, and the operations
// throw std::system_error(ECANCELED) saying so (runtime.hpp).
//
// Where it works. Only inside tasks running on a pulse runtime (std::logic_error elsewhere). If
// io_uring is unavailable (a seccomp filter, io_uring_disabled, an old kernel) the runtime still
// runs tasks, and each I/O operation throws std::system_error with the setup's errno and a message
// saying io_uring is unavailable; runtime_options::io chooses to fail at construction instead.
//
// Every buffer, path and iovec array must stay valid until the await completes (which a temporary
// in the co_await expression does).
#pragma once

#include <pulse/detail/io_operation.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

namespace pulse {
namespace detail {

// How an awaitable turns its operation into a value.
enum class io_result_kind { count, descriptor, none };

template <io_result_kind Kind>
class io_awaitable {
public:
  io_awaitable(const char* name, const io_request& request) noexcept : m_request(request) {
    m_operation.name = name;
    m_operation.complete = &complete_once;
  }

  // The operation is cancelled if it has not completed after `limit` (an IORING_OP_LINK_TIMEOUT);
  // the await then throws std::system_error(ETIMEDOUT). A limit of zero or less expires at once.
  template <typename Rep, typename Period>
  io_awaitable with_timeout(std::chrono::duration<Rep, Period> limit) && noexcept {
    m_operation.timeout = to_io_timespec(limit);
    m_operation.has_timeout = true;
    return std::move(*this);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    m_operation.waiter = waiter;
    submit_io(m_operation, m_request);
  }
  auto await_resume() const {
    const std::size_t value = io_result_or_throw(m_operation);
    if constexpr (Kind == io_result_kind::count) {
      return value;
    } else if constexpr (Kind == io_result_kind::descriptor) {
      return static_cast<int>(value);
    }
  }

private:
  io_request m_request;
  io_operation m_operation;
};

using io_count = io_awaitable<io_result_kind::count>;
using io_descriptor = io_awaitable<io_result_kind::descriptor>;
using io_void = io_awaitable<io_result_kind::none>;

// A timer's completion: its expiry (ETIME) is success.
io_ready_node* complete_timer(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept;

class sleep_awaitable {
public:
  sleep_awaitable(const io_timespec& when, bool absolute) noexcept {
    m_operation.name = absolute ? "pulse::sleep_until" : "pulse::sleep_for";
    m_operation.complete = &complete_timer;
    m_when = when;
    m_request.op = io_opcode::timeout;
    m_request.flags = absolute ? 1U : 0U;  // IORING_TIMEOUT_ABS
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    m_operation.waiter = waiter;
    m_request.address = &m_when;
    submit_io(m_operation, m_request);
  }
  void await_resume() const { io_result_or_throw(m_operation); }

private:
  io_timespec m_when;
  io_request m_request;
  io_operation m_operation;
};

}  // namespace detail

namespace io {

// The offset that means "the file's current position" (and advances it), as for read(2).
inline constexpr std::uint64_t current_position = ~std::uint64_t{0};

// Reads up to buffer.size() bytes at `offset`: the count read, 0 at the end of the file.
inline detail::io_count read(int fd, std::span<std::byte> buffer, std::uint64_t offset) noexcept {
  return {"pulse::io::read", {.op = detail::io_opcode::read, .fd = fd, .address = buffer.data(), .length = buffer.size(), .offset = offset}};
}

// Writes up to buffer.size() bytes at `offset`: the count written.
inline detail::io_count write(int fd, std::span<const std::byte> buffer, std::uint64_t offset) noexcept {
  return {"pulse::io::write", {.op = detail::io_opcode::write, .fd = fd, .address = buffer.data(), .length = buffer.size(), .offset = offset}};
}

// Scatter and gather forms: the total count transferred.
inline detail::io_count readv(int fd, std::span<const iovec> buffers, std::uint64_t offset) noexcept {
  return {"pulse::io::readv", {.op = detail::io_opcode::readv, .fd = fd, .address = buffers.data(), .length = buffers.size(), .offset = offset}};
}
inline detail::io_count writev(int fd, std::span<const iovec> buffers, std::uint64_t offset) noexcept {
  return {"pulse::io::writev", {.op = detail::io_opcode::writev, .fd = fd, .address = buffers.data(), .length = buffers.size(), .offset = offset}};
}

// Flushes the file's data and metadata (fsync), or only what reading the data back needs (fdatasync).
inline detail::io_void fsync(int fd) noexcept { return {"pulse::io::fsync", {.op = detail::io_opcode::fsync, .fd = fd}}; }
inline detail::io_void fdatasync(int fd) noexcept {
  return {"pulse::io::fdatasync", {.op = detail::io_opcode::fsync, .fd = fd, .flags = 1U /* IORING_FSYNC_DATASYNC */}};
}

// Opens `path` relative to `dir` (AT_FDCWD: the working directory), as openat(2): the new descriptor.
// One difference, the kernel's (IORING_OP_OPENAT tries the open without blocking first): a FIFO
// opens as with O_NONBLOCK, so for reading it opens at once with no writer, and for writing with no
// reader it fails with ENXIO instead of waiting for one. The descriptor itself is blocking.
inline detail::io_descriptor openat(int dir, const char* path, int flags, mode_t mode = 0) noexcept {
  return {"pulse::io::openat",
          {.op = detail::io_opcode::openat, .fd = dir, .address = path, .flags = static_cast<std::uint32_t>(flags), .extra = mode}};
}

inline detail::io_void close(int fd) noexcept { return {"pulse::io::close", {.op = detail::io_opcode::close, .fd = fd}}; }

// statx(2): fills `out` with the fields in `mask` (STATX_BASIC_STATS, ...).
inline detail::io_void statx(int dir, const char* path, int flags, unsigned mask, struct ::statx& out) noexcept {
  return {"pulse::io::statx", {.op = detail::io_opcode::statx,
                               .fd = dir,
                               .address = path,
                               .flags = static_cast<std::uint32_t>(flags),
                               .extra = mask,
                               .out = &out}};
}

// Completes at once on the worker's ring: the round trip of the ring itself.
inline detail::io_void nop() noexcept { return {"pulse::io::nop", {.op = detail::io_opcode::nop}}; }

}  // namespace io

// Suspends the calling task for `duration` (at least; zero or less completes at the next loop
// iteration) without holding up its worker.
template <typename Rep, typename Period>
detail::sleep_awaitable sleep_for(std::chrono::duration<Rep, Period> duration) noexcept {
  return {detail::to_io_timespec(duration), false};
}

// Suspends the calling task until `deadline` on the steady clock (CLOCK_MONOTONIC).
template <typename Duration>
detail::sleep_awaitable sleep_until(std::chrono::time_point<std::chrono::steady_clock, Duration> deadline) noexcept {
  return {detail::to_io_timespec(deadline.time_since_epoch()), true};
}

}  // namespace pulse
