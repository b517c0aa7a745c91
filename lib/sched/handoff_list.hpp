// A hand-off list: any thread pushes one node at a time, and takers take them all at once. A
// worker with a backlog of tasks that its I/O completions resumed hands some of them to a less
// loaded worker through that worker's list (worker::share_surplus); the worker takes them, or, if
// it has not yet, another worker that searches for work does.
//
// Algorithm: Treiber's stack (R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM
// research report RJ 5118, 1986) with its pop replaced by taking the whole chain at once, as
// intrusive lists that are drained whole are usually built.
//
// Invariants:
//  - A node is in at most one list at a time, and its owner does not touch it while it is there:
//    `next` belongs to the list.
//  - push links the node to the head it last read, then installs it with a CAS (release): whoever
//    takes the chain (acquire) sees the node and everything its pusher wrote before the push.
//  - No ABA. A push's CAS only succeeds if the head is still the one its node links to, which is
//    then exactly the chain the node should sit on; the same address coming back as head (taken,
//    and pushed again) changes nothing, since nothing reads a node's `next` to decide a CAS.
//    Only a pop of single nodes has that hazard, and there is none.
//  - take_all exchanges the head for null, so each node is taken once, however many threads take
//    at the same time, and returns the chain oldest first (pushes come out newest first, and are
//    reversed).
#pragma once

#include "sched/chase_lev_deque.hpp"  // cache_line

#include <atomic>

namespace pulse::detail {

// Node: any type with a `Node* next` member.
template <typename Node>
class handoff_list {
public:
  void push(Node& node) noexcept {
    Node* head = m_head.load(std::memory_order_relaxed);
    do {
      node.next = head;
    } while (!m_head.compare_exchange_weak(head, &node, std::memory_order_release, std::memory_order_relaxed));
  }

  // A snapshot, for checks; a push or a take may land just after it.
  bool looks_empty() const noexcept { return m_head.load(std::memory_order_relaxed) == nullptr; }

  // Every node pushed and not yet taken, oldest first, linked through `next`; null if none.
  Node* take_all() noexcept {
    Node* newest = m_head.exchange(nullptr, std::memory_order_acquire);
    Node* oldest = nullptr;
    while (newest != nullptr) {
      Node* const older = newest->next;
      newest->next = oldest;
      oldest = newest;
      newest = older;
    }
    return oldest;
  }

private:
  alignas(cache_line) std::atomic<Node*> m_head{nullptr};
};

}  // namespace pulse::detail
