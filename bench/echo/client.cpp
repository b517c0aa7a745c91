// echo-client: the load generator of the echo benchmark (issue #7), the same for every server so
// that only the server differs between runs.
//
//   echo-client --port N --connections C --seconds S [--message-size 64] [--warmup-ms 500]
//
// Opens C connections to 127.0.0.1:N. Each runs in lock-step: send one message, receive it back
// whole, check every byte, send the next; one message in flight per connection, so req/s at one
// connection is the round-trip latency and at many is how well the server batches. One thread,
// level-triggered epoll. Each message is different (derived from the connection and a sequence
// number), so a server that mixes up connections or echoes stale bytes is caught. Requests that
// complete during the warm-up are not counted; the rate is over the measured window's actual
// length. Prints one line,
//   requests_per_second=53210.4 connections=1 message_size=64 seconds=5.000 requests=266052
// and exits 0; any error, mismatch, closed connection or 5 s without progress exits 1.
#include "echo/echo_common.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace echo = pulse_bench::echo;
using clock_type = std::chrono::steady_clock;

[[noreturn]] void fail(const char* program, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program, what.c_str());
  std::exit(1);
}

constexpr std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct connection {
  int fd = -1;
  std::uint64_t id = 0;
  std::uint64_t sequence = 0;  // of the message in flight
  std::size_t sent = 0;
  std::size_t received = 0;
  bool registered_for_writable = false;
  std::vector<unsigned char> out;
  std::vector<unsigned char> in;
};

class client {
 public:
  client(const char* program, int port, long connections, std::size_t message_size) : m_program(program), m_connections(static_cast<std::size_t>(connections)) {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
      fail(m_program, std::string("epoll_create1: ") + std::strerror(errno));
    }
    for (std::size_t i = 0; i < m_connections.size(); ++i) {
      connection& conn = m_connections[i];
      conn.id = i;
      conn.fd = echo::connect_loopback(port);
      if (conn.fd < 0) {
        fail(m_program, "connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
      }
      if (::fcntl(conn.fd, F_SETFL, ::fcntl(conn.fd, F_GETFL) | O_NONBLOCK) != 0) {
        fail(m_program, std::string("fcntl(O_NONBLOCK): ") + std::strerror(errno));
      }
      conn.out.resize(message_size);
      conn.in.resize(message_size);
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.ptr = &conn;  // m_connections never reallocates after this loop's sizing
      if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, conn.fd, &event) != 0) {
        fail(m_program, std::string("epoll_ctl(add): ") + std::strerror(errno));
      }
    }
  }

  ~client() {
    for (const connection& conn : m_connections) {
      ::close(conn.fd);
    }
    ::close(m_epoll);
  }

  // Runs the warm-up, then the measured window; returns requests completed in it and its length.
  std::pair<std::uint64_t, double> run(std::chrono::milliseconds warmup, std::chrono::milliseconds measured) {
    for (connection& conn : m_connections) {
      start_message(conn);
    }
    const auto start = clock_type::now();
    const auto warm_end = start + warmup;
    auto window_start = start;
    bool measuring = false;
    auto last_progress = start;
    std::uint64_t last_completed = 0;
    std::array<epoll_event, 256> events;
    for (;;) {
      const int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) {
        fail(m_program, std::string("epoll_wait: ") + std::strerror(errno));
      }
      for (int i = 0; i < n; ++i) {
        serve(*static_cast<connection*>(events[i].data.ptr), events[i].events);
      }
      const auto now = clock_type::now();
      if (!measuring && now >= warm_end) {
        measuring = true;
        window_start = now;
        m_completed = 0;
        last_completed = 0;
      }
      if (measuring && now >= window_start + measured) {
        return {m_completed, std::chrono::duration<double>(now - window_start).count()};
      }
      if (m_completed != last_completed) {
        last_completed = m_completed;
        last_progress = now;
      } else if (now - last_progress > std::chrono::seconds(5)) {
        fail(m_program, "no reply for 5 s: is the server stuck?");
      }
    }
  }

 private:
  void start_message(connection& conn) {
    // A 64-bit word of pattern per 8 bytes, unique to (connection, sequence, position).
    const std::uint64_t key = mix((conn.id << 40) ^ conn.sequence);
    for (std::size_t i = 0; i < conn.out.size(); i += sizeof(std::uint64_t)) {
      const std::uint64_t word = mix(key + i);
      std::memcpy(conn.out.data() + i, &word, std::min(sizeof word, conn.out.size() - i));
    }
    conn.sent = conn.received = 0;
    send_some(conn);
  }

  void send_some(connection& conn) {
    while (conn.sent < conn.out.size()) {
      const ssize_t n = ::send(conn.fd, conn.out.data() + conn.sent, conn.out.size() - conn.sent, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          break;
        }
        fail(m_program, "send on connection " + std::to_string(conn.id) + ": " + std::strerror(errno));
      }
      conn.sent += static_cast<std::size_t>(n);
    }
    // Large messages only: wait for writable while part of the message is unsent, and keep
    // reading meanwhile so that the server, echoing as it goes, never blocks on us.
    const bool waiting = conn.sent < conn.out.size();
    if (waiting != conn.registered_for_writable) {
      epoll_event event{};
      event.events = EPOLLIN | (waiting ? EPOLLOUT : 0u);
      event.data.ptr = &conn;
      if (::epoll_ctl(m_epoll, EPOLL_CTL_MOD, conn.fd, &event) != 0) {
        fail(m_program, std::string("epoll_ctl(mod): ") + std::strerror(errno));
      }
      conn.registered_for_writable = waiting;
    }
  }

  void serve(connection& conn, std::uint32_t ready) {
    if ((ready & EPOLLOUT) != 0) {
      send_some(conn);
    }
    if ((ready & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
      return;
    }
    // Never more than the rest of this message: extra bytes would be the server's error, and
    // they are caught as a mismatch of the next message.
    const ssize_t n = ::recv(conn.fd, conn.in.data() + conn.received, conn.in.size() - conn.received, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return;
    }
    if (n == 0) {
      fail(m_program, "server closed connection " + std::to_string(conn.id));
    }
    if (n < 0) {
      fail(m_program, "recv on connection " + std::to_string(conn.id) + ": " + std::strerror(errno));
    }
    conn.received += static_cast<std::size_t>(n);
    if (conn.received < conn.in.size()) {
      return;
    }
    if (conn.sent < conn.out.size() || std::memcmp(conn.in.data(), conn.out.data(), conn.in.size()) != 0) {
      fail(m_program, "connection " + std::to_string(conn.id) + ": echo of message " + std::to_string(conn.sequence) +
                          " differs from what was sent");
    }
    ++m_completed;
    ++conn.sequence;
    start_message(conn);
  }

  const char* m_program;
  int m_epoll = -1;
  std::vector<connection> m_connections;
  std::uint64_t m_completed = 0;
};

}  // namespace

int main(int argc, char** argv) {
  echo::arguments args(argc, argv, "--port N --connections C --seconds S [--message-size 64] [--warmup-ms 500]");
  const int port = static_cast<int>(args.get("port", 1, 65535));
  const long connections = args.get("connections", 1, 10000);
  const long seconds = args.get("seconds", 1, 3600);
  const long message_size = args.get("message-size", 1, 1 << 20, 64);
  const long warmup_ms = args.get("warmup-ms", 0, 60000, 500);
  args.check_all_used();
  ::signal(SIGPIPE, SIG_IGN);

  client c(args.program(), port, connections, static_cast<std::size_t>(message_size));
  const auto [requests, elapsed] = c.run(std::chrono::milliseconds(warmup_ms), std::chrono::seconds(seconds));
  std::printf("requests_per_second=%.1f connections=%ld message_size=%ld seconds=%.3f requests=%llu\n",
              static_cast<double>(requests) / elapsed, connections, message_size, elapsed,
              static_cast<unsigned long long>(requests));
  return 0;
}
