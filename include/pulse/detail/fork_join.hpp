// The join state of one pulse::fork / pulse::fork_all: lives in the awaitable, in the parent's
// frame, for as long as the parent is suspended on the fork.
//
// Continuation stealing, one strand at a time. The parent runs child 0 at once. Each child, when it
// starts, publishes the next sibling ("the rest of the fork") for thieves; when it finishes, it
// takes that sibling back and runs it, as a plain call would. If a thief took it, the fork splits
// into strands: the thief continues the fork from there, and the worker whose sibling was taken
// ends its strand at the join.
//
// Joining. The strand that runs the last child holds the fork's bookkeeping (holder, steals), which
// passes between workers with the deque's own synchronisation. If nothing was stolen it resumes the
// parent directly: no atomic read-modify-write on that path. Otherwise every strand adds to
// `arrivals`: 1 for each strand that ended early (there is one per steal), and arrival_total -
// steals for the last one, so the sum reaches arrival_total exactly when every strand is done,
// whatever the order; whoever brings it there resumes the parent.
#pragma once

#include <pulse/detail/latent_stack.hpp>
#include <pulse/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>

namespace pulse::detail {

class fork_join {
public:
  static constexpr std::uint32_t arrival_total = 1U << 30;

  fork_join() noexcept = default;
  fork_join(const fork_join&) = delete;
  fork_join& operator=(const fork_join&) = delete;

  // The children's coroutines, in order; owned by the awaitable.
  const std::coroutine_handle<>* children = nullptr;
  std::uint32_t count = 0;

  std::coroutine_handle<> parent;
  // The strand (latent_stack::strand) that holds the fork's continuation; a child that starts in
  // any other strand was taken by someone else. 0 off the workers.
  std::uint64_t holder = 0;
  std::uint32_t steals = 0;

  std::atomic<std::uint32_t> arrivals{0};
  // Set by every child that ends with an exception (fork_child_finished), before its strand
  // arrives at the join. Before the join, a hint (relaxed): a sibling that has not started is
  // skipped if it sees the flag, and runs if it misses it. After the join, exact: the parent reads
  // it (any_child_failed) to know whether every child returned a value.
  std::atomic<bool> failed{false};
};

// The hooks, inline: on the path where nothing is stolen they are a few plain loads and stores
// and the latent stack's fast paths. Off the workers (no latent stack) nothing is published and the
// children simply run in order.

// Starts the fork from the parent's await_suspend: records the parent and the current worker,
// and returns child 0 to transfer to.
inline std::coroutine_handle<> fork_start(fork_join& join, std::coroutine_handle<> parent) noexcept {
  join.parent = parent;
  const latent_stack* const self = this_thread_latent_stack();
  join.holder = self != nullptr ? self->strand : 0;
  return join.children[0];
}

// Out of line, cold: throws what makes a skipped child's body never run.
[[noreturn]] void skip_fork_child(task_promise_base& child);
// Out of line: adds `amount` to the join's arrivals; the parent if that completed the sum.
std::coroutine_handle<> arrive_at_join(fork_join& join, std::uint32_t amount) noexcept;

// Read by the parent after the join. relaxed: every child's finish, which sets the flag, happens
// before the parent resumes (same thread, or through the arrivals' acq_rel sum).
inline bool any_child_failed(const fork_join& join) noexcept { return join.failed.load(std::memory_order_relaxed); }

// Runs as a fork child first resumes, on whichever worker that is.
[[gnu::always_inline]] inline void fork_child_starting(task_promise_base& child) {
  fork_join& join = *child.join();
  latent_stack* const self = this_thread_latent_stack();
  const std::uint64_t strand = self != nullptr ? self->strand : 0;
  // The holder fields pass to whoever runs this: a thief read them after acquiring the published
  // sibling from the deque, which the previous holder pushed after writing them.
  if (strand != join.holder) [[unlikely]] {
    ++join.steals;
    join.holder = strand;
  }
  // Read before publishing the next sibling: until then only lower-numbered children can have run,
  // so a skip is only ever caused by an earlier failure, and the failure rethrown is the one a
  // serial run would throw. relaxed: a skip is an optimisation; a child that misses the flag runs.
  const bool skip = join.failed.load(std::memory_order_relaxed);
  const std::uint32_t next = child.fork_index() + 1;
  if (next < join.count && self != nullptr) {
    // Even when skipping: the finish path takes it back.
    try {
      latent_push(*self, reinterpret_cast<latent_entry>(join.children[next].address()));
    } catch (...) {
      child.mark_sibling_unpublished();  // the stack could not grow: nothing to take back
      throw;
    }
  }
  if (skip) [[unlikely]] {
    skip_fork_child(child);
  }
}

// Runs as a fork child finishes: what to transfer to next.
[[gnu::always_inline]] inline std::coroutine_handle<> fork_child_finished(task_promise_base& child) noexcept {
  fork_join& join = *child.join();
  if (child.failure() != nullptr) [[unlikely]] {
    join.failed.store(true, std::memory_order_relaxed);
  }
  const std::uint32_t next = child.fork_index() + 1;
  if (next < join.count) {
    latent_stack* const self = this_thread_latent_stack();
    if (self == nullptr || child.sibling_unpublished()) [[unlikely]] {
      return join.children[next];  // nothing was published: run serially
    }
    if (latent_take_back(*self)) {
      return join.children[next];  // nobody took it: carry on as a plain call would
    }
    return arrive_at_join(join, 1);  // a thief has the rest of the fork; this strand ends here
  }
  if (join.steals == 0) {
    return join.parent;  // never stolen: every child ran here, in order
  }
  return arrive_at_join(join, fork_join::arrival_total - join.steals);
}

}  // namespace pulse::detail
