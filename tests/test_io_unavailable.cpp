// A process where io_uring is unavailable, as under Docker's default seccomp profile or with
// io_uring_disabled=2: a seccomp filter makes io_uring_setup fail with EPERM (or ENOSYS) in a
// child process, which then checks what pulse does. Also a ring whose next setup step (its
// wake-up eventfd) fails, as when the process runs out of descriptors.
// Covers: a runtime with io_support::automatic starts, runs tasks (fork-join and pcall alike) and
// parks and wakes its workers without rings; each I/O operation throws std::system_error with
// the setup's errno and a message naming what failed (io_uring unavailable, or the eventfd);
// io_support::required makes the constructor throw std::system_error with that errno, naming the
// option. No crash, no hang.
#include <pulse/pulse.hpp>

#include "fib.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace {

// Makes system call `number` fail with `error` in the calling process from now on (x86-64 and
// aarch64 syscall tables; any other architecture is let through, and the child reports it).
bool refuse_system_call(int number, int error) {
  const sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
#if defined(__x86_64__)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
#elif defined(__aarch64__)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_AARCH64, 1, 0),
#endif
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(number), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(error) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  const sock_fprog program{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])),
                           const_cast<sock_filter*>(filter)};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Child exit codes: which check failed.
enum child_result : int {
  ok = 0,
  no_filter = 10,
  compute_wrong,
  io_did_not_throw,
  io_wrong_error,
  required_did_not_throw,
  required_wrong_error,
  other_exception,
};

// `failure`: what the error messages must say failed.
int check_without_rings(int system_call, int error, const char* failure) {
  if (!refuse_system_call(system_call, error)) {
    return no_filter;
  }
  try {
    {
      pulse::runtime rt({.workers = 2});
      if (pulse::sync_wait(rt, pulse_test::fib_fork(20)) != 6765 || pulse::sync_wait(rt, pulse_test::fib_pcall_task(20)) != 6765) {
        return compute_wrong;
      }
      try {
        pulse::sync_wait(rt, []() -> pulse::task<void> { co_await pulse::sleep_for(std::chrono::milliseconds(1)); }());
        return io_did_not_throw;
      } catch (const std::system_error& e) {
        const std::string message = e.what();
        if (e.code().value() != error || message.find(failure) == std::string::npos ||
            message.find("pulse::sleep_for") == std::string::npos) {
          std::fprintf(stderr, "unexpected error: %s\n", e.what());
          return io_wrong_error;
        }
      }
      // Workers parked on futexes still wake for new work.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (pulse::sync_wait(rt, pulse_test::fib_fork(15)) != 610) {
        return compute_wrong;
      }
    }
    try {
      pulse::runtime required({.workers = 2, .io = pulse::io_support::required});
      return required_did_not_throw;
    } catch (const std::system_error& e) {
      const std::string message = e.what();
      if (e.code().value() != error || message.find("io_support::required") == std::string::npos ||
          message.find(failure) == std::string::npos) {
        std::fprintf(stderr, "unexpected error: %s\n", e.what());
        return required_wrong_error;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    return other_exception;
  }
  return ok;
}

int in_child(int system_call, int error, const char* failure) {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::_Exit(check_without_rings(system_call, error, failure));
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("io_uring_setup refused with EPERM (Docker's seccomp profile)", "[unavailable]") {
  CHECK(in_child(__NR_io_uring_setup, EPERM, "io_uring is unavailable (io_uring_setup failed)") == ok);
}

TEST_CASE("io_uring_setup refused with ENOSYS (a kernel without io_uring)", "[unavailable]") {
  CHECK(in_child(__NR_io_uring_setup, ENOSYS, "io_uring is unavailable (io_uring_setup failed)") == ok);
}

TEST_CASE("a ring whose wake-up eventfd fails says so, not that io_uring is unavailable", "[unavailable]") {
  CHECK(in_child(__NR_eventfd2, EMFILE, "could not be set up (eventfd for the ring's wake-ups failed)") == ok);
}
