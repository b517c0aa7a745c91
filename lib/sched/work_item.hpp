// What a worker's deque holds: either a coroutine to resume (a fork's next child, "the rest of the
// fork") or a stack_job to execute (pcall's later calls, a split-off loop range). One word, tagged
// in its low bit: coroutine frames come from the frame pools, 64-byte aligned, and stack_jobs are
// at least 8-byte aligned, so bit 0 is free in both.
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
  static work_item job(stack_job& job) noexcept { return work_item{reinterpret_cast<std::uintptr_t>(&job) | job_tag}; }

  explicit operator bool() const noexcept { return m_bits != 0; }
  bool is_job() const noexcept { return (m_bits & job_tag) != 0; }
  stack_job& as_job() const noexcept { return *reinterpret_cast<stack_job*>(m_bits & ~job_tag); }
  std::coroutine_handle<> as_coroutine() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(m_bits));
  }
  friend bool operator==(work_item, work_item) noexcept = default;

private:
  static constexpr std::uintptr_t job_tag = 1;
  static_assert(alignof(stack_job) >= 2);
  explicit work_item(std::uintptr_t bits) noexcept : m_bits(bits) {}
  std::uintptr_t m_bits = 0;
};

}  // namespace pulse::detail
