// A worker's latent work, the part fork and pcall touch on every call (heartbeat scheduling:
// Acar, Charguéraud, Guatto, Rainey, Sieczkowski, "Heartbeat Scheduling: Provable Efficiency for
// Nested Parallelism", PLDI 2018).
//
// Every fork, pcall and loop split records its not-yet-started part here, newest on top, and takes
// it back when it gets there. Entries [0, promoted) were promoted: copied into the worker's deque,
// oldest first, where thieves may take them. The rest are latent: nobody else can see them, so
// recording one and taking it back are a few plain loads and stores, inline, with no atomic
// read-modify-write and no fence. Everything else (growing, polling the heartbeat, a promoted
// entry coming back, the eager and serial modes) goes to the worker's slow paths in lib/core.
//
// The one other party is the heartbeat signal handler, which runs on the owner's own thread
// between any two of its instructions and promotes the oldest latent entry (entries[promoted],
// then promoted + 1) if promoted < size. So every field it reads is a relaxed atomic, and the
// fast paths order their steps with signal fences (compiler barriers only) such that, wherever
// the handler lands:
//  - push writes the entry, then the size that covers it: the handler never promotes an entry
//    not yet written;
//  - pop lowers the size first, then reads `promoted`: either the handler ran before the size
//    went down and may have promoted the entry (then promoted > size, and the slow path fetches it
//    back from the deque), or it ran after and no longer sees the entry.
// The slow paths set the worker's critical-section flag, and the handler leaves them alone.
//
// The thread_local that finds the calling worker's stack is read inline in a way that stays right
// when a coroutine resumes on another thread (worker_thread_local.hpp).
#pragma once

#include <pulse/detail/worker_thread_local.hpp>

#include <atomic>
#include <cstdint>

namespace pulse::detail {

// A work_item's bits (lib/sched/work_item.hpp). On the latent stack: a stack_job tagged in bit 0, or
// the rest of a fork (its fork_join) tagged in bit 1. A work item may also be a coroutine frame,
// untagged (frames are at least 16-byte aligned), but those never go through the latent stack.
using latent_entry = std::uintptr_t;
inline constexpr latent_entry latent_job_tag = 1;
inline constexpr latent_entry latent_fork_rest_tag = 2;
inline constexpr latent_entry latent_tag_mask = latent_job_tag | latent_fork_rest_tag;

struct latent_stack {
  latent_entry* entries = nullptr;
  std::atomic<std::uint32_t> size{0};
  std::atomic<std::uint32_t> promoted{0};
  std::uint32_t capacity = 0;
  // Where the running strand's entries start: entries below belong to frames suspended under it.
  // A frame that resumed in this strand after a join (a thief arrived last) finds nothing of its
  // own to take back: its sibling was published on another worker and, being older than the
  // stolen work that brought the frame here, was promoted and stolen too.
  std::uint32_t strand_base = 0;
  // Every push ever made on this worker: the statistics' forks (read by other threads), and the
  // clock of the heartbeat poll, which the push that reaches `poll_at_push` takes to the slow path.
  // The worker sets poll_at_push to the next push in the eager mode, so that every push goes to the
  // deque, and out of reach in the serial mode.
  std::atomic<std::uint64_t> pushes{0};
  std::uint64_t poll_at_push = 1;
};

// The slow paths, in lib/core. Pushing may grow the stack (and throw std::bad_alloc before
// anything changed). Popping is called after the fast path lowered the size and found the entry
// promoted: it returns the entry if the deque still had it, 0 if a thief took it.
void latent_push_slow(latent_stack& stack, latent_entry entry);
latent_entry latent_pop_promoted(latent_stack& stack) noexcept;
void latent_reserve_slow(latent_stack& stack, std::uint32_t count);

// The calling worker's stack; null on threads that are not workers. The library keeps both forms
// (the thread_local it sets, and the out-of-line read), so code built by either compiler links
// with a library built by the other.
// [[gnu::used]]: see t_frame_free_lists.
[[gnu::used]] inline thread_local latent_stack* t_latent_stack = nullptr;
latent_stack* this_thread_latent_stack_out_of_line() noexcept;
inline latent_stack* this_thread_latent_stack() noexcept {
#if PULSE_INLINE_THREAD_LOCALS
  return PULSE_DETAIL_READ_WORKER_THREAD_LOCAL(t_latent_stack, "_ZN5pulse6detail14t_latent_stackE");
#else
  return this_thread_latent_stack_out_of_line();
#endif
}

// With room_reserved, the caller made room with latent_reserve, and the capacity goes unchecked.
template <bool room_reserved = false>
inline void latent_push(latent_stack& stack, latent_entry entry) {
  const std::uint32_t size = stack.size.load(std::memory_order_relaxed);
  // Counted even if the slow path then fails to grow: a fork attempted.
  const std::uint64_t pushes = stack.pushes.load(std::memory_order_relaxed) + 1;
  stack.pushes.store(pushes, std::memory_order_relaxed);
  if ((room_reserved || size != stack.capacity) && pushes < stack.poll_at_push) [[likely]] {
    stack.entries[size] = entry;
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the entry before the size covering it
    stack.size.store(size + 1, std::memory_order_relaxed);
    return;
  }
  latent_push_slow(stack, entry);
}

// Counts a fork recorded without latent_push, which counts its own: a loop's split-off half,
// promoted at once, or a fork rest handed to the injection queue. The statistics' forks, and the
// poll's clock, as for any push.
inline void count_fork(latent_stack& stack) noexcept {
  stack.pushes.store(stack.pushes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Makes room for `count` pushes that must not fail halfway (pcall's later calls): throws
// std::bad_alloc, with nothing changed, if the stack cannot grow.
inline void latent_reserve(latent_stack& stack, std::uint32_t count) {
  if (stack.capacity - stack.size.load(std::memory_order_relaxed) < count) [[unlikely]] {
    latent_reserve_slow(stack, count);
  }
}

// Takes back the newest entry, at size - 1 (above the strand's base): true if no thief took it.
inline bool latent_take_back_at(latent_stack& stack, std::uint32_t size) noexcept {
  stack.size.store(size - 1, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);  // the size down before `promoted` is read
  if (size - 1 >= stack.promoted.load(std::memory_order_relaxed)) [[likely]] {
    return true;
  }
  return latent_pop_promoted(stack) != 0;
}

// Takes the newest entry back: true if no thief took it, false if one did, or if the strand has no
// entry of its own (its frame resumed here after a thief took the sibling it would take back).
// For a caller whose entry is the newest by strict nesting (pcall), which knows what it is: the
// entry itself is not read.
inline bool latent_take_back(latent_stack& stack) noexcept {
  const std::uint32_t size = stack.size.load(std::memory_order_relaxed);
  if (size == stack.strand_base) [[unlikely]] {
    return false;
  }
  return latent_take_back_at(stack, size);
}

// The same for `entry`, only if it is the newest: a coroutine that user code resumed inline (an
// event's set() calling resume()) from inside another frame of this strand finishes above entries
// that are not its own, and must leave them.
inline bool latent_take_back_if_newest(latent_stack& stack, latent_entry entry) noexcept {
  const std::uint32_t size = stack.size.load(std::memory_order_relaxed);
  if (size == stack.strand_base || stack.entries[size - 1] != entry) [[unlikely]] {
    return false;
  }
  return latent_take_back_at(stack, size);
}

}  // namespace pulse::detail
