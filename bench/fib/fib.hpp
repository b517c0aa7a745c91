// fib: the classic overhead benchmark. No cutoff, so the cost per call (and per fork) dominates.
#pragma once

namespace pulse_bench {

inline constexpr int fib_n = 35;
inline constexpr long fib_expected = 9227465;

// fib by coroutine calls awaited one after the other, for any lazy task type that yields a long:
// pulse::task<long> (fib/pulse_await) and the bare floor task (fib/coroutine_floor) run this same
// body, so the two differ only in the task.
template <typename Task>
Task awaited_fib(int n) {
  if (n < 2) {
    co_return n;
  }
  const long a = co_await awaited_fib<Task>(n - 1);
  const long b = co_await awaited_fib<Task>(n - 2);
  co_return a + b;
}

}  // namespace pulse_bench
