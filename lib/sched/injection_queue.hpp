// The injection queue: work that enters a runtime from outside its workers' deques (sync_wait and
// spawn roots, from any thread). Many producers, many consumers (idle workers).
//
// Algorithm: D. Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC queue", 2010). Each cell
// carries a sequence number that says whose turn it is:
//   seq == pos       the cell is free for the producer that claims position pos;
//   seq == pos + 1   the cell holds the item for the consumer that claims position pos;
//   seq == pos + N   freed by that consumer, free again for the producer of lap pos + N.
// Producers and consumers claim positions by CAS on their own counter, each on its own cache line;
// the value itself is published by the release store of seq and read after an acquire load of it,
// so a cell is never read and written at once.
//
// Deviation: a bounded queue must never refuse work here (a refused root is lost work, and a
// worker spinning until there is room could be the one meant to make room). When the ring is full
// the item goes to an overflow list under a mutex; consumers look there when the ring is empty.
// Order between ring and overflow is not FIFO, which nothing relies on.
#pragma once

#include "sched/chase_lev_deque.hpp"  // cache_line

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <type_traits>

namespace pulse::detail {

template <typename T>
  requires std::is_trivially_copyable_v<T> && std::is_nothrow_default_constructible_v<T>
class injection_queue {
public:
  explicit injection_queue(std::size_t capacity = 4096) : m_mask(round_up_to_power_of_two(capacity) - 1) {
    m_cells = std::make_unique<cell[]>(m_mask + 1);
    for (std::size_t i = 0; i <= m_mask; ++i) {
      m_cells[i].sequence.store(i, std::memory_order_relaxed);
    }
  }

  void push(T value) {
    if (!try_push_ring(value)) {
      std::lock_guard lock(m_overflow_mutex);
      m_overflow.push_back(value);
      // relaxed: read as a hint by consumers; the mutex orders the item itself.
      m_overflow_size.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // False when both the ring and the overflow are empty.
  bool try_pop(T& out) {
    if (try_pop_ring(out)) {
      return true;
    }
    if (m_overflow_size.load(std::memory_order_relaxed) == 0) {
      return false;
    }
    std::lock_guard lock(m_overflow_mutex);
    if (m_overflow.empty()) {
      return false;
    }
    out = m_overflow.front();
    m_overflow.pop_front();
    m_overflow_size.fetch_sub(1, std::memory_order_relaxed);
    return true;
  }

  // A snapshot for idle checks; may be stale by the time it is used.
  bool looks_empty() const noexcept {
    return m_enqueue_position.load(std::memory_order_relaxed) == m_dequeue_position.load(std::memory_order_relaxed) &&
           m_overflow_size.load(std::memory_order_relaxed) == 0;
  }

private:
  struct alignas(cache_line) cell {
    std::atomic<std::size_t> sequence{0};
    T value{};
  };

  static std::size_t round_up_to_power_of_two(std::size_t n) {
    std::size_t p = 2;
    while (p < n) {
      p *= 2;
    }
    return p;
  }

  bool try_push_ring(T value) {
    std::size_t position = m_enqueue_position.load(std::memory_order_relaxed);
    while (true) {
      cell& c = m_cells[position & m_mask];
      // acquire: pairs with the consumer's release that freed this cell, before we overwrite it.
      const std::size_t sequence = c.sequence.load(std::memory_order_acquire);
      const auto lag = static_cast<std::intptr_t>(sequence) - static_cast<std::intptr_t>(position);
      if (lag == 0) {
        // relaxed: the CAS only claims the position; the cell's sequence publishes the value.
        if (m_enqueue_position.compare_exchange_weak(position, position + 1, std::memory_order_relaxed,
                                                     std::memory_order_relaxed)) {
          c.value = value;
          // release: the value is visible to the consumer that acquires this sequence.
          c.sequence.store(position + 1, std::memory_order_release);
          return true;
        }
      } else if (lag < 0) {
        return false;  // the cell still holds an item from the previous lap: full
      } else {
        position = m_enqueue_position.load(std::memory_order_relaxed);
      }
    }
  }

  bool try_pop_ring(T& out) {
    std::size_t position = m_dequeue_position.load(std::memory_order_relaxed);
    while (true) {
      cell& c = m_cells[position & m_mask];
      // acquire: pairs with the producer's release, making the value visible.
      const std::size_t sequence = c.sequence.load(std::memory_order_acquire);
      const auto lag = static_cast<std::intptr_t>(sequence) - static_cast<std::intptr_t>(position + 1);
      if (lag == 0) {
        if (m_dequeue_position.compare_exchange_weak(position, position + 1, std::memory_order_relaxed,
                                                     std::memory_order_relaxed)) {
          out = c.value;
          // release: our read of the value happens before the next lap's producer overwrites it.
          c.sequence.store(position + m_mask + 1, std::memory_order_release);
          return true;
        }
      } else if (lag < 0) {
        return false;  // nothing published at this position yet: empty
      } else {
        position = m_dequeue_position.load(std::memory_order_relaxed);
      }
    }
  }

  const std::size_t m_mask;
  std::unique_ptr<cell[]> m_cells;
  alignas(cache_line) std::atomic<std::size_t> m_enqueue_position{0};
  alignas(cache_line) std::atomic<std::size_t> m_dequeue_position{0};
  alignas(cache_line) std::atomic<std::size_t> m_overflow_size{0};
  std::mutex m_overflow_mutex;
  std::deque<T> m_overflow;
};

}  // namespace pulse::detail
