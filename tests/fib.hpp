// fib, the tests' common fork-join workload: by pulse::fork of tasks, and by pulse::pcall of plain
// functions. Exact results: fib(10) = 55, fib(20) = 6765, fib(25) = 75025.
#pragma once

#include <pulse/fork.hpp>
#include <pulse/pcall.hpp>
#include <pulse/task.hpp>

namespace pulse_test {

inline pulse::task<long> fib_fork(int n) {
  if (n < 2) {
    co_return n;
  }
  auto [a, b] = co_await pulse::fork(fib_fork(n - 1), fib_fork(n - 2));
  co_return a + b;
}

inline long fib_pcall(int n) {
  if (n < 2) {
    return n;
  }
  auto [a, b] = pulse::pcall([n] { return fib_pcall(n - 1); }, [n] { return fib_pcall(n - 2); });
  return a + b;
}

inline pulse::task<long> fib_pcall_task(int n) { co_return fib_pcall(n); }

}  // namespace pulse_test
