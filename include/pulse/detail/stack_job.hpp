// A piece of work that lives in its creator's stack frame: pcall's later calls, the half of a
// loop range a heartbeat split off. Like a fork's continuation it is first latent, then perhaps
// promoted to the worker's deque, where a thief may take it; its creator takes it back and runs it
// inline if no thief did, and otherwise waits for it (running other work meanwhile) before its
// frame is left. So the job never outlives the frame that holds it.
#pragma once

#include <pulse/detail/latent_stack.hpp>

#include <atomic>
#include <cassert>
#include <cstdint>

namespace pulse::detail {

class stack_job {
public:
  using body = void (*)(stack_job&) noexcept;

  explicit stack_job(body run) noexcept : m_run(run) {}
  stack_job(const stack_job&) = delete;
  stack_job& operator=(const stack_job&) = delete;

  // Called as the job is promoted, before the deque makes it visible to thieves (whose steal
  // acquires what the push released): only a promoted job is ever waited for, so a job that stays
  // latent, the common case, never pays for the store.
  void arm() noexcept { std::atomic_ref<std::uint32_t>(m_done).store(0, std::memory_order_relaxed); }
  // Runs the body (on a thief, or inline), then marks the job done.
  void execute() noexcept {
    m_run(*this);
    // release: the body's results happen before the creator, which acquires `done`, reads them.
    std::atomic_ref<std::uint32_t>(m_done).store(1, std::memory_order_release);
  }
  bool done() noexcept { return std::atomic_ref<std::uint32_t>(m_done).load(std::memory_order_acquire) != 0; }

private:
  body m_run;
  alignas(std::atomic_ref<std::uint32_t>::required_alignment) std::uint32_t m_done;  // set by arm()
};

// As a latent_stack entry, tagged (latent_stack.hpp).
inline latent_entry latent_entry_of(stack_job& job) noexcept {
  static_assert(alignof(stack_job) > latent_tag_mask);
  return reinterpret_cast<latent_entry>(&job) | latent_job_tag;
}

// Records `job` as the newest latent work of the calling worker, whose stack this is, in room the
// caller made with latent_reserve.
inline void publish_job(latent_stack& stack, stack_job& job) noexcept {
  latent_push<true>(stack, latent_entry_of(job));
}
// The same without a reservation: throws std::bad_alloc, having recorded nothing, if the stack
// cannot grow.
inline void publish_job_unreserved(latent_stack& stack, stack_job& job) { latent_push(stack, latent_entry_of(job)); }
// Takes `job` back, if no thief took it (then the caller runs it inline); false if a thief has it.
// Strict nesting: what comes back, if anything, is this job.
inline bool reclaim_job(latent_stack& stack, [[maybe_unused]] stack_job& job) noexcept {
  assert(stack.size.load(std::memory_order_relaxed) == stack.strand_base ||
         stack.entries[stack.size.load(std::memory_order_relaxed) - 1] == latent_entry_of(job));
  return latent_take_back(stack);
}

// Runtime hooks, defined in lib/core.
// As publish_job, and promoted at once (a loop splits only when its heartbeat is due). Only on a
// worker: poll_heartbeat_for_loop never says split anywhere else.
void publish_job_promoted(stack_job& job);
// Runs other work on this worker until `job` is done.
void wait_for_job(stack_job& job) noexcept;

// How many iterations a loop may run before asking again whether a heartbeat is due; and whether
// one is due now (then the loop splits off half of what remains). Off the workers: never.
struct loop_poll {
  std::uint32_t iterations_until_next_poll;
  bool split_now;
};
loop_poll poll_heartbeat_for_loop() noexcept;

}  // namespace pulse::detail
