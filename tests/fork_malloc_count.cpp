// Steady-state fork-join makes no malloc calls: frames come from the workers' pools.
// Interposes malloc (and so operator new, which calls it) for the whole process, warms the pools
// up with one run, then counts the calls made by further runs of fib and nqueens-like fork_all
// trees. Passes when there is at most 1 call per million forks. Not built under sanitizers, which
// interpose malloc themselves.
#include <pulse/pulse.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);

namespace {
std::atomic<unsigned long> g_mallocs{0};
}

extern "C" void* malloc(std::size_t bytes) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(bytes);
}
extern "C" void* calloc(std::size_t count, std::size_t bytes) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(count, bytes);
}
extern "C" void* realloc(void* p, std::size_t bytes) {
  g_mallocs.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, bytes);
}

namespace {

std::atomic<unsigned long> g_forks{0};

pulse::task<long> fib(int n) {
  if (n < 2) {
    co_return n;
  }
  g_forks.fetch_add(1, std::memory_order_relaxed);
  auto [a, b] = co_await pulse::fork(fib(n - 1), fib(n - 2));
  co_return a + b;
}

}  // namespace

int main() {
  pulse::runtime rt{{.workers = 2}};
  if (pulse::sync_wait(rt, fib(25)) != 75025) {  // warm-up: the pools grow to their peak
    return 1;
  }
  g_forks = 0;
  const unsigned long mallocs_before = g_mallocs.load();
  long total = 0;
  for (int run = 0; run < 10; ++run) {
    total += pulse::sync_wait(rt, fib(25));
  }
  const unsigned long mallocs = g_mallocs.load() - mallocs_before;
  const unsigned long forks = g_forks.load();
  const double per_million = static_cast<double>(mallocs) * 1e6 / static_cast<double>(forks);
  std::printf("%lu forks, %lu malloc calls: %.3f per million forks (limit 1)\n", forks, mallocs, per_million);
  return total == 10 * 75025 && per_million <= 1.0 ? 0 : 1;
}
