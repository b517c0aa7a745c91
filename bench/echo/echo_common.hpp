// What the echo benchmark's programs share (issue #7): "--name value" argument parsing, the
// listening socket, client-side connect, and SIGINT/SIGTERM as a signalfd a server waits on so
// that it can leave its loop and exit 0. Kept to setup only: each server's event loop is its
// own, since the loops are what the benchmark compares.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

namespace pulse_bench::echo {

// A server's per-connection buffer: one recv takes at most this much and echoes it whole.
inline constexpr std::size_t buffer_size = 16 * 1024;

[[noreturn]] inline void die(const char* program, const char* what, int error = errno) {
  std::fprintf(stderr, "%s: %s: %s\n", program, what, std::strerror(error));
  std::exit(1);
}

// "--name value" pairs, each name given at most once; anything else prints the usage and exits 2.
class arguments {
 public:
  arguments(int argc, char** argv, const char* usage) : m_program(argv[0]), m_usage(usage) {
    for (int i = 1; i < argc; i += 2) {  // a name and its value
      const std::string_view arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::printf("usage: %s %s\n", m_program, m_usage);
        std::exit(0);
      }
      if (!arg.starts_with("--") || i + 1 == argc || !m_values.emplace(arg.substr(2), argv[i + 1]).second) {
        bad_usage(("unexpected or repeated argument '" + std::string(arg) + "'").c_str());
      }
    }
  }

  // The value of --name, which must be an integer in [min, max]; fallback if absent and allowed.
  long get(const char* name, long min, long max) { return get(name, min, max, nullptr); }
  long get(const char* name, long min, long max, long fallback) { return get(name, min, max, &fallback); }

  // Call after the last get: an option nobody asked for is a typo, not something to ignore.
  void check_all_used() {
    if (!m_values.empty()) {
      bad_usage(("unknown option --" + m_values.begin()->first).c_str());
    }
  }

  const char* program() const { return m_program; }

 private:
  long get(const char* name, long min, long max, const long* fallback) {
    const auto it = m_values.find(name);
    if (it == m_values.end()) {
      if (fallback == nullptr) {
        bad_usage((std::string("--") + name + " is required").c_str());
      }
      return *fallback;
    }
    const std::string& text = it->second;
    long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
      bad_usage((std::string("--") + name + " wants an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                 "], not '" + text + "'")
                    .c_str());
    }
    m_values.erase(it);
    return value;
  }

  [[noreturn]] void bad_usage(const char* why) const {
    std::fprintf(stderr, "%s: %s\nusage: %s %s\n", m_program, why, m_program, m_usage);
    std::exit(2);
  }

  const char* m_program;
  const char* m_usage;
  std::map<std::string, std::string, std::less<>> m_values;
};

inline void set_nodelay(int fd) {
  // Lock-step small messages: never let Nagle hold one back waiting for an ACK.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

inline sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A listening TCP socket on 127.0.0.1:port with SO_REUSEADDR (a restarted server must not wait
// out TIME_WAIT); exits with a message if the port is taken, which scripts/bench-echo relies on.
inline int listen_socket(const char* program, int port, bool nonblocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) {
    die(program, "socket");
  }
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    die(program, "setsockopt(SO_REUSEADDR)");
  }
  const sockaddr_in address = loopback(port);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    die(program, ("bind to 127.0.0.1:" + std::to_string(port)).c_str());
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    die(program, "listen");
  }
  return fd;
}

// A blocking connection to 127.0.0.1:port with TCP_NODELAY, or -1 with errno set.
inline int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  const sockaddr_in address = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  set_nodelay(fd);
  return fd;
}

// SIGINT and SIGTERM, blocked and delivered through a signalfd that a server waits on beside its
// sockets: the fd turning readable means "stop". No handler, no EINTR to get right, no window
// between checking a flag and going to sleep. (A handler plus a wait mask is not enough with
// liburing: an interrupted io_uring_enter whose submit went through returns the submit count,
// liburing's wait loop enters again, and an idle echo-uring-server swallowed its first SIGTERM.)
// SIGPIPE is ignored: a peer that vanished is an EPIPE to handle, not a reason to die.
inline int stop_signal_fd(const char* program) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  if (::sigprocmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    die(program, "sigprocmask");
  }
  const int fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (fd < 0) {
    die(program, "signalfd");
  }
  ::signal(SIGPIPE, SIG_IGN);
  return fd;
}

// main() of a baseline server: `--port N`, then Server(program, port).run() until a signal stops it.
template <typename Server>
int serve_from_command_line(int argc, char** argv) {
  arguments args(argc, argv, "--port N");
  const int port = static_cast<int>(args.get("port", 1, 65535));
  args.check_all_used();
  Server server(args.program(), port);
  server.run();
  return 0;
}

}  // namespace pulse_bench::echo
