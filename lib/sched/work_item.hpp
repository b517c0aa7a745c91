// What a worker's deque holds: either a coroutine to resume (a fork's next child, "the rest of the
// fork") or a stack_job to execute (pcall's later calls, a split-off loop range). One word, tagged
// in its low bit (latent_entry_of in stack_job.hpp), the same word the latent stack holds.
#pragma once

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
  bool is_job() const noexcept { return (m_bits & job_tag) != 0; }
  stack_job& as_job() const noexcept { return *reinterpret_cast<stack_job*>(m_bits & ~job_tag); }
  std::coroutine_handle<> as_coroutine() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(m_bits));
  }
  friend bool operator==(work_item, work_item) noexcept = default;

private:
  static constexpr std::uintptr_t job_tag = 1;
  explicit work_item(std::uintptr_t bits) noexcept : m_bits(bits) {}
  std::uintptr_t m_bits = 0;
};

}  // namespace pulse::detail
