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
  // The worker running the strand that holds the fork's continuation; a child that starts anywhere
  // else was stolen. Opaque: only compared.
  const void* holder = nullptr;
  std::uint32_t steals = 0;

  std::atomic<std::uint32_t> arrivals{0};
  // Set when a child ends with an exception: siblings that have not started are skipped. A hint
  // only (relaxed); the results themselves are read after the join.
  std::atomic<bool> failed{false};
};

// Starts the fork from the parent's await_suspend: records the parent and the current worker,
// and returns child 0 to transfer to.
std::coroutine_handle<> fork_start(fork_join& join, std::coroutine_handle<> parent) noexcept;

}  // namespace pulse::detail
