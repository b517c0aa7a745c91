// Sockets on the workers' io_uring rings: the same model as pulse/io.hpp (read that first).
//
//   int listener = pulse::net::listen_tcp(8080);
//   int client = co_await pulse::net::accept(listener);
//   std::size_t n = co_await pulse::net::recv(client, buffer);
//   co_await pulse::net::send_all(client, std::span(buffer).first(n));
//
// Or, for a server, one multishot accept that hands every connection to a callable:
//
//   co_await pulse::net::accept_each(listener, [](int client) { pulse::spawn(session(client)); });
//
// Errors are std::system_error with the errno (ECONNREFUSED, ECONNRESET, EMFILE, ...) and a message
// naming the operation. send uses MSG_NOSIGNAL unless told otherwise: a peer that went away is
// EPIPE, not a SIGPIPE that kills the process.
#pragma once

#include <pulse/io.hpp>
#include <pulse/task.hpp>

#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <sys/socket.h>
#include <type_traits>
#include <utility>
#include <vector>

namespace pulse::net {

// socket(2) on the ring: the new descriptor (SOCK_CLOEXEC is added to `type`).
inline detail::io_descriptor socket(int domain, int type, int protocol = 0) noexcept {
  return {"pulse::net::socket", {.op = detail::io_opcode::socket,
                                 .length = static_cast<std::uint64_t>(type | SOCK_CLOEXEC),
                                 .extra = static_cast<std::uint32_t>(protocol),
                                 .domain = domain}};
}

// accept4(2) with SOCK_CLOEXEC: the connected descriptor; fills `peer` if given.
inline detail::io_descriptor accept(int listener, sockaddr* peer = nullptr, socklen_t* peer_length = nullptr) noexcept {
  return {"pulse::net::accept",
          {.op = detail::io_opcode::accept, .fd = listener, .address = peer, .flags = SOCK_CLOEXEC, .out = peer_length}};
}

inline detail::io_void connect(int fd, const sockaddr* address, socklen_t length) noexcept {
  return {"pulse::net::connect", {.op = detail::io_opcode::connect, .fd = fd, .address = address, .length = length}};
}

// Receives up to buffer.size() bytes: the count, 0 when the peer has shut down its side.
inline detail::io_count recv(int fd, std::span<std::byte> buffer, int flags = 0) noexcept {
  return {"pulse::net::recv", {.op = detail::io_opcode::recv,
                               .fd = fd,
                               .address = buffer.data(),
                               .length = buffer.size(),
                               .flags = static_cast<std::uint32_t>(flags)}};
}

// Sends up to buffer.size() bytes: the count sent (all of it unless the socket is non-blocking or
// interrupted; send_all loops).
inline detail::io_count send(int fd, std::span<const std::byte> buffer, int flags = MSG_NOSIGNAL) noexcept {
  return {"pulse::net::send", {.op = detail::io_opcode::send,
                               .fd = fd,
                               .address = buffer.data(),
                               .length = buffer.size(),
                               .flags = static_cast<std::uint32_t>(flags)}};
}

inline detail::io_void shutdown(int fd, int how) noexcept {
  return {"pulse::net::shutdown", {.op = detail::io_opcode::shutdown, .fd = fd, .flags = static_cast<std::uint32_t>(how)}};
}

// Sends the whole buffer, looping over partial sends.
task<void> send_all(int fd, std::span<const std::byte> buffer);

// A TCP socket bound to `address`:`port` (port 0: one the kernel picks; local_port says which) and
// listening; SO_REUSEADDR is set. The address is an IPv4 or IPv6 literal; an IPv6 one may name its
// scope (fe80::1%eth0, or %2 by index), as link-local addresses need. Synchronous: servers call it
// once at start. Throws std::system_error naming the step that failed, std::invalid_argument for a
// bad address (or an unknown interface after '%').
int listen_tcp(std::uint16_t port, const std::string& address = "0.0.0.0", int backlog = SOMAXCONN);

// The port a socket is bound to.
std::uint16_t local_port(int fd);

// A TCP connection to `address`:`port` (IPv4 dotted or IPv6 literal, with a scope as for
// listen_tcp), made on the ring: the connected descriptor. The socket is closed if connecting fails.
task<int> connect_tcp(std::string address, std::uint16_t port);

namespace detail {

// The state of one accept_each: the multishot accept's operation, the connections its completions
// delivered that the handler has not seen yet, and how it ended. Touched only by the worker whose
// ring holds the accept (the awaiting task stays suspended until the end).
struct accept_each_state : pulse::detail::io_operation {
  std::vector<int> accepted;
  bool queued = false;     // this node is on the worker's ready list
  bool finished = false;   // the multishot ended: `result` says how
  bool cancelling = false;
  std::exception_ptr handler_failure;
  void (*deliver)(void* handler, int fd) = nullptr;
  void* handler = nullptr;
};

pulse::detail::io_ready_node* accept_each_completion(pulse::detail::io_operation& op, std::int32_t result,
                                                     std::uint32_t cqe_flags) noexcept;
// Delivers what the multishot accepted to the handler, and returns the waiter if it has ended.
std::coroutine_handle<> accept_each_drain(pulse::detail::io_ready_node& node) noexcept;
void start_accept_each(accept_each_state& state, int listener);
void finish_accept_each(accept_each_state& state);

template <typename Handler>
class accept_each_awaitable {
public:
  accept_each_awaitable(int listener, Handler handler) : m_listener(listener), m_handler(std::move(handler)) {}
  accept_each_awaitable(accept_each_awaitable&&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> waiter) {
    m_state.waiter = waiter;
    m_state.handler = &m_handler;
    m_state.deliver = [](void* handler, int fd) { (*static_cast<Handler*>(handler))(fd); };
    start_accept_each(m_state, m_listener);
  }
  void await_resume() { finish_accept_each(m_state); }

private:
  int m_listener;
  Handler m_handler;
  accept_each_state m_state;
};

}  // namespace detail

// One multishot accept on `listener` (IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT): every
// connection it accepts is handed to `handler(int fd)`, which owns the descriptor from then on,
// and which runs on the worker that owns the accept, between tasks: keep it short (spawn a task
// per connection). The await completes when the accept ends: it throws std::system_error with
// the errno that ended it (EMFILE when out of descriptors, EINVAL after shutdown(listener)), or
// what the handler threw (connections accepted after that are closed). It may also complete without
// an error if the kernel ended the multishot for its own reasons: await it again to go on.
// Out of descriptors, note that accepting again fails at once for as long as the process is full,
// even with nobody calling (the kernel takes the descriptor before it looks at the backlog), while
// new callers wait in the backlog: examples/echo.cpp shows one way to shed them.
template <typename Handler>
  requires std::is_invocable_v<Handler&, int>
detail::accept_each_awaitable<Handler> accept_each(int listener, Handler handler) {
  return {listener, std::move(handler)};
}

}  // namespace pulse::net
