// The library side of the I/O awaitables (include/pulse/io.hpp, net.hpp): submitting on the calling
// worker's ring, completing, turning results into values or errors, and the multishot accept.
#include "core/worker.hpp"
#include "io/ring.hpp"

#include <pulse/io.hpp>
#include <pulse/net.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace pulse::detail {
namespace {

[[noreturn]] void throw_no_ring(const io_operation& op, const worker* self) {
  if (self == nullptr) {
    throw std::logic_error(fmt::format("{}: awaited outside a pulse worker; I/O runs inside tasks on a runtime", op.name));
  }
  const int error = self->ring_error();
  if (error == 0) {
    throw std::system_error(ENOTSUP, std::system_category(),
                            fmt::format("{}: I/O is disabled on this runtime (runtime_options::io)", op.name));
  }
  throw std::system_error(error, std::system_category(), fmt::format("{}: this worker has no ring: {}", op.name, self->ring_failure()));
}

}  // namespace

void submit_io(io_operation& op, const io_request& request) {
  worker* const self = current_worker();
  io_ring* const ring = self != nullptr ? self->ring() : nullptr;
  if (ring == nullptr) [[unlikely]] {
    throw_no_ring(op, self);
  }
  op.ring_owner = self->index();
  ring->prepare(op, request);
}

io_ready_node* complete_once(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept {
  op.result = result;
  op.cqe_flags = cqe_flags;
  return &op;
}

io_ready_node* complete_timer(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept {
  return complete_once(op, result == -ETIME ? 0 : result, cqe_flags);
}

std::size_t io_result_or_throw(const io_operation& op) {
  if (op.result >= 0) [[likely]] {
    return static_cast<std::size_t>(op.result);
  }
  if (op.result == -ECANCELED && op.cancelled_at_shutdown) {
    throw std::system_error(ECANCELED, std::system_category(),
                            fmt::format("{}: cancelled because the runtime is shutting down "
                                        "(it waited runtime_options::io_shutdown_grace with nothing happening)",
                                        op.name));
  }
  if (op.result == -ECANCELED && op.has_timeout) {
    throw std::system_error(ETIMEDOUT, std::system_category(), fmt::format("{}: timed out", op.name));
  }
  throw std::system_error(-op.result, std::system_category(), op.name);
}

}  // namespace pulse::detail

namespace pulse::net::detail {
namespace {

using pulse::detail::io_operation;
using pulse::detail::io_ready_node;

accept_each_state& state_of(pulse::detail::io_ready_node& node) noexcept { return static_cast<accept_each_state&>(node); }

}  // namespace

io_ready_node* accept_each_completion(io_operation& op, std::int32_t result, std::uint32_t cqe_flags) noexcept {
  auto& state = static_cast<accept_each_state&>(op);
  const bool more = (cqe_flags & IORING_CQE_F_MORE) != 0;
  if (result >= 0) {
    try {
      state.accepted.push_back(result);
    } catch (...) {
      ::close(result);  // no memory to remember the connection: refuse it rather than leak it
    }
  } else if (!more) {
    state.result = result;
  }
  if (!more) {
    state.finished = true;
  }
  if (state.queued) {
    return nullptr;
  }
  state.queued = true;
  return &state;
}

std::coroutine_handle<> accept_each_drain(io_ready_node& node) noexcept {
  accept_each_state& state = state_of(node);
  state.queued = false;
  // Swapped out first: the handler may run long enough for more completions to be reaped.
  std::vector<int> delivered;
  delivered.swap(state.accepted);
  for (const int fd : delivered) {
    if (state.handler_failure) {
      ::close(fd);
      continue;
    }
    try {
      state.deliver(state.handler, fd);
    } catch (...) {
      state.handler_failure = std::current_exception();
    }
  }
  if (state.handler_failure && !state.finished && !state.cancelling) {
    // On the worker that owns the accept: the loop drains on its own thread.
    state.cancelling = true;
    if (pulse::detail::io_ring* const ring = pulse::detail::current_worker()->ring()) {
      ring->prepare_cancel(state);
    }
  }
  if (state.queued) {
    return {};  // completions came in meanwhile (a full ring was reaped): the node is queued again
  }
  return state.finished ? state.waiter : std::coroutine_handle<>{};
}

void start_accept_each(accept_each_state& state, int listener) {
  // From the start, should the same awaitable be awaited again.
  state.accepted.clear();
  state.queued = false;
  state.finished = false;
  state.cancelling = false;
  state.handler_failure = nullptr;
  state.result = 0;
  state.name = "pulse::net::accept_each";
  state.complete = &accept_each_completion;
  state.drain = &accept_each_drain;
  pulse::detail::submit_io(state, {.op = pulse::detail::io_opcode::accept_multishot, .fd = listener, .flags = SOCK_CLOEXEC});
}

void finish_accept_each(accept_each_state& state) {
  if (state.handler_failure) {
    std::rethrow_exception(state.handler_failure);
  }
  pulse::detail::io_result_or_throw(state);
}

}  // namespace pulse::net::detail
