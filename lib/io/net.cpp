// The socket helpers of include/pulse/net.hpp that are more than one operation.
#include <pulse/net.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace pulse::net {
namespace {

// An IPv4 or IPv6 socket address for a literal `address` (IPv6 with a scope, fe80::1%eth0, too);
// throws std::invalid_argument otherwise.
struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An IPv6 scope ("%eth0" or "%2" after the address): the interface's index, 0 if there is none.
unsigned scope_of(const std::string& scope) noexcept {
  unsigned index = 0;
  const char* const last = scope.data() + scope.size();
  if (const auto [end, error] = std::from_chars(scope.data(), last, index); error == std::errc{} && end == last) {
    return index;
  }
  return ::if_nametoindex(scope.c_str());
}

socket_address parse_address(const std::string& address, std::uint16_t port, const char* operation) {
  // inet_pton would stop at a NUL and take what comes before it for the whole address.
  if (address.find('\0') != std::string::npos) {
    throw std::invalid_argument(fmt::format("{}: the address has a NUL character in it", operation));
  }
  socket_address parsed;
  auto* const v4 = reinterpret_cast<sockaddr_in*>(&parsed.storage);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    parsed.length = sizeof(sockaddr_in);
    return parsed;
  }
  // An IPv6 literal, perhaps with a scope: fe80::1%eth0 (link-local addresses need one).
  const std::size_t percent = address.find('%');
  auto* const v6 = reinterpret_cast<sockaddr_in6*>(&parsed.storage);
  if (::inet_pton(AF_INET6, address.substr(0, percent).c_str(), &v6->sin6_addr) == 1) {
    if (percent != std::string::npos) {
      v6->sin6_scope_id = scope_of(address.substr(percent + 1));
      if (v6->sin6_scope_id == 0) {
        throw std::invalid_argument(fmt::format("{}: '{}' names no network interface after its '%'", operation, address));
      }
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    parsed.length = sizeof(sockaddr_in6);
    return parsed;
  }
  throw std::invalid_argument(fmt::format("{}: '{}' is not an IPv4 or IPv6 address", operation, address));
}

[[noreturn]] void throw_errno(const char* operation, const char* step) {
  throw std::system_error(errno, std::system_category(), fmt::format("{}: {}", operation, step));
}

}  // namespace

task<void> send_all(int fd, std::span<const std::byte> buffer) {
  while (!buffer.empty()) {
    const std::size_t sent = co_await net::send(fd, buffer);
    buffer = buffer.subspan(sent);
  }
}

int listen_tcp(std::uint16_t port, const std::string& address, int backlog) {
  constexpr const char* operation = "pulse::net::listen_tcp";
  const socket_address where = parse_address(address, port, operation);
  const int fd = ::socket(where.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(operation, "socket");
  }
  const int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || ::bind(fd, where.get(), where.length) != 0 ||
      ::listen(fd, backlog) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::system_error(error, std::system_category(),
                            fmt::format("{}: cannot listen on {} port {}", operation, address, port));
  }
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    throw_errno("pulse::net::local_port", "getsockname");
  }
  if (storage.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  if (storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  throw std::invalid_argument("pulse::net::local_port: not an IPv4 or IPv6 socket");
}

task<int> connect_tcp(std::string address, std::uint16_t port) {
  const socket_address where = parse_address(address, port, "pulse::net::connect_tcp");
  const int fd = co_await net::socket(where.family(), SOCK_STREAM);
  try {
    co_await net::connect(fd, where.get(), where.length);
  } catch (...) {
    ::close(fd);
    throw;
  }
  // Request-response traffic: no Nagle delay on small writes.
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  co_return fd;
}

}  // namespace pulse::net
