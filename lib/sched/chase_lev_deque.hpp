// Chase-Lev work-stealing deque.
//
// Algorithm: D. Chase and Y. Lev, "Dynamic Circular Work-Stealing Deque", SPAA 2005, with the
// C11 memory orders of N. M. Lê, A. Pop, A. Cohen and F. Zappa Nardelli, "Correct and Efficient
// Work-Stealing for Weak Memory Models", PPoPP 2013 (figure 1). The owner pushes and pops at the
// bottom (LIFO); thieves take from the top (FIFO), so a thief gets the oldest, usually largest,
// piece of work and the owner keeps its cache-hot newest one.
//
// Invariants:
//  - top only grows, and only by a successful CAS (a steal, or the owner taking the last element).
//  - bottom is written by the owner alone. The elements are [top, bottom) of the current ring.
//  - A ring is replaced (grown) by the owner alone; the new ring holds the same [top, bottom).
//  - A thief reads an element before its CAS on top; the CAS succeeding proves no one else took it
//    and, since the owner only overwrites slots below top + capacity, that the slot was not reused.
//
// Deliberate deviations from the paper:
//  1. Rings that have been grown out of are reclaimed while the deque is in use, not leaked: a thief
//     that is about to read the ring announces itself in `m_readers` (a one-slot hazard count); the
//     owner frees retired rings only when it sees no reader. Both sides use seq_cst so the owner's
//     "ring replaced, then no readers" and the thief's "announced, then read ring" are totally
//     ordered: a thief that announced after the owner's check must see the new ring. Rings
//     retired while thieves keep reading wait for a later check or the destructor; they sum to
//     less than the live ring (capacities double).
//  2. Under PULSE_FENCE_FREE_ATOMICS (TSan builds) the fences become orderings on operations: push's
//     release fence + relaxed store of bottom becomes a release store; pop's relaxed store of bottom +
//     seq_cst fence + relaxed load of top become a seq_cst store and a seq_cst load; steal's seq_cst
//     fence between its loads becomes seq_cst loads. Each is at least as strong as what it replaces.
//  3. pop and steal return a status (empty / lost race / got) rather than a sentinel value.
//  4. Indices are signed 64-bit so that pop's `bottom - 1` on an empty deque is simply -1 less.
//  5. A ring is one block, header then cells, from a memory resource the owner chooses (pages on
//     its NUMA node, for a worker), or from the global heap.
#pragma once

#include "sched/atomics.hpp"

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <type_traits>

namespace pulse::detail {

// Elements are copied in and out by plain atomic loads and stores, so they must be small,
// trivially copyable and lock-free as atomics.
template <typename T>
concept deque_element = std::is_trivially_copyable_v<T> && std::is_nothrow_default_constructible_v<T> &&
                        sizeof(T) <= sizeof(void*) && std::atomic<T>::is_always_lock_free;

enum class take_status { empty, lost_race, got };

template <typename T>
struct [[nodiscard("a take can lose a race: look at the status")]] take_result {
  take_status status;
  T value;
  explicit operator bool() const noexcept { return status == take_status::got; }
};

inline constexpr std::size_t cache_line = 64;

template <deque_element T, typename Atomics = std_atomics>
class chase_lev_deque {
  template <typename U>
  using atomic = typename Atomics::template atomic<U>;
  using index = std::int64_t;

  struct ring {
    // The cells follow the header in the same block (see make_ring).
    explicit ring(index capacity_)
        : capacity(capacity_), mask(capacity_ - 1), cells(reinterpret_cast<atomic<T>*>(reinterpret_cast<std::byte*>(this) + cells_offset)) {
      // A thief with a stale top may read a slot of a new ring that grow() did not copy; its CAS
      // then fails and the value is dropped, but the read itself must be of an initialised value.
      for (index i = 0; i < capacity; ++i) {
        std::construct_at(cells + i);
        put(i, T{});
      }
    }
    ~ring() { std::destroy_n(cells, capacity); }
    ring(const ring&) = delete;
    ring& operator=(const ring&) = delete;

    T get(index i) const noexcept { return Atomics::load(cells[i & mask], std::memory_order_relaxed); }
    void put(index i, T value) noexcept { Atomics::store(cells[i & mask], value, std::memory_order_relaxed); }

    const index capacity;
    const index mask;
    atomic<T>* const cells;
    ring* next_retired = nullptr;  // owner-only list of rings grown out of
  };

  static constexpr std::size_t ring_align = alignof(ring) > alignof(atomic<T>) ? alignof(ring) : alignof(atomic<T>);
  static constexpr std::size_t cells_offset = (sizeof(ring) + alignof(atomic<T>) - 1) / alignof(atomic<T>) * alignof(atomic<T>);
  static std::size_t ring_bytes(index capacity) noexcept {
    return cells_offset + static_cast<std::size_t>(capacity) * sizeof(atomic<T>);
  }

public:
  // Rings come from `memory`, which must outlive the deque; null means the global heap.
  explicit chase_lev_deque(std::pmr::memory_resource* memory, std::size_t initial_capacity = 64) : m_memory(memory) {
    index capacity = 2;
    while (capacity < static_cast<index>(initial_capacity)) {
      capacity *= 2;
    }
    Atomics::store(m_ring, make_ring(capacity), std::memory_order_relaxed);
  }
  explicit chase_lev_deque(std::size_t initial_capacity = 64) : chase_lev_deque(nullptr, initial_capacity) {}
  chase_lev_deque(const chase_lev_deque&) = delete;
  chase_lev_deque& operator=(const chase_lev_deque&) = delete;

  // No thief may be inside steal() any more: the runtime destroys deques after joining workers.
  ~chase_lev_deque() {
    free_retired();
    destroy_ring(Atomics::load(m_ring, std::memory_order_relaxed));
  }

  // Owner only. Never fails: a full ring is replaced by one twice its size.
  void push(T value) {
    const index b = Atomics::load(m_bottom, std::memory_order_relaxed);
    // acquire: pairs with the thieves' CAS on top, so slots they vacated may be reused.
    const index t = Atomics::load(m_top, std::memory_order_acquire);
    ring* r = Atomics::load(m_ring, std::memory_order_relaxed);
    if (b - t > r->capacity - 1) {
      r = grow(r, t, b);
    }
    r->put(b, value);
    if constexpr (Atomics::fence_free) {
      // release: a thief that reads the new bottom (acquire) also sees the element.
      Atomics::store(m_bottom, b + 1, std::memory_order_release);
    } else {
      // release fence: publishes the element before the new bottom, to thieves' acquire of bottom.
      Atomics::fence(std::memory_order_release);
      Atomics::store(m_bottom, b + 1, std::memory_order_relaxed);
    }
  }

  // Owner only. The newest element, if any.
  take_result<T> pop() noexcept {
    const index b = Atomics::load(m_bottom, std::memory_order_relaxed) - 1;
    ring* const r = Atomics::load(m_ring, std::memory_order_relaxed);
    index t;
    if constexpr (Atomics::fence_free) {
      Atomics::store(m_bottom, b, std::memory_order_seq_cst);
      t = Atomics::load(m_top, std::memory_order_seq_cst);
    } else {
      Atomics::store(m_bottom, b, std::memory_order_relaxed);
      // seq_cst fence: the store of bottom (reserving element b) and the load of top must not be
      // reordered, or owner and thief could both take the last element (store-buffering race).
      Atomics::fence(std::memory_order_seq_cst);
      t = Atomics::load(m_top, std::memory_order_relaxed);
    }
    if (t > b) {
      // Empty: undo the reservation.
      Atomics::store(m_bottom, b + 1, std::memory_order_relaxed);
      return {take_status::empty, T{}};
    }
    T value = r->get(b);
    if (t < b) {
      return {take_status::got, value};  // more than one element: no thief can reach b
    }
    // The last element: race the thieves for it with the same CAS they use.
    // seq_cst on success: orders this take against concurrent steals in the single total order.
    const bool won = Atomics::compare_exchange_strong(m_top, t, t + 1, std::memory_order_seq_cst,
                                                      std::memory_order_relaxed);
    Atomics::store(m_bottom, b + 1, std::memory_order_relaxed);
    return won ? take_result<T>{take_status::got, value} : take_result<T>{take_status::lost_race, T{}};
  }

  // Any thread but the owner. The oldest element, if any.
  take_result<T> steal() noexcept {
    index t;
    index b;
    if constexpr (Atomics::fence_free) {
      t = Atomics::load(m_top, std::memory_order_seq_cst);
      b = Atomics::load(m_bottom, std::memory_order_seq_cst);
    } else {
      // acquire on top: pairs with other thieves' CAS. seq_cst fence: pairs with pop's fence so that
      // a thief and the owner never both see the last element as theirs.
      t = Atomics::load(m_top, std::memory_order_acquire);
      Atomics::fence(std::memory_order_seq_cst);
      // acquire on bottom: pairs with push's release, making the element visible.
      b = Atomics::load(m_bottom, std::memory_order_acquire);
    }
    if (t >= b) {
      return {take_status::empty, T{}};
    }
    // seq_cst announce-then-read: see deviation 1.
    Atomics::fetch_add(m_readers, 1U, std::memory_order_seq_cst);
    const ring* const r = Atomics::load(m_ring, std::memory_order_seq_cst);
    const T value = r->get(t);
    // release: the read of the ring happens before the owner, seeing zero readers, frees it.
    Atomics::fetch_sub(m_readers, 1U, std::memory_order_release);
    // seq_cst: the CAS decides between this thief, other thieves and pop's CAS on the last element.
    if (!Atomics::compare_exchange_strong(m_top, t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
      return {take_status::lost_race, T{}};
    }
    return {take_status::got, value};
  }

  // A snapshot that may be stale by the time it is used; for heuristics and idle checks only.
  bool looks_empty() const noexcept {
    const index b = Atomics::load(m_bottom, std::memory_order_relaxed);
    const index t = Atomics::load(m_top, std::memory_order_relaxed);
    return t >= b;
  }

  // Owner only: whether push() can proceed without growing (allocating) the ring. For the heartbeat
  // signal handler, which must not allocate.
  bool has_room() const noexcept {
    const index b = Atomics::load(m_bottom, std::memory_order_relaxed);
    const index t = Atomics::load(m_top, std::memory_order_relaxed);
    return b - t < Atomics::load(m_ring, std::memory_order_relaxed)->capacity - 1;
  }

  std::size_t capacity() const noexcept {
    return static_cast<std::size_t>(Atomics::load(m_ring, std::memory_order_relaxed)->capacity);
  }

private:
  ring* grow(ring* old, index t, index b) {
    ring* const bigger = make_ring(old->capacity * 2);
    for (index i = t; i < b; ++i) {
      bigger->put(i, old->get(i));
    }
    // seq_cst: publishes the copied elements (a thief's seq_cst load of the ring acquires them) and
    // takes its place in the total order that the reader check below relies on.
    Atomics::store(m_ring, bigger, std::memory_order_seq_cst);
    old->next_retired = m_retired;
    m_retired = old;
    // seq_cst: see deviation 1; if a thief announced itself after this load, it reads `bigger`.
    if (Atomics::load(m_readers, std::memory_order_seq_cst) == 0) {
      free_retired();
    }
    return bigger;
  }

  void free_retired() noexcept {
    while (m_retired != nullptr) {
      ring* const next = m_retired->next_retired;
      destroy_ring(m_retired);
      m_retired = next;
    }
  }

  ring* make_ring(index capacity) {
    const std::size_t bytes = ring_bytes(capacity);
    static_assert(ring_align <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    void* const block = m_memory != nullptr ? m_memory->allocate(bytes, ring_align) : ::operator new(bytes);
    return ::new (block) ring(capacity);
  }

  void destroy_ring(ring* r) noexcept {
    const std::size_t bytes = ring_bytes(r->capacity);
    std::destroy_at(r);
    if (m_memory != nullptr) {
      m_memory->deallocate(r, bytes, ring_align);
    } else {
      ::operator delete(r);
    }
  }

  std::pmr::memory_resource* const m_memory;
  // top is written by thieves, bottom and the ring by the owner: separate lines, no false sharing.
  alignas(cache_line) atomic<index> m_top{0};
  alignas(cache_line) atomic<index> m_bottom{0};
  atomic<ring*> m_ring{nullptr};
  ring* m_retired = nullptr;
  alignas(cache_line) atomic<std::uint32_t> m_readers{0};
};

}  // namespace pulse::detail
