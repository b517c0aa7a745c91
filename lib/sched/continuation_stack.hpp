// A worker's pending continuations, latent and promoted (heartbeat scheduling: Acar, Charguéraud,
// Guatto, Rainey, Sieczkowski, "Heartbeat Scheduling: Provable Efficiency for Nested Parallelism",
// PLDI 2018).
//
// Every fork, pcall and loop split records its not-yet-started part here, newest on top, as a
// plain store: no atomics, no fences. The oldest entries may have been promoted: copied into the
// worker's Chase-Lev deque, where thieves can take them. Promotion always takes the oldest latent
// entry, so the promoted entries form a prefix [0, promoted) and, in the deque, keep the same order.
//
// Taking back the newest entry (its owner finished the part before it):
//  - if it is latent (size > promoted) it is simply popped: the whole join costs a few plain
//    loads and stores;
//  - if it was promoted, the deque's pop decides: either it is still there, or a thief has it (and,
//    thieves taking the oldest first, every older promoted entry is gone too).
//
// Owner thread only, except that the heartbeat signal handler may promote on the owner's thread
// when the owner is not inside one of these operations (see worker.hpp).
#pragma once

#include "sched/work_item.hpp"

#include <cstddef>
#include <vector>

namespace pulse::detail {

class continuation_stack {
public:
  continuation_stack() { m_entries.reserve(256); }

  void push(work_item item) { m_entries.push_back(item); }
  std::size_t size() const noexcept { return m_entries.size(); }
  bool has_latent() const noexcept { return m_entries.size() > m_promoted; }
  std::size_t latent_count() const noexcept { return m_entries.size() - m_promoted; }
  bool newest_is_latent() const noexcept { return has_latent(); }

  // The newest entry, which must be latent.
  work_item pop_latent() noexcept {
    const work_item newest = m_entries.back();
    m_entries.pop_back();
    return newest;
  }
  // Forgets the newest entry, which was promoted (the deque's pop decides who has it).
  void drop_promoted() noexcept {
    m_entries.pop_back();
    --m_promoted;
  }
  // The oldest latent entry, now counted as promoted; the caller pushes it onto the deque.
  work_item promote_oldest() noexcept { return m_entries[m_promoted++]; }

  // Where a strand starts: what the worker runs from its loop (or while waiting) is a strand, and
  // the entries it leaves above its base when it returns belong to frames that went on elsewhere
  // (a thief took their continuation). They were all promoted (a stolen entry was promoted, so is
  // everything older) and all stolen, so cutting back to the base forgets nothing live.
  std::size_t strand_base() const noexcept { return m_entries.size(); }
  void end_strand(std::size_t base) noexcept {
    if (m_entries.size() > base) {
      m_entries.resize(base);
      if (m_promoted > base) {
        m_promoted = base;
      }
    }
  }

private:
  std::vector<work_item> m_entries;
  std::size_t m_promoted = 0;
};

}  // namespace pulse::detail
