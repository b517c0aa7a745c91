// echo-uring-server --port N: the completion-based baseline for the echo benchmark (issue #7).
// Raw liburing, one thread, one ring: what pulse's echo example should match when it runs on one
// worker, since a pulse worker drives the same kind of ring with coroutines on top.
//
// The ring is set up as a pulse worker's would be (worker_like_ring.hpp: SINGLE_ISSUER|
// DEFER_TASKRUN, plain flags on an older kernel, no SQPOLL). A multishot accept stays armed
// on the listener (re-armed whenever a CQE arrives without IORING_CQE_F_MORE; single-shot accepts
// if the kernel refuses multishot). Each connection has exactly one operation in flight, a recv
// into its buffer or a send of what that recv got (resent from where it stopped if short), so a
// CQE's user_data is simply the connection (0 is the accept) and nothing needs cancelling when a
// connection closes. A recv of 0 or an error closes that connection alone. SIGINT/SIGTERM (a
// poll on a signalfd) cancel everything, wait for the cancellations (see drain) and exit 0.
#include "echo/echo_common.hpp"
#include "worker_like_ring.hpp"

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <unordered_map>

namespace {

namespace echo = pulse_bench::echo;

constexpr unsigned ring_entries = 256;
// user_data: 0 is the accept, these two are the signalfd poll and the shutdown cancel, anything
// else a connection (heap pointers, never 1 or 2).
constexpr std::uint64_t stop_tag = 1;
constexpr std::uint64_t cancel_tag = 2;

struct connection {
  int fd;
  std::size_t sent = 0;    // of the bytes the last recv got, how many are sent
  std::size_t length = 0;  // 0 while the recv is in flight
  char buffer[echo::buffer_size];
};

class server {
 public:
  server(const char* program, int port)
      : m_program(program), m_stop_signals(echo::stop_signal_fd(program)), m_listener(echo::listen_socket(program, port, false)) {
    unsigned flags = 0;
    if (const int rc = pulse_bench::init_worker_like_ring(m_ring, ring_entries, flags); rc < 0) {
      // EPERM/ENOSYS where io_uring is disabled (seccomp, kernel.io_uring_disabled): say so.
      echo::die(m_program, "io_uring_queue_init", -rc);
    }
    arm_accept();
    io_uring_sqe* s = sqe();
    io_uring_prep_poll_add(s, m_stop_signals, POLLIN);
    io_uring_sqe_set_data64(s, stop_tag);
  }

  ~server() {
    drain();
    io_uring_queue_exit(&m_ring);
    for (const auto& [fd, conn] : m_connections) {
      ::close(fd);
    }
    ::close(m_listener);
    ::close(m_stop_signals);
  }

  void run() {
    while (!m_stop) {
      if (const int rc = io_uring_submit_and_wait(&m_ring, 1); rc < 0 && rc != -EINTR) {
        echo::die(m_program, "io_uring_submit_and_wait", -rc);
      }
      io_uring_cqe* cqe;
      unsigned head;
      unsigned seen = 0;
      io_uring_for_each_cqe(&m_ring, head, cqe) {
        ++seen;
        if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
          --m_in_flight;
        }
        complete(io_uring_cqe_get_data64(cqe), cqe->res, cqe->flags);
      }
      io_uring_cq_advance(&m_ring, seen);
    }
  }

 private:
  // The SQ may fill while a long batch of CQEs is handled: then submit what is queued and retry.
  io_uring_sqe* sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&m_ring);
    if (sqe == nullptr) {
      if (const int rc = io_uring_submit(&m_ring); rc < 0) {
        echo::die(m_program, "io_uring_submit", -rc);
      }
      sqe = io_uring_get_sqe(&m_ring);
      if (sqe == nullptr) {
        echo::die(m_program, "io_uring_get_sqe", EBUSY);
      }
    }
    ++m_in_flight;  // every SQE here ends with exactly one CQE without IORING_CQE_F_MORE
    return sqe;
  }

  // Cancels every operation and waits for the last CQE of each. Without this, the ring's
  // teardown is asynchronous and keeps the listener alive a moment after exit, long enough for a
  // server started at once on the same port to fail to bind (seen here, SO_REUSEADDR or not). It
  // also guarantees no operation outlives the buffer it points into. The signals stay blocked
  // (in the signalfd): a second SIGTERM cannot cut this short, and it does not wait on the network.
  void drain() {
    io_uring_sqe* s = sqe();
    io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
    io_uring_sqe_set_data64(s, cancel_tag);
    while (m_in_flight > 0) {
      if (const int rc = io_uring_submit_and_wait(&m_ring, 1); rc < 0 && rc != -EINTR) {
        std::fprintf(stderr, "%s: draining the ring: %s\n", m_program, std::strerror(-rc));
        return;
      }
      unsigned head;
      unsigned seen = 0;
      io_uring_cqe* cqe;
      io_uring_for_each_cqe(&m_ring, head, cqe) {
        ++seen;
        if ((cqe->flags & IORING_CQE_F_MORE) == 0) {
          --m_in_flight;
        }
        if (io_uring_cqe_get_data64(cqe) == 0 && cqe->res >= 0) {
          ::close(cqe->res);  // accepted just before the cancel
        }
      }
      io_uring_cq_advance(&m_ring, seen);
    }
  }

  void arm_accept() {
    io_uring_sqe* s = sqe();
    if (m_multishot_accept) {
      io_uring_prep_multishot_accept(s, m_listener, nullptr, nullptr, SOCK_CLOEXEC);
    } else {
      io_uring_prep_accept(s, m_listener, nullptr, nullptr, SOCK_CLOEXEC);
    }
    io_uring_sqe_set_data64(s, 0);
  }

  void start_recv(connection& conn) {
    conn.sent = conn.length = 0;
    io_uring_sqe* s = sqe();
    io_uring_prep_recv(s, conn.fd, conn.buffer, sizeof conn.buffer, 0);
    io_uring_sqe_set_data(s, &conn);
  }

  void start_send(connection& conn) {
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, conn.fd, conn.buffer + conn.sent, conn.length - conn.sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data(s, &conn);
  }

  void complete(std::uint64_t user_data, int res, unsigned flags) {
    if (user_data == 0) {
      accepted(res, flags);
      return;
    }
    if (user_data == stop_tag) {
      m_stop = true;  // SIGINT or SIGTERM: the signalfd is readable
      return;
    }
    connection& conn = *reinterpret_cast<connection*>(static_cast<std::uintptr_t>(user_data));
    if (res == -EINTR || res == -EAGAIN) {
      conn.length == 0 ? start_recv(conn) : start_send(conn);  // nothing happened: ask again
    } else if (res <= 0) {
      close(conn);  // recv of 0: the peer closed; negative: reset, EPIPE and the like
    } else if (conn.length == 0) {
      conn.length = static_cast<std::size_t>(res);
      start_send(conn);
    } else {
      conn.sent += static_cast<std::size_t>(res);
      conn.sent < conn.length ? start_send(conn) : start_recv(conn);
    }
  }

  void accepted(int res, unsigned flags) {
    if (res >= 0) {
      echo::set_nodelay(res);
      auto conn = std::make_unique<connection>();
      conn->fd = res;
      start_recv(*conn);
      m_connections.emplace(res, std::move(conn));
    } else if (res == -EINVAL && m_multishot_accept) {
      std::fprintf(stderr, "%s: multishot accept refused; using single-shot accepts\n", m_program);
      m_multishot_accept = false;
    } else if (res != -ECONNABORTED && res != -EINTR && res != -EAGAIN) {
      // EMFILE and the like: report and serve who is already connected.
      std::fprintf(stderr, "%s: accept: %s\n", m_program, std::strerror(-res));
    }
    if ((flags & IORING_CQE_F_MORE) == 0) {
      arm_accept();  // the multishot accept ended (or was single-shot): one must stay armed
    }
  }

  void close(connection& conn) {
    const int fd = conn.fd;
    m_connections.erase(fd);  // before close: the fd number may be reused by the next accept
    ::close(fd);
  }

  const char* m_program;
  int m_stop_signals;
  int m_listener;
  io_uring m_ring{};
  bool m_multishot_accept = true;
  bool m_stop = false;
  std::size_t m_in_flight = 0;  // operations whose final CQE has not been reaped
  std::unordered_map<int, std::unique_ptr<connection>> m_connections;
};

}  // namespace

int main(int argc, char** argv) { return echo::serve_from_command_line<server>(argc, argv); }
