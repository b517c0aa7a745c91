// What a worker runs: the rest of a fork (its join, whose next child is to start) or a stack_job to
// execute (pcall's later calls, a split-off loop range), from a deque, the latent stack or the
// injection queue; or a coroutine to resume (sync_wait's root and spawned tasks, from the injection
// queue; tasks that I/O completed). One word, tagged in its low bits (latent_stack.hpp).
#pragma once

#include <pulse/detail/fork_join.hpp>
#include <pulse/detail/stack_job.hpp>

#include <coroutine>
#include <cstdint>

namespace pulse::detail {

class work_item {
public:
  work_item() noexcept = default;
  static work_item coroutine(std::coroutine_handle<> handle) noexcept {
    return work_item{reinterpret_cast<std::uintptr_t>(handle.address())};
  }
  static work_item job(stack_job& job) noexcept { return work_item{latent_entry_of(job)}; }
  // As stored on the latent stack (include/pulse/detail/latent_stack.hpp).
  static work_item from_bits(latent_entry bits) noexcept { return work_item{bits}; }
  latent_entry bits() const noexcept { return m_bits; }

  explicit operator bool() const noexcept { return m_bits != 0; }
  bool is_job() const noexcept { return (m_bits & latent_job_tag) != 0; }
  stack_job& as_job() const noexcept { return *reinterpret_cast<stack_job*>(m_bits & ~latent_job_tag); }
  bool is_fork_rest() const noexcept { return (m_bits & latent_fork_rest_tag) != 0; }
  fork_join& as_fork_rest() const noexcept { return *reinterpret_cast<fork_join*>(m_bits & ~latent_fork_rest_tag); }
  std::coroutine_handle<> as_coroutine() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(m_bits));
  }
  friend bool operator==(work_item, work_item) noexcept = default;

private:
  explicit work_item(std::uintptr_t bits) noexcept : m_bits(bits) {}
  std::uintptr_t m_bits = 0;
};

}  // namespace pulse::detail
