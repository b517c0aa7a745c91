// echo-epoll-server --port N: the readiness-based baseline for the echo benchmark (issue #7).
// One thread, nonblocking sockets, level-triggered epoll: what a plain hand-written C++ server
// does, and what pulse's echo example is held against together with echo-uring-server.
//
// Per connection: on readable, one recv and an immediate send of what arrived. If the send is
// short (the peer is not reading), the rest waits in the connection's buffer and the connection
// listens for writable only, so a slow reader is not fed more than it takes. A recv of 0 or any
// error other than EAGAIN closes that connection alone. SIGINT/SIGTERM (a signalfd in the epoll
// set) exit 0.
#include "echo/echo_common.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <unordered_map>

namespace {

namespace echo = pulse_bench::echo;

struct connection {
  int fd;
  std::size_t pending_begin = 0;  // [pending_begin, pending_end) of buffer still to send
  std::size_t pending_end = 0;
  bool registered_for_writable = false;  // what epoll is asked for: writable, else readable
  char buffer[echo::buffer_size];
};

class server {
 public:
  server(const char* program, int port)
      : m_program(program), m_stop_signals(echo::stop_signal_fd(program)), m_listener(echo::listen_socket(program, port, true)) {
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    if (m_epoll < 0) {
      echo::die(m_program, "epoll_create1");
    }
    // The two registrations that are not connections: the listener (nullptr) and the signalfd.
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr;
    if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_listener, &event) != 0) {
      echo::die(m_program, "epoll_ctl(listener)");
    }
    event.data.ptr = &m_stop_signals;
    if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_stop_signals, &event) != 0) {
      echo::die(m_program, "epoll_ctl(signalfd)");
    }
  }

  ~server() {
    for (const auto& [fd, conn] : m_connections) {
      ::close(fd);
    }
    ::close(m_epoll);
    ::close(m_listener);
    ::close(m_stop_signals);
  }

  void run() {
    std::array<epoll_event, 256> events;
    for (;;) {
      const int n = ::epoll_wait(m_epoll, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        echo::die(m_program, "epoll_wait");
      }
      // Each fd appears at most once per batch, so closing one never leaves a later event of
      // this batch pointing at a freed connection.
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == &m_stop_signals) {
          return;  // SIGINT or SIGTERM
        }
        if (events[i].data.ptr == nullptr) {
          accept_all();
        } else {
          serve(*static_cast<connection*>(events[i].data.ptr), events[i].events);
        }
      }
    }
  }

 private:
  void accept_all() {
    for (;;) {
      const int fd = ::accept4(m_listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) {
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          // EMFILE and the like: report and serve who is already connected.
          std::fprintf(stderr, "%s: accept: %s\n", m_program, std::strerror(errno));
        }
        return;
      }
      echo::set_nodelay(fd);
      auto conn = std::make_unique<connection>();
      conn->fd = fd;
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.ptr = conn.get();
      if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) != 0) {
        std::fprintf(stderr, "%s: epoll_ctl(add): %s\n", m_program, std::strerror(errno));
        ::close(fd);
        continue;
      }
      m_connections.emplace(fd, std::move(conn));
    }
  }

  void serve(connection& conn, std::uint32_t ready) {
    if (conn.pending_begin < conn.pending_end) {
      // Waiting for writable: EPOLLOUT, or EPOLLERR/EPOLLHUP, which the send below reports.
      if (!flush(conn)) {
        close(conn);
      }
      return;
    }
    if ((ready & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
      return;
    }
    const ssize_t n = ::recv(conn.fd, conn.buffer, sizeof conn.buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return;  // level-triggered: asked again if there is still something
    }
    if (n <= 0) {
      close(conn);  // orderly shutdown (0) or a reset
      return;
    }
    conn.pending_begin = 0;
    conn.pending_end = static_cast<std::size_t>(n);
    if (!flush(conn)) {
      close(conn);
    }
  }

  // Sends what is pending; false if the connection is dead. Switches the registration between
  // readable (nothing pending) and writable (something left after a short send).
  bool flush(connection& conn) {
    while (conn.pending_begin < conn.pending_end) {
      const ssize_t n = ::send(conn.fd, conn.buffer + conn.pending_begin, conn.pending_end - conn.pending_begin, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          break;
        }
        return false;
      }
      conn.pending_begin += static_cast<std::size_t>(n);
    }
    const bool waiting = conn.pending_begin < conn.pending_end;
    // Only a change costs an epoll_ctl; the common case (the whole send went out) makes none.
    if (waiting != conn.registered_for_writable) {
      epoll_event event{};
      event.events = waiting ? EPOLLOUT : EPOLLIN;
      event.data.ptr = &conn;
      if (::epoll_ctl(m_epoll, EPOLL_CTL_MOD, conn.fd, &event) != 0) {
        return false;
      }
      conn.registered_for_writable = waiting;
    }
    return true;
  }

  void close(connection& conn) {
    const int fd = conn.fd;
    m_connections.erase(fd);  // before close: the fd number may be reused by the next accept
    ::close(fd);              // also removes it from the epoll set
  }

  const char* m_program;
  int m_stop_signals;
  int m_listener;
  int m_epoll = -1;
  std::unordered_map<int, std::unique_ptr<connection>> m_connections;
};

}  // namespace

int main(int argc, char** argv) { return echo::serve_from_command_line<server>(argc, argv); }
