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
  // that went on elsewhere, or that suspended:
  //  - a frame whose continuation a thief took: those entries were all promoted (a stolen entry
  //    was promoted, so is everything older) and taken, so cutting back forgets nothing live;
  //  - a frame suspended on I/O: its entries may still be latent. The worker promotes them all
  //    before it cuts (worker::end_strand), so they are runnable at once, from its deque; or, for a
  //    strand nested in a wait, hands them to the injection queue (worker::end_nested_strand).
  struct strand_mark {
    std::uint32_t base;
    bool nested;  // the interrupted strand is a real one: this strand runs inside a wait, or runs
                  // a leftover of one that could not be promoted (worker::end_strand)
  };
  std::uint32_t strand_base() const noexcept { return m_stack.strand_base; }
  // Starts a strand at the current top; returns the strand it interrupts.
  strand_mark begin_strand() noexcept {
    const strand_mark outer{m_stack.strand_base, m_strand_depth != 0};
    m_stack.strand_base = size();
    ++m_strand_depth;
    return outer;
  }
  // Cuts the stack back to the strand's base (every entry above it promoted, see above) and goes
  // back to the strand it interrupted.
  void end_strand(strand_mark outer) noexcept {
    const std::uint32_t base = m_stack.strand_base;
    if (size() > base) {
      m_stack.size.store(base, std::memory_order_relaxed);
      if (promoted() > base) {
        m_stack.promoted.store(base, std::memory_order_relaxed);
      }
    }
    m_stack.strand_base = outer.base;
    --m_strand_depth;
  }
  // The newest entry, which must be promoted and the newest of those: forgotten (the caller has
  // taken it back from the deque). Returns it.
  latent_entry take_newest_promoted() noexcept {
    const std::uint32_t newest = size() - 1;
    m_stack.size.store(newest, std::memory_order_relaxed);
    m_stack.promoted.store(newest, std::memory_order_relaxed);
    return m_stack.entries[newest];
  }
  // The newest entry, taken off the stack (it must be latent).
  work_item take_newest() noexcept {
    const std::uint32_t newest = size() - 1;
    m_stack.size.store(newest, std::memory_order_relaxed);
    return work_item::from_bits(m_stack.entries[newest]);
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
  std::uint32_t m_strand_depth = 0;  // strands running, nested in waits
};

}  // namespace pulse::detail
