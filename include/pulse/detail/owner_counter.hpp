// Counters that one thread (their owner, a worker) bumps and any thread may read.
// The owner's increment is a relaxed load and store, not a read-modify-write: no lock prefix on the
// hot paths that count, and no torn value for a reader, which sees some recent count.
//
// statistics_counter is the same, for counters that only feed pulse::stats: a build with
// PULSE_INSTRUMENTATION=0 (CMake option PULSE_INSTRUMENTATION=OFF, which sets it for every user of
// the library) compiles them, and the trace hooks, out; that build exists to measure what they
// cost. owner_counter is for counts the runtime itself relies on, and always counts.
#pragma once

#include <atomic>
#include <cstdint>

#ifndef PULSE_INSTRUMENTATION
#  define PULSE_INSTRUMENTATION 1
#endif

namespace pulse::detail {

inline constexpr bool instrumented = PULSE_INSTRUMENTATION != 0;

class owner_counter {
public:
  void add(std::uint64_t amount = 1) noexcept {
    m_value.store(m_value.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  std::uint64_t read() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> m_value{0};
};

#if PULSE_INSTRUMENTATION
using statistics_counter = owner_counter;
#else
class statistics_counter {
public:
  void add(std::uint64_t = 1) noexcept {}
  std::uint64_t read() const noexcept { return 0; }
};
#endif

}  // namespace pulse::detail
