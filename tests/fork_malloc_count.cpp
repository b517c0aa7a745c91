// Steady-state fork-join makes no malloc calls: frames come from the workers' pools.
// Interposes malloc (and so operator new, which calls it) for the whole process, warms the pools
// up with one run, then counts the calls made by ten further runs of fib (the forks counted by
// runtime::stats). Passes when there is at most 1 call per million forks. Not built under
// sanitizers, which interpose malloc themselves.
#include "fib.hpp"

#include <pulse/pulse.hpp>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);

namespace {

std::atomic<unsigned long> g_mallocs{0};

}  // namespace

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

int main() {
  pulse::runtime rt{{.workers = 2}};
  // Warm-up: the pools grow to their peak. Which worker allocates how many frames depends on the
  // schedule, so several runs; a pool that still grows later takes a chunk, and binding its pages
  // to the node (hwloc) mallocs: the limit allows for that, not for a malloc per fork.
  for (int run = 0; run < 5; ++run) {
    if (pulse::sync_wait(rt, pulse_test::fib_fork(25)) != 75025) {
      return 1;
    }
  }
  const std::uint64_t forks_before = rt.stats().forks;  // stats() allocates: outside the count
  const unsigned long mallocs_before = g_mallocs.load();
  long total = 0;
  for (int run = 0; run < 10; ++run) {
    total += pulse::sync_wait(rt, pulse_test::fib_fork(25));
  }
  const unsigned long mallocs = g_mallocs.load() - mallocs_before;
  const std::uint64_t forks = rt.stats().forks - forks_before;
  const double per_million = static_cast<double>(mallocs) * 1e6 / static_cast<double>(forks);
  std::printf("%llu forks, %lu malloc calls: %.3f per million forks (limit 1)\n",
              static_cast<unsigned long long>(forks), mallocs, per_million);
  return total == 10 * 75025 && per_million <= 1.0 ? 0 : 1;
}
