// fib: the same computation three ways, and what the scheduler did.
//   - co_await pulse::fork of tasks (coroutines);
//   - pulse::pcall of plain functions (no coroutine frame: the fastest form for kernels);
//   - pulse::parallel_reduce over a range.
// Every fork is a plain call until a heartbeat promotes the oldest latent one for an idle worker.
// Run it with PULSE_TRACE=fib.json to get a trace of every worker for ui.perfetto.dev.
#include <pulse/fmt.hpp>
#include <pulse/pulse.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

pulse::task<long> fib_task(int n) {
  if (n < 2) {
    co_return n;
  }
  auto [a, b] = co_await pulse::fork(fib_task(n - 1), fib_task(n - 2));
  co_return a + b;
}

long fib_plain(int n) {
  if (n < 2) {
    return n;
  }
  auto [a, b] = pulse::pcall([n] { return fib_plain(n - 1); }, [n] { return fib_plain(n - 2); });
  return a + b;
}

pulse::task<long> fib_pcall(int n) { co_return fib_plain(n); }

pulse::task<long> sum_of_fibs(int up_to) {
  co_return co_await pulse::parallel_reduce(
      0, static_cast<std::size_t>(up_to), 0L, [](std::size_t i) { return fib_plain(static_cast<int>(i)); },
      [](long a, long b) { return a + b; });
}

template <typename Run>
void timed(const char* what, Run&& run) {
  const auto start = std::chrono::steady_clock::now();
  const long result = run();
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("  %-34s %12ld  %8.1f ms\n", what, result, ms);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 32;
  pulse::runtime rt;
  std::printf("fib(%d) on %u workers\n", n, rt.worker_count());
  timed("co_await pulse::fork (tasks)", [&] { return pulse::sync_wait(rt, fib_task(n)); });
  timed("pulse::pcall (plain functions)", [&] { return pulse::sync_wait(rt, fib_pcall(n)); });
  timed("parallel_reduce: fib(0..n-1)", [&] { return pulse::sync_wait(rt, sum_of_fibs(n)); });
  // What the scheduler did: per worker and in total.
  fmt::print("\nscheduler statistics\n{}", rt.stats());
}
