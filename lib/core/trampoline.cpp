// The per-thread trampoline behind detail::transfer_to; see include/pulse/detail/transfer.hpp.
#include <pulse/detail/transfer.hpp>

#include <utility>

namespace pulse::detail {
namespace {

// How deep transfers may nest before they bounce. Far below any worker's stack (8 MiB), and deep
// enough that a bounce is rare even without tail calls.
constexpr std::uintptr_t nesting_budget = 256 * 1024;

struct trampoline {
  bool running = false;
  // At most one handle is ever parked: each resume() ends in at most one transfer.
  std::coroutine_handle<> parked;
};

// Only touched from these out-of-line functions, never from a coroutine body.
thread_local trampoline t_trampoline;

}  // namespace

std::coroutine_handle<> defer_to_trampoline(std::coroutine_handle<> next) noexcept {
  trampoline& self = t_trampoline;
  if (!self.running) {
    return next;
  }
  self.parked = next;
  return std::noop_coroutine();
}

void resume(std::coroutine_handle<> handle) noexcept {
  trampoline& self = t_trampoline;
  // A nested call (a coroutine started synchronously from inside another one) runs its own loop
  // to the end with its own floor; the slot is empty whenever user code runs, so nothing of the
  // outer loop is lost.
  const bool outer_running = std::exchange(self.running, true);
  const std::uintptr_t here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  const std::uintptr_t outer_floor = std::exchange(t_transfer_stack_floor, here - nesting_budget);
  do {
    handle.resume();
    handle = std::exchange(self.parked, {});
  } while (handle);
  t_transfer_stack_floor = outer_floor;
  self.running = outer_running;
}

}  // namespace pulse::detail
