// Sockets on the rings (include/pulse/net.hpp).
// Covers: socket, connect, accept (with the peer's address), send, recv, shutdown and send_all on
// loopback, with the bytes checked; connect_tcp and listen_tcp (port 0, local_port, IPv6 scopes,
// bad addresses); the error paths: ECONNREFUSED, EBADF, a peer reset (ECONNRESET on recv, EPIPE on
// send without a SIGPIPE), and a recv timeout; 10k sequential accepts; accept_each hands every
// connection to its handler and ends with EINVAL when the listener is shut down, or with what the
// handler threw; an echo round trip with the server and clients on different workers; send and
// recv with a 3 GiB buffer move part of it (the kernel's per-call limit), not EINVAL.
#include <pulse/pulse.hpp>

#include "expect_system_error.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <numeric>
#include <stdexcept>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <system_error>
#include <tuple>
#include <unistd.h>
#include <vector>

namespace {

using pulse_test::expect_system_error;

using namespace std::chrono_literals;

std::span<const std::byte> bytes_of(const std::string& text) { return std::as_bytes(std::span(text)); }

// A listener on a port the kernel picks, closed with the object.
struct listener {
  int fd = pulse::net::listen_tcp(0, "127.0.0.1");
  std::uint16_t port = pulse::net::local_port(fd);
  ~listener() { ::close(fd); }
};

pulse::task<int> accept_one(int listener_fd) { co_return co_await pulse::net::accept(listener_fd); }

// Both ends of a new loopback connection to `server`: the client's descriptor, then the accepted one.
pulse::task<std::tuple<int, int>> connected_pair(const listener& server) {
  co_return co_await pulse::fork(pulse::net::connect_tcp("127.0.0.1", server.port), accept_one(server.fd));
}

// Receives exactly `size` bytes (or fewer if the peer shuts down first).
pulse::task<std::string> recv_exactly(int fd, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const std::size_t n = co_await pulse::net::recv(fd, std::as_writable_bytes(std::span(out)).subspan(got));
    if (n == 0) {
      break;
    }
    got += n;
  }
  out.resize(got);
  co_return out;
}

pulse::task<std::size_t> send_once(int fd, std::span<const std::byte> buffer) {
  co_return co_await pulse::net::send(fd, buffer, MSG_DONTWAIT | MSG_NOSIGNAL);
}

pulse::task<std::size_t> recv_once(int fd, std::span<std::byte> buffer) { co_return co_await pulse::net::recv(fd, buffer); }

}  // namespace

TEST_CASE("socket, connect, accept, send, recv and shutdown on loopback", "[socket]") {
  pulse::runtime rt({.workers = 2});
  listener server;
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    auto client_side = [&]() -> pulse::task<std::string> {
      const int fd = co_await pulse::net::socket(AF_INET, SOCK_STREAM);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_port = htons(server.port);
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      co_await pulse::net::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
      const std::size_t sent = co_await pulse::net::send(fd, bytes_of("hello, server"));
      co_await pulse::net::shutdown(fd, SHUT_WR);
      std::string reply = co_await recv_exactly(fd, 64);  // until the server closes
      co_await pulse::io::close(fd);
      co_return std::to_string(sent) + " sent, got " + reply;
    };
    auto server_side = [&]() -> pulse::task<std::string> {
      sockaddr_in peer{};
      socklen_t peer_length = sizeof(peer);
      const int fd = co_await pulse::net::accept(server.fd, reinterpret_cast<sockaddr*>(&peer), &peer_length);
      const bool peer_known = peer_length == sizeof(peer) && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
      std::string got = co_await recv_exactly(fd, 64);  // until the client's SHUT_WR
      co_await pulse::net::send_all(fd, bytes_of("hello, client"));
      co_await pulse::io::close(fd);
      co_return (peer_known ? "from loopback: " : "from elsewhere: ") + got;
    };
    // Checked here, on one thread: the two sides may run on two workers at once.
    auto [from_server, from_client] = co_await pulse::fork(client_side(), server_side());
    CHECK(from_server == "13 sent, got hello, client");
    CHECK(from_client == "from loopback: hello, server");
  }());
}

TEST_CASE("connect_tcp, listen_tcp and local_port", "[socket]") {
  pulse::runtime rt({.workers = 1});
  listener server;
  CHECK(server.port != 0);
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    auto [client, accepted] = co_await connected_pair(server);
    CHECK(client >= 0);
    CHECK(accepted >= 0);
    co_await pulse::net::send_all(client, bytes_of("ping"));
    const std::string received = co_await recv_exactly(accepted, 4);
    CHECK(received == "ping");
    ::close(client);
    ::close(accepted);
  }());
  CHECK_THROWS_AS(pulse::net::listen_tcp(0, "not an address"), std::invalid_argument);
  CHECK_THROWS_WITH(pulse::net::listen_tcp(0, "not an address"), Catch::Contains("not an IPv4 or IPv6 address"));
  // The port is taken (no SO_REUSEPORT): EADDRINUSE, naming the call.
  expect_system_error([&] { pulse::net::listen_tcp(server.port, "127.0.0.1"); }, EADDRINUSE, "pulse::net::listen_tcp");
  const int v6 = pulse::net::listen_tcp(0, "::1");
  CHECK(pulse::net::local_port(v6) != 0);
  ::close(v6);
  // A scope, by name or index; an unknown interface, a scope on IPv4, and an embedded NUL (which
  // used to cut the address short, silently) are refused.
  const int scoped = pulse::net::listen_tcp(0, "::1%lo");
  ::close(scoped);
  const int by_index = pulse::net::listen_tcp(0, "::1%" + std::to_string(::if_nametoindex("lo")));
  ::close(by_index);
  CHECK_THROWS_WITH(pulse::net::listen_tcp(0, "::1%nosuchif9"), Catch::Contains("names no network interface"));
  CHECK_THROWS_WITH(pulse::net::listen_tcp(0, "127.0.0.1%lo"), Catch::Contains("not an IPv4 or IPv6 address"));
  CHECK_THROWS_WITH(pulse::net::listen_tcp(0, std::string("127.0.0.1\0junk", 14)), Catch::Contains("NUL"));
}

TEST_CASE("send and recv with buffers over 2 GiB move part of them, as send(2) and recv(2) do", "[socket]") {
  // 3 GiB of address space, never touched beyond a page: zero pages when read.
  constexpr std::size_t huge = std::size_t{3} << 30;
  void* const mapping = ::mmap(nullptr, huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  REQUIRE(mapping != MAP_FAILED);
  const std::span<std::byte> buffer(static_cast<std::byte*>(mapping), huge);
  int ends[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  pulse::runtime rt({.workers = 1});
  // Before: EINVAL, as io_uring takes no more than MAX_RW_COUNT bytes in one send or recv.
  const std::size_t sent = pulse::sync_wait(rt, send_once(ends[0], buffer));
  CHECK(sent > 0);
  CHECK(sent < huge);
  const std::size_t received = pulse::sync_wait(rt, recv_once(ends[1], buffer));  // what is waiting
  CHECK(received > 0);
  CHECK(received <= sent);
  ::close(ends[0]);
  ::close(ends[1]);
  ::munmap(mapping, huge);
}

TEST_CASE("socket errors: ECONNREFUSED, EBADF, a peer reset, EPIPE and a recv timeout", "[socket][errors]") {
  pulse::runtime rt({.workers = 1});
  // A port nobody listens on: bind one, note it, close it.
  std::uint16_t closed_port = 0;
  {
    listener gone;
    closed_port = gone.port;
  }
  expect_system_error([&] { pulse::sync_wait(rt, pulse::net::connect_tcp("127.0.0.1", closed_port)); }, ECONNREFUSED,
                     "pulse::net::connect");
  std::array<std::byte, 16> buffer{};
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::net::recv(-1, buffer); }()); },
                     EBADF, "pulse::net::recv");
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::net::send(-1, buffer); }()); },
                     EBADF, "pulse::net::send");
  expect_system_error([&] { pulse::sync_wait(rt, [&]() -> pulse::task<void> { co_await pulse::net::accept(-1); }()); }, EBADF,
                     "pulse::net::accept");

  listener server;
  // A peer that resets (SO_LINGER 0, then close) while we wait in recv: ECONNRESET.
  expect_system_error(
      [&] {
        pulse::sync_wait(rt, [&]() -> pulse::task<void> {
          auto [client, accepted] = co_await connected_pair(server);
          const linger abort_on_close{1, 0};
          ::setsockopt(accepted, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
          ::close(accepted);
          try {
            co_await pulse::net::recv(client, buffer);
          } catch (...) {
            ::close(client);
            throw;
          }
          ::close(client);
        }());
      },
      ECONNRESET, "pulse::net::recv");
  // Sending to a peer that is gone: EPIPE (or ECONNRESET), and no SIGPIPE kills the test.
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    auto [client, accepted] = co_await connected_pair(server);
    ::close(accepted);
    int error = 0;
    const std::vector<std::byte> chunk(1 << 16);
    for (int i = 0; i < 100 && error == 0; ++i) {
      try {
        co_await pulse::net::send(client, chunk);
      } catch (const std::system_error& e) {
        error = e.code().value();
      }
    }
    CHECK((error == EPIPE || error == ECONNRESET));
    ::close(client);
  }());
  // A recv with nothing coming, given a timeout.
  expect_system_error(
      [&] {
        pulse::sync_wait(rt, [&]() -> pulse::task<void> {
          auto [client, accepted] = co_await connected_pair(server);
          struct closer {
            int a, b;
            ~closer() {
              ::close(a);
              ::close(b);
            }
          } close_both{client, accepted};
          co_await pulse::net::recv(client, buffer).with_timeout(20ms);
        }());
      },
      ETIMEDOUT, "pulse::net::recv");
}

TEST_CASE("10k sequential accepts", "[socket][accept]") {
  pulse::runtime rt({.workers = 2});
  listener server;
  constexpr int connections = 10'000;
  const int accepted = pulse::sync_wait(rt, [&]() -> pulse::task<int> {
    int count = 0;
    for (int i = 0; i < connections; ++i) {
      auto [client, peer] = co_await connected_pair(server);
      count += peer >= 0 ? 1 : 0;
      co_await pulse::io::close(client);
      co_await pulse::io::close(peer);
    }
    co_return count;
  }());
  CHECK(accepted == connections);
}

TEST_CASE("accept_each hands every connection to its handler, and ends when the listener shuts down", "[socket][accept]") {
  pulse::runtime rt({.workers = 2});
  listener server;
  constexpr int connections = 200;
  std::vector<int> handed;  // only the worker that owns the accept touches it
  std::atomic<int> handed_count{0};
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    auto acceptor = [&]() -> pulse::task<int> {
      try {
        co_await pulse::net::accept_each(server.fd, [&](int fd) {
          handed.push_back(fd);
          handed_count.fetch_add(1, std::memory_order_relaxed);
        });
      } catch (const std::system_error& e) {
        co_return e.code().value();
      }
      co_return 0;
    };
    auto clients = [&]() -> pulse::task<void> {
      std::vector<int> open;
      for (int i = 0; i < connections; ++i) {
        open.push_back(co_await pulse::net::connect_tcp("127.0.0.1", server.port));
      }
      // Every connection has been handed over before the listener goes.
      const auto give_up = std::chrono::steady_clock::now() + 20s;
      while (handed_count.load(std::memory_order_relaxed) < connections && std::chrono::steady_clock::now() < give_up) {
        co_await pulse::sleep_for(1ms);
      }
      ::shutdown(server.fd, SHUT_RDWR);
      for (const int fd : open) {
        ::close(fd);
      }
    };
    auto [ended_with, unused] = co_await pulse::fork(acceptor(), clients());
    CHECK(ended_with == EINVAL);
  }());
  CHECK(handed.size() == connections);
  for (const int fd : handed) {
    ::close(fd);
  }
}

TEST_CASE("accept_each ends with what its handler threw, closing the rest", "[socket][accept][errors]") {
  pulse::runtime rt({.workers = 1});
  listener server;
  int handled = 0;
  pulse::sync_wait(rt, [&]() -> pulse::task<void> {
    auto acceptor = [&]() -> pulse::task<std::string> {
      try {
        co_await pulse::net::accept_each(server.fd, [&](int fd) {
          ::close(fd);
          if (++handled == 3) {
            throw std::runtime_error("third connection refused");
          }
        });
      } catch (const std::runtime_error& e) {
        co_return e.what();
      }
      co_return "";
    };
    auto clients = [&]() -> pulse::task<void> {
      for (int i = 0; i < 5; ++i) {
        const int fd = co_await pulse::net::connect_tcp("127.0.0.1", server.port);
        co_await pulse::sleep_for(2ms);
        ::close(fd);
      }
    };
    auto [message, unused] = co_await pulse::fork(acceptor(), clients());
    CHECK(message == "third connection refused");
  }());
  CHECK(handled == 3);
}

TEST_CASE("an echo server and its clients on two workers", "[socket]") {
  pulse::runtime rt({.workers = 2});
  listener server;
  constexpr int clients = 16;
  constexpr int messages = 200;
  auto session = [](int fd) -> pulse::task<void> {
    std::array<std::byte, 256> buffer{};
    while (true) {
      const std::size_t n = co_await pulse::net::recv(fd, buffer);
      if (n == 0) {
        break;
      }
      co_await pulse::net::send_all(fd, std::span(buffer).first(n));
    }
    co_await pulse::io::close(fd);
  };
  auto client = [&](int id) -> pulse::task<int> {
    const int fd = co_await pulse::net::connect_tcp("127.0.0.1", server.port);
    int echoed = 0;
    for (int i = 0; i < messages; ++i) {
      const std::string message = "client " + std::to_string(id) + " message " + std::to_string(i);
      co_await pulse::net::send_all(fd, bytes_of(message));
      echoed += co_await recv_exactly(fd, message.size()) == message ? 1 : 0;
    }
    co_await pulse::io::close(fd);
    co_return echoed;
  };
  const int total = pulse::sync_wait(rt, [&]() -> pulse::task<int> {
    auto serve = [&]() -> pulse::task<void> {
      std::vector<pulse::task<void>> sessions;
      for (int i = 0; i < clients; ++i) {
        sessions.push_back(session(co_await pulse::net::accept(server.fd)));
      }
      co_await pulse::fork_all(std::move(sessions));
    };
    auto all_clients = [&]() -> pulse::task<int> {
      std::vector<pulse::task<int>> each;
      for (int i = 0; i < clients; ++i) {
        each.push_back(client(i));
      }
      const std::vector<int> counts = co_await pulse::fork_all(std::move(each));
      co_return std::accumulate(counts.begin(), counts.end(), 0);
    };
    auto [unused, echoed] = co_await pulse::fork(serve(), all_clients());
    co_return echoed;
  }());
  CHECK(total == clients * messages);
}
