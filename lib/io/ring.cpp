#include "io/ring.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sys/eventfd.h>
#include <system_error>
#include <unistd.h>

namespace pulse::detail {
namespace {

static_assert(sizeof(io_timespec) == sizeof(__kernel_timespec) && alignof(io_timespec) == alignof(__kernel_timespec));

// user_data of the CQEs that carry nothing for anyone (linked timeouts, cancellations), and of the
// wake-up read. Operations are at least 8-aligned, so neither is ever an operation's address.
constexpr std::uint64_t ignored_tag = 0;
constexpr std::uint64_t wake_tag = 1;
constexpr std::uint64_t cancel_everything_tag = 2;

constexpr unsigned completion_queue_factor = 4;

std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

io_ring::io_ring(unsigned entries, std::span<const unsigned> setups) {
  int error = EINVAL;
  for (const unsigned flags : setups) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_CQSIZE;
    params.cq_entries = entries * completion_queue_factor;
    error = -io_uring_queue_init_params(entries, &m_ring, &params);
    if (error == 0) {
      m_setup_flags = flags;
      break;
    }
    if (error != EINVAL) {
      break;  // EPERM, ENOSYS, ENOMEM...: another flag set will not help
    }
  }
  if (error != 0) {
    throw ring_setup_error(error, "io_uring is unavailable (io_uring_setup failed)");
  }
  m_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (m_wake_fd < 0) {
    const int eventfd_error = errno;
    io_uring_queue_exit(&m_ring);
    throw ring_setup_error(eventfd_error, "its io_uring ring could not be set up (eventfd for the ring's wake-ups failed)");
  }
}

io_ring::~io_ring() {
  io_uring_queue_exit(&m_ring);  // cancels the pending wake-up read
  ::close(m_wake_fd);
}

io_uring_sqe* io_ring::next_sqe(unsigned needed) noexcept {
  // A full queue is submitted to make room; if the kernel takes nothing (it is short of memory for
  // a moment, or has overflowed completions to flush first), reap and try again.
  while (io_uring_sq_space_left(&m_ring) < needed) {
    const std::uint32_t before = unsubmitted();
    submit();
    if (unsubmitted() == before) {
      reap();
    }
  }
  return io_uring_get_sqe(&m_ring);
}

void io_ring::prepare(io_operation& op, const io_request& request) {
  const signal_guarded_scope in_use(m_in_use);
  if (m_cancelling_everything) [[unlikely]] {
    m_prepared.add();
    complete(op, -ECANCELED, 0);  // resumed from the ready list, as if the kernel had cancelled it
    return;
  }
  io_uring_sqe* const sqe = next_sqe(op.has_timeout ? 2 : 1);
  const auto address = const_cast<void*>(request.address);
  // At most the kernel's MAX_RW_COUNT (INT_MAX less a page): read and write stop there by
  // themselves, but send and recv refuse a longer buffer with EINVAL, where send(2) and recv(2)
  // move part of it. The count returned says how much moved, as for any short transfer.
  constexpr std::uint64_t most_per_call = 0x7ffff000;
  const auto length32 = static_cast<unsigned>(std::min(request.length, most_per_call));
  switch (request.op) {
    case io_opcode::read:
      io_uring_prep_read(sqe, request.fd, address, length32, request.offset);
      break;
    case io_opcode::write:
      io_uring_prep_write(sqe, request.fd, address, length32, request.offset);
      break;
    case io_opcode::readv:
      io_uring_prep_readv(sqe, request.fd, static_cast<const iovec*>(request.address), length32, request.offset);
      break;
    case io_opcode::writev:
      io_uring_prep_writev(sqe, request.fd, static_cast<const iovec*>(request.address), length32, request.offset);
      break;
    case io_opcode::fsync:
      io_uring_prep_fsync(sqe, request.fd, request.flags);
      break;
    case io_opcode::openat:
      io_uring_prep_openat(sqe, request.fd, static_cast<const char*>(request.address), static_cast<int>(request.flags),
                           request.extra);
      break;
    case io_opcode::close:
      io_uring_prep_close(sqe, request.fd);
      break;
    case io_opcode::statx:
      io_uring_prep_statx(sqe, request.fd, static_cast<const char*>(request.address), static_cast<int>(request.flags),
                          request.extra, static_cast<struct statx*>(request.out));
      break;
    case io_opcode::socket:
      io_uring_prep_socket(sqe, request.domain, static_cast<int>(request.length), static_cast<int>(request.extra), 0);
      break;
    case io_opcode::accept:
      io_uring_prep_accept(sqe, request.fd, static_cast<sockaddr*>(address), static_cast<socklen_t*>(request.out),
                           static_cast<int>(request.flags));
      break;
    case io_opcode::accept_multishot:
      io_uring_prep_multishot_accept(sqe, request.fd, nullptr, nullptr, static_cast<int>(request.flags));
      break;
    case io_opcode::connect:
      io_uring_prep_connect(sqe, request.fd, static_cast<const sockaddr*>(request.address),
                            static_cast<socklen_t>(request.length));
      break;
    case io_opcode::recv:
      io_uring_prep_recv(sqe, request.fd, address, length32, static_cast<int>(request.flags));
      break;
    case io_opcode::send:
      io_uring_prep_send(sqe, request.fd, request.address, length32, static_cast<int>(request.flags));
      break;
    case io_opcode::shutdown:
      io_uring_prep_shutdown(sqe, request.fd, static_cast<int>(request.flags));
      break;
    case io_opcode::timeout:
      io_uring_prep_timeout(sqe, static_cast<__kernel_timespec*>(address), 0, request.flags);
      break;
    case io_opcode::nop:
      io_uring_prep_nop(sqe);
      break;
  }
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uint64_t>(&op));
  if (op.has_timeout) {
    sqe->flags |= IOSQE_IO_LINK;
    io_uring_sqe* const timeout = io_uring_get_sqe(&m_ring);  // room for both was made above
    io_uring_prep_link_timeout(timeout, reinterpret_cast<__kernel_timespec*>(&op.timeout), 0);
    io_uring_sqe_set_data64(timeout, ignored_tag);
  }
  m_prepared.add();
}

void io_ring::prepare_cancel(io_operation& op) {
  const signal_guarded_scope in_use(m_in_use);
  io_uring_sqe* const sqe = next_sqe(1);
  io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op), 0);
  io_uring_sqe_set_data64(sqe, ignored_tag);
}

void io_ring::cancel_everything() noexcept {
  const signal_guarded_scope in_use(m_in_use);
  m_cancel_everything_asked = true;
  m_cancelling_everything = true;
  // The wake-up read goes too; its CQE re-arms it before the next sleep, as after any wake-up.
  io_uring_sqe* const sqe = next_sqe(1);
  io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
  io_uring_sqe_set_data64(sqe, cancel_everything_tag);
}

void io_ring::forget_held() noexcept {
  // relaxed: the owner's word; readers take it as a hint.
  if (m_held_since_ns != nullptr && m_held_since_ns->load(std::memory_order_relaxed) != 0) {
    m_held_since_ns->store(0, std::memory_order_relaxed);
  }
}

void io_ring::submit() noexcept {
  forget_held();  // nothing waits from here on, whether this call sends it or an earlier one did
  if (unsubmitted() == 0) {
    return;
  }
  const signal_guarded_scope in_use(m_in_use);
  m_submit_calls.add();
  ++m_kernel_entries;
  m_last_submit_ns = now_ns();
  // EINTR, EAGAIN, EBUSY: nothing taken this time; the entries stay queued for the next call.
  // With SUBMIT_ALL (or per-entry errors posted as CQEs) no entry is lost to another error.
  io_uring_submit(&m_ring);
}

bool io_ring::submit_unless_interrupted() noexcept {
  if (m_in_use) {
    return false;
  }
  const bool any = unsubmitted() != 0;
  submit();
  return any;
}

bool io_ring::completions_pending() const noexcept {
  // The kernel's flags word, shared with it (relaxed: a hint, confirmed by reaping).
  const unsigned flags = __atomic_load_n(m_ring.sq.kflags, __ATOMIC_RELAXED);
  return io_uring_cq_ready(&m_ring) != 0 || (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
}

void io_ring::reap() noexcept {
  const signal_guarded_scope in_use(m_in_use);
  const unsigned flags = __atomic_load_n(m_ring.sq.kflags, __ATOMIC_RELAXED);
  if ((flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0) {
    ++m_kernel_entries;
    io_uring_get_events(&m_ring);  // runs deferred completion work, flushes overflowed CQEs
  }
  while (true) {
    unsigned head = 0;
    unsigned count = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&m_ring, head, cqe) {
      dispatch(*cqe);
      ++count;
    }
    if (count == 0) {
      return;
    }
    io_uring_cq_advance(&m_ring, count);
    // A completion queue that overflowed has more in the kernel now that there is room.
    if (!io_uring_cq_has_overflow(&m_ring)) {
      return;
    }
    ++m_kernel_entries;
    io_uring_get_events(&m_ring);
  }
}

void io_ring::dispatch(const io_uring_cqe& cqe) noexcept {
  const std::uint64_t tag = io_uring_cqe_get_data64(&cqe);
  // LIBURING_UDATA_TIMEOUT: the timeout liburing adds to a timed wait on kernels without EXT_ARG.
  if (tag == ignored_tag || tag == LIBURING_UDATA_TIMEOUT) {
    return;
  }
  if (tag == wake_tag) {
    m_wake_armed = false;  // a wake-up, or the read failed: either way, re-armed before the next sleep
    return;
  }
  if (tag == cancel_everything_tag) {
    if (cqe.res == -EINVAL) {
      // Before Linux 5.19 a cancellation takes no flags: nothing was cancelled. Operations go to the
      // kernel again, and shutdown waits for them, as it would with no grace.
      m_cancelling_everything = false;
      std::fputs("pulse: this kernel cannot cancel a ring's pending operations at shutdown "
                 "(IORING_ASYNC_CANCEL_ANY needs Linux 5.19); waiting for them instead\n",
                 stderr);
    }
    return;  // else the count cancelled, or ENOENT: nothing was pending
  }
  complete(*reinterpret_cast<io_operation*>(tag), cqe.res, cqe.flags);
}

void io_ring::complete(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept {
  if ((cqe_flags & IORING_CQE_F_MORE) == 0) {
    m_completed.add();
  }
  op.cancelled_at_shutdown = m_cancelling_everything && result == -ECANCELED;
  if (io_ready_node* const node = op.complete(op, result, cqe_flags)) {
    m_ready.push(*node);
  }
}

void io_ring::arm_wake_read() noexcept {
  if (m_wake_armed) {
    return;
  }
  io_uring_sqe* const sqe = next_sqe(1);
  io_uring_prep_read(sqe, m_wake_fd, &m_wake_buffer, sizeof(m_wake_buffer), 0);
  io_uring_sqe_set_data64(sqe, wake_tag);
  m_wake_armed = true;
}

void io_ring::sleep(std::int64_t timeout_ns, std::int64_t clock_ns) noexcept {
  const signal_guarded_scope in_use(m_in_use);
  arm_wake_read();
  if (!m_ready.empty()) {
    return;  // arming had to make room, and reaped completions meanwhile: nothing to wait for
  }
  forget_held();
  m_submit_calls.add();
  ++m_kernel_entries;
  m_last_submit_ns = std::max(m_last_submit_ns, clock_ns != 0 ? clock_ns : now_ns());  // arming may have submitted since
  io_uring_cqe* cqe = nullptr;
  if (timeout_ns > 0) {
    __kernel_timespec timeout{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    io_uring_submit_and_wait_timeout(&m_ring, &cqe, 1, &timeout, nullptr);
  } else {
    io_uring_submit_and_wait_timeout(&m_ring, &cqe, 1, nullptr, nullptr);
  }
  reap();
}

void io_ring::wake(int wake_fd) noexcept {
  // EAGAIN only if the count would overflow, which means wake-ups are pending anyway.
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(wake_fd, &one, sizeof(one));
}

}  // namespace pulse::detail
