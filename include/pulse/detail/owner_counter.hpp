// A statistics counter that one thread (its owner, a worker) bumps and any thread may read.
// The owner's increment is a relaxed load and store, not a read-modify-write: no lock prefix on the
// hot paths that count, and no torn value for a reader, which sees some recent count.
#pragma once

#include <atomic>
#include <cstdint>

namespace pulse::detail {

class owner_counter {
public:
  void add(std::uint64_t amount = 1) noexcept {
    m_value.store(m_value.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
  }
  std::uint64_t read() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> m_value{0};
};

}  // namespace pulse::detail
