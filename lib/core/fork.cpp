// The runtime side of pulse::fork: misuse errors, the start of a stolen rest of a fork, and the
// join's arrivals. See include/pulse/detail/fork_join.hpp for the protocol.
#include "core/runtime_impl.hpp"

#include <pulse/detail/fork_join.hpp>
#include <pulse/task.hpp>

#include <fmt/format.h>

#include <cassert>
#include <stdexcept>

namespace pulse::detail {
void throw_too_many_children(std::size_t count, const char* operation) {
  throw std::length_error(fmt::format("{}: {} tasks, more than a fork can join ({})", operation, count,
                                      fork_join::most_children - 1));
}

void throw_not_forkable(bool has_coroutine, std::size_t position, const char* operation) {
  if (!has_coroutine) {
    throw std::logic_error(fmt::format("{}: task {} is empty (default-constructed or moved from)", operation, position));
  }
  throw std::logic_error(fmt::format("{}: task {} has already been started; a task runs once", operation, position));
}

std::coroutine_handle<> start_stolen_fork_rest(fork_join& join) noexcept {
  // Taking the entry passed the fork's bookkeeping to this strand: the strand that held the rest
  // before wrote it before pushing the entry that this strand's deque pop or steal acquired.
  ++join.steals;
  return start_fork_child(join, join.published.load(std::memory_order_relaxed));
}

std::coroutine_handle<> arrive_at_join(fork_join& join, std::uint32_t amount) noexcept {
  // acq_rel: each strand's results (release) happen before the parent resumes (acquire) on the
  // strand whose arrival completes the sum.
  const std::uint32_t before = join.arrivals.fetch_add(amount, std::memory_order_acq_rel);
  return before + amount == fork_join::arrival_total ? join.parent : std::noop_coroutine();
}

}  // namespace pulse::detail

namespace pulse::detail {

void publish_job_promoted(stack_job& job) { this_thread_worker()->publish_promoted(work_item::job(job)); }

bool publish_fork_rest_elsewhere(fork_join& join) noexcept {
  worker* const self = this_thread_worker();
  if (!self->hand_off(work_item::from_bits(latent_entry_of(join)))) {
    return false;
  }
  count_fork(self->latent());
  return true;
}

// The latent stack's slow paths: the stack is the calling worker's own.
void latent_push_slow([[maybe_unused]] latent_stack& stack, latent_entry entry) {
  worker* const self = this_thread_worker();
  assert(&self->latent() == &stack);
  self->push_slow(entry);
}

latent_entry latent_pop_promoted([[maybe_unused]] latent_stack& stack) noexcept {
  worker* const self = this_thread_worker();
  assert(&self->latent() == &stack);
  return self->pop_promoted();
}

void latent_reserve_slow([[maybe_unused]] latent_stack& stack, std::uint32_t count) {
  worker* const self = this_thread_worker();
  assert(&self->latent() == &stack);
  self->reserve_slow(count);
}

latent_stack* this_thread_latent_stack_out_of_line() noexcept {
  worker* const self = this_thread_worker();
  return self != nullptr ? &self->latent() : nullptr;
}

void wait_for_job(stack_job& job) noexcept { this_thread_worker()->wait_for(job); }

loop_poll poll_heartbeat_for_loop() noexcept {
  worker* const self = this_thread_worker();
  return self != nullptr ? self->poll_for_loop() : loop_poll{1U << 30, false};
}

}  // namespace pulse::detail
