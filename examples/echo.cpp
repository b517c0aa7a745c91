// echo: a TCP echo server on the workers' io_uring rings. One multishot accept (accept_each) hands
// each connection to a session task started with spawn; a session loops recv -> send in one 4 KiB
// buffer that lives in its own frame, so the echo path allocates nothing per message.
//
//   pulse-echo --port N [--workers N] [--address A]
//
// It shows three things a real server needs beyond the happy path:
//  - Stopping. SIGINT and SIGTERM are blocked before the workers start (they inherit the mask), so
//    no worker is ever interrupted; a task reads them from a signalfd with pulse::io::read, then
//    shuts the listener down (the multishot accept ends with EINVAL) and every open connection
//    (their recv returns 0), so every task ends, the runtime drains and main returns 0.
//  - Running out of descriptors. A multishot accept that hits EMFILE ends, and accepting again
//    fails at once for as long as the process is full, while new callers would hang in the
//    backlog. So the server keeps one spare descriptor (/dev/null): when full, it closes the spare,
//    and in that slot accepts each caller and closes it at once (the caller sees EOF, not a hang),
//    until the spare can be reopened: then descriptors are free again and the multishot accept
//    resumes. The connections it already holds keep echoing throughout.
//  - Peers that misbehave. A reset or a broken pipe ends that session quietly.
#include <pulse/pulse.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <signal.h>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>

namespace {

constexpr const char* usage = "usage: pulse-echo --port N [--workers N] [--address A]\n"
                              "  --port N      TCP port, 0-65535 (0: the kernel picks one; the first line says which)\n"
                              "  --workers N   worker threads (default: one per CPU)\n"
                              "  --address A   IPv4 or IPv6 address to bind (default 0.0.0.0)\n";

// A bad command line: main prints the message and the usage, and exits with status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct options {
  std::uint16_t port = 0;
  unsigned workers = 0;  // 0: the runtime's default
  std::string address = "0.0.0.0";
};

template <typename Number>
Number parse_number(std::string_view option, std::string_view text, Number low, Number high) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    throw usage_error(std::string(option) + " wants a number from " + std::to_string(low) + " to " +
                      std::to_string(high) + ", not '" + std::string(text) + "'");
  }
  return value;
}

options parse_options(int argc, char** argv) {
  options parsed;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view option = argv[i];
    std::optional<std::string_view> value;
    if (const auto equals = option.find('='); option.starts_with("--") && equals != std::string_view::npos) {
      value = option.substr(equals + 1);  // --port=8080
      option = option.substr(0, equals);
    }
    if (option == "--help" || option == "-h") {
      std::fputs(usage, stdout);
      std::exit(0);
    }
    if (option != "--port" && option != "--workers" && option != "--address") {
      throw usage_error("unknown option '" + std::string(argv[i]) + "'");
    }
    if (!value) {
      if (i + 1 == argc) {
        throw usage_error(std::string(option) + " needs a value");
      }
      value = argv[++i];
    }
    if (option == "--port") {
      parsed.port = parse_number<std::uint16_t>(option, *value, 0, 65535);
      have_port = true;
    } else if (option == "--workers") {
      parsed.workers = parse_number<unsigned>(option, *value, 1, 1024);
    } else {
      parsed.address = *value;
    }
  }
  if (!have_port) {
    throw usage_error("--port is required");
  }
  return parsed;
}

// What a session and the stopper share: the session's descriptor, on a list of open connections.
struct connection {
  int fd;
  connection* prev = nullptr;
  connection* next = nullptr;
};

class echo_server {
public:
  echo_server(int listener, int signals) : m_listener(listener), m_signals(signals) { open_spare(); }
  ~echo_server() {
    ::close(m_spare);
    ::close(m_signals);
    ::close(m_listener);
  }
  echo_server(const echo_server&) = delete;
  echo_server& operator=(const echo_server&) = delete;

  pulse::task<void> accept_connections();
  pulse::task<void> watch_signals();
  bool failed() const noexcept { return m_failed; }
  void print_totals() const {
    std::fprintf(stderr, "pulse-echo: connections served: %lu, refused while out of descriptors: %lu\n",
                 m_served.load(std::memory_order_relaxed), m_refused.load(std::memory_order_relaxed));
  }

private:
  pulse::task<void> session(int fd);
  void start_session(int fd) noexcept;
  pulse::task<int> refuse_while_full();
  void open_spare() noexcept { m_spare = ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

  // The list of open connections: a session joins it when it starts and leaves it before it
  // closes its descriptor, so the stopper never shuts down a descriptor number that was reused.
  bool enter(connection& c) {
    std::lock_guard lock(m_mutex);
    if (m_stopping) {
      return false;
    }
    c.next = m_open;
    if (m_open != nullptr) {
      m_open->prev = &c;
    }
    m_open = &c;
    return true;
  }
  void leave(connection& c) {
    std::lock_guard lock(m_mutex);
    (c.prev != nullptr ? c.prev->next : m_open) = c.next;
    if (c.next != nullptr) {
      c.next->prev = c.prev;
    }
  }
  pulse::task<void> accept_until_stopped();
  void stop(const char* why);
  void fail(const char* what);
  bool stopping() {
    std::lock_guard lock(m_mutex);
    return m_stopping;
  }

  const int m_listener;
  const int m_signals;
  int m_spare = -1;  // /dev/null, given up for a moment to refuse callers when descriptors run out
  std::atomic<bool> m_failed{false};  // set by either task, read by main after sync_wait
  std::atomic<unsigned long> m_served{0};
  std::atomic<unsigned long> m_refused{0};
  std::mutex m_mutex;  // guards the two below; taken once per connection, never per message
  bool m_stopping = false;
  connection* m_open = nullptr;
};

pulse::task<void> echo_server::session(int fd) {
  connection self{fd};
  if (enter(self)) {
    std::array<std::byte, 4096> buffer;  // in the frame: nothing allocated per message
    try {
      while (true) {
        const std::size_t received = co_await pulse::net::recv(fd, buffer);
        if (received == 0) {
          break;  // the peer shut down its side (or stop() shut down ours)
        }
        // send, not send_all: a blocking socket sends everything at once, and a loop here avoids
        // starting a child task per message for the rare partial send.
        for (std::size_t sent = 0; sent < received;) {
          sent += co_await pulse::net::send(fd, std::span(buffer).subspan(sent, received - sent));
        }
      }
    } catch (const std::system_error&) {
      // ECONNRESET, EPIPE, ETIMEDOUT: the peer is gone, and that is the peer's business.
    }
    leave(self);
  }
  ::close(fd);
}

// Runs in accept_each's handler, between tasks on the worker that owns the accept: keep it short.
void echo_server::start_session(int fd) noexcept {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));  // small replies go out at once
  try {
    pulse::spawn(session(fd));
    m_served.fetch_add(1, std::memory_order_relaxed);
  } catch (const std::exception&) {
    ::close(fd);  // no memory for a session: refuse this caller, keep the server
    m_refused.fetch_add(1, std::memory_order_relaxed);
  }
}

// Out of descriptors. An accept (io_uring's, like accept4) takes a descriptor before it looks at
// the backlog, so at the limit it fails at once whether anyone is calling or not: retrying after a
// sleep would poll, and keep callers waiting for the next try. Instead the spare is given up, and
// its slot lets one plain accept wait for the next caller. If the spare cannot be reopened after
// that, descriptors are still short: the caller is closed at once (it sees EOF, or a reset if it
// had sent data) and the wait repeats. Once the spare reopens, that caller gets a session and the
// multishot accept resumes. Returns the error that ended an accept, or 0.
pulse::task<int> echo_server::refuse_while_full() {
  ::close(m_spare);
  m_spare = -1;
  int error = 0;
  while (true) {
    int fd = -1;
    try {
      fd = co_await pulse::net::accept(m_listener);
    } catch (const std::system_error& e) {
      error = e.code().value();  // EINVAL after stop(); EMFILE if the slot went to someone else
      break;
    }
    open_spare();
    if (m_spare >= 0) {
      start_session(fd);
      break;
    }
    ::close(fd);
    m_refused.fetch_add(1, std::memory_order_relaxed);
  }
  if (m_spare < 0) {
    open_spare();
  }
  co_return error;
}

pulse::task<void> echo_server::accept_connections() {
  try {
    co_await accept_until_stopped();
  } catch (const std::exception& e) {
    fail(e.what());  // bad_alloc, say: the server cannot go on accepting
  }
}

pulse::task<void> echo_server::accept_until_stopped() {
  while (true) {
    int error = 0;
    try {
      co_await pulse::net::accept_each(m_listener, [this](int fd) { start_session(fd); });
      // It may also end without an error (the kernel gave up on a multishot): accept again.
    } catch (const std::system_error& e) {
      error = e.code().value();
    }
    if (!stopping() && (error == EMFILE || error == ENFILE)) {
      error = co_await refuse_while_full();
    }
    if (stopping()) {
      break;  // stop() shut the listener down: EINVAL is how the accept ends
    }
    if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
      // Short of resources even with the spare's slot free: let the sessions run a little first.
      co_await pulse::sleep_for(std::chrono::milliseconds(5));
    } else if (error != 0 && error != ECONNABORTED && error != EPROTO && error != EPERM && error != EINTR) {
      // Not one of accept(2)'s transient errors.
      fail(std::system_error(error, std::system_category(), "accept").what());
      break;
    }
  }
}

pulse::task<void> echo_server::watch_signals() {
  signalfd_siginfo info{};
  try {
    co_await pulse::io::read(m_signals, std::as_writable_bytes(std::span(&info, 1)), pulse::io::current_position);
  } catch (const std::system_error& e) {
    // Stop rather than end this task alone: the accept loop would keep the runtime alive.
    std::fprintf(stderr, "pulse-echo: %s\n", e.what());
    m_failed = true;
  }
  stop(info.ssi_signo == SIGINT ? "SIGINT" : info.ssi_signo == SIGTERM ? "SIGTERM" : "an error");
}

// Stops as a signal would, but with exit status 1.
void echo_server::fail(const char* what) {
  std::fprintf(stderr, "pulse-echo: %s\n", what);
  m_failed = true;
  stop("an error");
  ::kill(::getpid(), SIGTERM);  // blocked: it wakes watch_signals through the signalfd, so that task ends too
}

void echo_server::stop(const char* why) {
  std::lock_guard lock(m_mutex);
  if (m_stopping) {
    return;
  }
  m_stopping = true;
  unsigned long open = 0;
  for (connection* c = m_open; c != nullptr; c = c->next, ++open) {
    ::shutdown(c->fd, SHUT_RDWR);  // the session's recv returns 0 (or its send fails) and it ends
  }
  ::shutdown(m_listener, SHUT_RDWR);
  std::fprintf(stderr, "pulse-echo: stopping on %s (open connections: %lu)\n", why, open);
}

}  // namespace

int main(int argc, char** argv) {
  options opts;
  try {
    opts = parse_options(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "pulse-echo: %s\n%s", e.what(), usage);
    return 2;
  }

  // Before any thread starts: every worker inherits the blocked mask, so the signals wait in the
  // signalfd and never interrupt a worker's system call.
  // Their dispositions go back to the default first: a shell starts background jobs with SIGINT
  // ignored, and an ignored signal is discarded rather than queued for the signalfd.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  sigset_t stop_signals;
  ::sigemptyset(&stop_signals);
  ::sigaddset(&stop_signals, SIGINT);
  ::sigaddset(&stop_signals, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  const int signals = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signals < 0) {
    std::perror("pulse-echo: signalfd");
    return 1;
  }

  int listener = -1;
  try {
    listener = pulse::net::listen_tcp(opts.port, opts.address);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "pulse-echo: %s\n%s", e.what(), usage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pulse-echo: %s\n", e.what());
    return 1;
  }
  echo_server server(listener, signals);

  try {
    pulse::runtime rt{{.workers = opts.workers, .io = pulse::io_support::required}};
    const bool v6 = opts.address.find(':') != std::string::npos;
    std::printf("pulse-echo: listening on %s%s%s:%u with %u workers\n", v6 ? "[" : "", opts.address.c_str(),
                v6 ? "]" : "", static_cast<unsigned>(pulse::net::local_port(listener)), rt.worker_count());
    std::fflush(stdout);  // scripts and tests read the port from this line
    pulse::sync_wait(rt, [](echo_server& s) -> pulse::task<void> {
      co_await pulse::fork(s.accept_connections(), s.watch_signals());
    }(server));
    // The runtime's destructor waits for the sessions, which stop() has ended.
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "pulse-echo: %s\n%s", e.what(), usage);  // e.g. more workers than it may start
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pulse-echo: %s\n", e.what());
    return 1;
  }
  server.print_totals();
  return server.failed() ? 1 : 0;
}
