// The per-thread trampoline behind detail::transfer_to in PULSE_BOUNDED_TRANSFER builds; see
// include/pulse/detail/transfer.hpp for why it exists.
#include <pulse/detail/transfer.hpp>

#include <utility>

namespace pulse::detail {
namespace {

struct trampoline {
  bool running = false;
  // At most one handle is ever parked: each resume() ends in at most one transfer.
  std::coroutine_handle<> parked;
};

// Only touched from these out-of-line functions, never from a coroutine body, so clang's caching
// of thread_local addresses across suspension points (llvm #47179) cannot reach it.
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
  // to the end; the slot is empty whenever user code runs, so nothing of the outer loop is lost.
  const bool outer_running = std::exchange(self.running, true);
  do {
    handle.resume();
    handle = std::exchange(self.parked, {});
  } while (handle);
  self.running = outer_running;
}

}  // namespace pulse::detail
