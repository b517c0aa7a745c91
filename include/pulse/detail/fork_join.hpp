// The join state of one pulse::fork / pulse::fork_all: lives in the awaitable, in the parent's
// frame, for as long as the parent is suspended on the fork.
//
// Continuation stealing, one strand at a time. The parent publishes child 1, "the rest of the
// fork", as a latent entry naming this join (latent_entry_of), and runs child 0. When a child
// finishes it takes that entry back and starts the next child itself, as a plain call would,
// having first published the child after it. If a thief took the entry instead (or this worker ran
// it from its deque after the strand that published it suspended on I/O), the fork splits into
// strands: the one that took it continues the fork from child `published` (start_stolen_fork_rest),
// and the strand whose entry was taken ends at the join. So a child that is not stolen starts with
// no hook at all, and its start is a few plain stores in its predecessor's finish.
//
// Joining. The strand that runs the last child holds the fork's bookkeeping (`steals`), which
// passes between workers with the deque's own synchronisation. If nothing was stolen it resumes
// the parent directly: no atomic read-modify-write on that path. Otherwise every strand adds to
// `arrivals`: 1 for each strand that ended early (there is one per steal), and arrival_total -
// steals for the last one, so the sum reaches arrival_total exactly when every strand is done,
// whatever the order; whoever brings it there resumes the parent.
//
// Failures. Every child that fails sets `failed` before its strand arrives. Whoever is about to
// start a child reads it first: once a child has failed, the children not yet started never start
// (their bodies never run) and the strand ends the fork as if it had run the last one.
#pragma once

#include <pulse/detail/latent_stack.hpp>
#include <pulse/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>

namespace pulse::detail {

class fork_join {
public:
  static constexpr std::uint32_t arrival_total = 1U << 30;
  // In `published`: the child below it could not publish its successor, and starts it directly.
  static constexpr std::uint32_t unpublished_after = 1U << 31;
  // fork_all refuses this many (std::length_error). Below arrival_total, so that the last strand's
  // share, arrival_total - steals, stays positive however many children were stolen (and indexes
  // stay below the flag above).
  static constexpr std::size_t most_children = arrival_total;
  static_assert(most_children <= arrival_total && most_children <= unpublished_after);

  fork_join() noexcept = default;
  fork_join(const fork_join&) = delete;
  fork_join& operator=(const fork_join&) = delete;

  // The children's coroutines, in order; owned by the awaitable.
  const std::coroutine_handle<>* children = nullptr;
  std::uint32_t count = 0;
  // The rest of the fork: the child that its latent entry starts, or unpublished_after | k when
  // child k could not publish its successor (no memory to grow the latent stack, or not on a
  // worker). Written before the entry is pushed; whoever takes the entry (from a deque, the
  // injection queue, or a strand's leftovers) reads it after that, which the push happened before.
  // Atomic (relaxed) for the child that finishes and compares it with its own successor while a
  // thief that took the entry may be writing it: a thief only writes later children's values.
  std::atomic<std::uint32_t> published{0};

  std::coroutine_handle<> parent;
  std::uint32_t steals = 0;  // strands that took the rest of the fork from a deque

  std::atomic<std::uint32_t> arrivals{0};
  // Set by every child that ends with an exception (fork_child_finished), before its strand
  // arrives at the join. Before the join, a hint (relaxed): a child not yet started is skipped if
  // its starter sees the flag, and runs if it misses it. After the join, exact: the parent reads it
  // (any_child_failed) to know whether every child returned a value.
  std::atomic<bool> failed{false};
};

// As a latent_stack entry, tagged (latent_stack.hpp).
inline latent_entry latent_entry_of(fork_join& join) noexcept {
  static_assert(alignof(fork_join) > latent_tag_mask);
  return reinterpret_cast<latent_entry>(&join) | latent_fork_rest_tag;
}

// Out of line: adds `amount` to the join's arrivals; the parent if that completed the sum.
std::coroutine_handle<> arrive_at_join(fork_join& join, std::uint32_t amount) noexcept;

// Read by the parent after the join. relaxed: every child's finish, which sets the flag, happens
// before the parent resumes (same thread, or through the arrivals' acq_rel sum).
inline bool any_child_failed(const fork_join& join) noexcept { return join.failed.load(std::memory_order_relaxed); }

// The hooks, inline: on the path where nothing is stolen they are a few plain loads and stores
// and the latent stack's fast paths.

// The strand that would run the rest of the fork is done with it (it ran the last child, or a child
// failed and the rest are skipped): what to transfer to.
[[gnu::always_inline]] inline std::coroutine_handle<> end_fork_strand(fork_join& join) noexcept {
  if (join.steals == 0) {
    return join.parent;  // never stolen: every child ran here, in order
  }
  return arrive_at_join(join, fork_join::arrival_total - join.steals);
}

// Whether the strand's newest latent entry is a pcall's or a loop's pending call. A fork then runs
// inside that plain function's call: a coroutine that user code resumed inline (an event's set()
// calling resume()), since a plain function has no other way to run a coroutine on a worker
// (sync_wait refuses there). It must record nothing above the call's entry, which the function
// takes back as its newest, by strict nesting.
[[gnu::always_inline]] inline bool inside_plain_call(const latent_stack& stack) noexcept {
  const std::uint32_t size = stack.size.load(std::memory_order_relaxed);
  return size != stack.strand_base && (stack.entries[size - 1] & latent_job_tag) != 0;
}

// Out of line, in lib/core: makes the rest of the fork runnable at once, from the injection queue,
// like a stolen rest; false, with nothing done, if the queue cannot grow.
bool publish_fork_rest_elsewhere(fork_join& join) noexcept;

// Publishes child `index` as the rest of the fork, on the calling worker's latent stack (or, inside
// a plain function's call, in the injection queue); if it cannot (not on a worker, or no memory),
// its predecessor will start it directly.
[[gnu::always_inline]] inline void publish_fork_rest(fork_join& join, std::uint32_t index) noexcept {
  latent_stack* const self = this_thread_latent_stack();
  if (self != nullptr) [[likely]] {
    join.published.store(index, std::memory_order_relaxed);
    if (inside_plain_call(*self)) [[unlikely]] {
      if (publish_fork_rest_elsewhere(join)) {
        return;
      }
    } else {
      try {
        latent_push(*self, latent_entry_of(join));
        return;
      } catch (...) {
        // std::bad_alloc, with nothing recorded: the fork goes on serially from here
      }
    }
  }
  join.published.store(fork_join::unpublished_after | (index - 1), std::memory_order_relaxed);
}

// Starts child `index` in the calling strand, which holds the rest of the fork: publishes the
// child after it, and returns the child to transfer to; or, once a child has failed, skips the rest.
[[gnu::always_inline]] inline std::coroutine_handle<> start_fork_child(fork_join& join, std::uint32_t index) noexcept {
  // Read before publishing anything: until then only lower-numbered children can have run, so a
  // skip is only ever caused by an earlier failure, and the failure rethrown is the one a serial run
  // would throw. relaxed: a skip is an optimisation; a child that misses the flag runs.
  if (join.failed.load(std::memory_order_relaxed)) [[unlikely]] {
    return end_fork_strand(join);  // the children from `index` on never start
  }
  if (index + 1 < join.count) {
    publish_fork_rest(join, index + 1);
  }
  return join.children[index];
}

// Starts the fork from the parent's await_suspend: returns child 0 to transfer to.
inline std::coroutine_handle<> fork_start(fork_join& join, std::coroutine_handle<> parent) noexcept {
  join.parent = parent;
  return start_fork_child(join, 0);
}

// The rest of the fork, taken from a deque (lib/core's run_strand): the fork splits, and this
// strand continues it. Out of line. What to transfer to.
std::coroutine_handle<> start_stolen_fork_rest(fork_join& join) noexcept;

// Runs as a fork child finishes: what to transfer to next.
[[gnu::always_inline]] inline std::coroutine_handle<> fork_child_finished(task_promise_base& child) noexcept {
  fork_join& join = *child.join();
  if (child.failure() != nullptr) [[unlikely]] {
    join.failed.store(true, std::memory_order_relaxed);
  }
  const std::uint32_t index = child.fork_index();
  const std::uint32_t next = index + 1;
  if (next == join.count) {
    return end_fork_strand(join);
  }
  // The entry is the join's for every child: `published` tells whether it is still this child's
  // (it changes when it is taken), or whether this child published nothing.
  const std::uint32_t published = join.published.load(std::memory_order_relaxed);
  if (published == next) [[likely]] {
    latent_stack* const self = this_thread_latent_stack();
    // Not taken back: this child resumed in another strand after suspending (its entry went to
    // the deque then), or, resumed inline by user code, it finishes above entries not its own, and
    // its entry, still latent below them, will run from the deque. Either way, like a stolen one.
    if (self != nullptr && latent_take_back_if_newest(*self, latent_entry_of(join))) [[likely]] {
      return start_fork_child(join, next);
    }
  } else if (published == (fork_join::unpublished_after | index)) {
    return start_fork_child(join, next);  // nothing was published: run the successor serially
  }
  return arrive_at_join(join, 1);  // someone else has the rest of the fork; this strand ends here
}

}  // namespace pulse::detail
