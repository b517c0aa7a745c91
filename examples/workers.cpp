// workers: a runtime you size yourself, tasks started with spawn on all of its workers, and what a
// bad option looks like.
#include <pulse/pulse.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace {

struct tally {
  std::mutex mutex;
  std::map<std::thread::id, int> per_thread;
  std::atomic<long> sum{0};
};

pulse::task<void> busy_work(tally& seen, long n) {
  long local = 0;
  for (long i = 0; i <= n; ++i) {
    local += i % 7;
  }
  seen.sum.fetch_add(local, std::memory_order_relaxed);
  std::lock_guard lock(seen.mutex);
  ++seen.per_thread[std::this_thread::get_id()];
  co_return;
}

}  // namespace

int main() {
  tally seen;
  const auto start = std::chrono::steady_clock::now();
  {
    pulse::runtime rt{{.workers = 2}};
    std::printf("a runtime with %u workers\n", rt.worker_count());
    for (int i = 0; i < 64; ++i) {
      pulse::spawn(rt, busy_work(seen, 200'000));
    }
    // The destructor waits for every spawned task.
  }
  const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("64 spawned tasks, sum %ld, %.1f ms, spread over %zu threads:\n", seen.sum.load(), elapsed.count(),
              seen.per_thread.size());
  for (const auto& [thread, count] : seen.per_thread) {
    std::printf("  %d tasks on thread %zu\n", count, std::hash<std::thread::id>{}(thread) % 10000);
  }

  try {
    pulse::runtime broken{{.heartbeat = std::chrono::microseconds{0}}};
  } catch (const std::invalid_argument& e) {
    std::printf("a bad option is an error that names it: %s\n", e.what());
  }
}
