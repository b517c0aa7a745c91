// A worker's pending continuations, latent and promoted: the owner of the latent_stack whose fast
// paths are inline in include/pulse/detail/latent_stack.hpp (read that first: the layout, the
// protocol with the heartbeat signal handler, and why the fast paths need no atomic RMW).
//
// This side holds the storage and the operations the fast paths leave to the worker: growing,
// promoting, taking a promoted entry back, and cutting a strand back to its base. The worker runs
// each of them inside its critical section, so the signal handler never sees one half done; the
// handler itself calls only promote_oldest().
//
// Promotion always takes the oldest latent entry, so the promoted entries form a prefix
// [0, promoted) and keep their order in the deque: when the newest entry was promoted, the
// deque's pop decides who has it, and if a thief does, every older promoted entry is gone too.
#pragma once

#include "sched/work_item.hpp"

#include <pulse/detail/latent_stack.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>

namespace pulse::detail {

class continuation_stack {
public:
  // Empty, with no storage: the first push (full at capacity 0) allocates it, on the worker's own
  // thread, so its pages are first touched on the worker's node.
  continuation_stack() = default;

  latent_stack& fast() noexcept { return m_stack; }

  std::uint32_t size() const noexcept { return m_stack.size.load(std::memory_order_relaxed); }
  std::uint32_t promoted() const noexcept { return m_stack.promoted.load(std::memory_order_relaxed); }
  bool has_latent() const noexcept { return size() > promoted(); }
  std::uint32_t latent_count() const noexcept { return size() - promoted(); }
  // Every entry ever pushed (any thread may ask).
  std::uint64_t pushes() const noexcept { return m_stack.pushes.load(std::memory_order_relaxed); }

  // Records `entry` as the newest latent entry; grows first if full. Throws std::bad_alloc (with
  // nothing changed) if it cannot grow.
  void push(latent_entry entry) {
    const std::uint32_t at = size();
    reserve(1);
    m_stack.entries[at] = entry;
    m_stack.size.store(at + 1, std::memory_order_relaxed);
  }

  // Room for `count` more entries; throws std::bad_alloc (with nothing changed) if it cannot grow.
  void reserve(std::uint32_t count) {
    while (m_stack.capacity - size() < count) {
      grow();
    }
  }

  // The oldest latent entry, now counted as promoted; the caller pushes it onto the deque.
  work_item promote_oldest() noexcept {
    const std::uint32_t oldest = promoted();
    m_stack.promoted.store(oldest + 1, std::memory_order_relaxed);
    return work_item::from_bits(m_stack.entries[oldest]);
  }

  // Takes back the last promotion, which the deque could not hold.
  void unpromote_newest() noexcept { m_stack.promoted.store(promoted() - 1, std::memory_order_relaxed); }

  // After the fast pop lowered the size past a promoted entry: it is no longer counted (the
  // deque's pop decides who has it).
  void forget_popped_promoted() noexcept { m_stack.promoted.store(size(), std::memory_order_relaxed); }

  // What the worker runs from its loop (or while waiting) is a strand, starting at the size the
  // stack had then. The entries a strand leaves above its base when it returns belong to frames
  // that went on elsewhere (a thief took their continuation). They were all promoted (a stolen
  // entry was promoted, so is everything older) and all stolen, so cutting back to the base forgets
  // nothing live.
  // Starts a strand at the current top; returns the base of the strand it interrupts.
  std::uint32_t begin_strand() noexcept {
    const std::uint32_t outer = m_stack.strand_base;
    m_stack.strand_base = size();
    return outer;
  }
  void end_strand(std::uint32_t outer_base) noexcept {
    const std::uint32_t base = m_stack.strand_base;
    if (size() > base) {
      m_stack.size.store(base, std::memory_order_relaxed);
      if (promoted() > base) {
        m_stack.promoted.store(base, std::memory_order_relaxed);
      }
    }
    m_stack.strand_base = outer_base;
  }

private:
  static constexpr std::uint32_t initial_capacity = 256;

  void grow() {
    const std::uint32_t capacity = m_stack.capacity == 0 ? initial_capacity : m_stack.capacity * 2;
    auto larger = std::make_unique<latent_entry[]>(capacity);
    std::copy(m_stack.entries, m_stack.entries + size(), larger.get());
    m_storage = std::move(larger);
    m_stack.entries = m_storage.get();
    m_stack.capacity = capacity;
  }

  latent_stack m_stack;
  std::unique_ptr<latent_entry[]> m_storage;
};

}  // namespace pulse::detail
