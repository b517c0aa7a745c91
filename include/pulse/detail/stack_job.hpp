// A piece of work that lives in its creator's stack frame: pcall's later calls, the half of a
// loop range a heartbeat split off. Like a fork's continuation it is first latent, then perhaps
// promoted to the worker's deque, where a thief may take it; its creator takes it back and runs it
// inline if no thief did, and otherwise waits for it (running other work meanwhile) before its
// frame is left. So the job never outlives the frame that holds it.
#pragma once

#include <atomic>
#include <cstdint>

namespace pulse::detail {

class stack_job {
public:
  using body = void (*)(stack_job&) noexcept;

  explicit stack_job(body run) noexcept : m_run(run) {}
  stack_job(const stack_job&) = delete;
  stack_job& operator=(const stack_job&) = delete;

  // Runs the body (on a thief, or inline), then marks the job done.
  void execute() noexcept {
    m_run(*this);
    // release: the body's results happen before the creator, which acquires `done`, reads them.
    m_done.store(1, std::memory_order_release);
  }
  bool done() const noexcept { return m_done.load(std::memory_order_acquire) != 0; }

private:
  body m_run;
  std::atomic<std::uint32_t> m_done{0};
};

// Runtime hooks, defined in lib/core. On a thread that is not a worker, publish returns false and
// the caller runs everything inline.
bool publish_job(stack_job& job);
// As publish_job, and promoted at once (a loop splits only when its heartbeat is due). Only on a
// worker: poll_heartbeat_for_loop never says split anywhere else.
void publish_job_promoted(stack_job& job);
// The job, if no thief took it (the caller runs it inline); false if a thief has it.
bool reclaim_job(stack_job& job) noexcept;
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
