// Symmetric transfer with a bounded stack on every compiler.
//
// Awaiting a task resumes it by returning its handle from await_suspend ("symmetric transfer").
// The standard lets that be a tail call, and clang and optimised GCC make it one, so a loop of
// a million co_awaits of tasks that complete at once runs in constant stack. GCC 12 makes it a
// nested call below -O2 and under ASan/TSan, and such a loop overflows the stack.
//
// In those builds every transfer goes through a per-thread trampoline instead: await_suspend
// parks the next handle in a thread-local slot and returns noop_coroutine(), the current resume()
// returns, and the trampoline loop at the bottom of the thread (detail::resume) resumes the parked
// handle. Each transfer then costs a call into the library, which only these builds pay.
//
// Override with -DPULSE_BOUNDED_TRANSFER=1 where the compiler's tail calls are in doubt (GCC at
// -O1 or -Og, which this test cannot see from the preprocessor).
#pragma once

#include <coroutine>

#ifndef PULSE_BOUNDED_TRANSFER
#  if defined(__GNUC__) && !defined(__clang__) && \
      (!defined(__OPTIMIZE__) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__))
#    define PULSE_BOUNDED_TRANSFER 1
#  else
#    define PULSE_BOUNDED_TRANSFER 0
#  endif
#endif

namespace pulse::detail {

// Parks `next` in this thread's trampoline and returns noop_coroutine(); with no trampoline
// running on this thread it returns `next` itself (a plain symmetric transfer).
std::coroutine_handle<> defer_to_trampoline(std::coroutine_handle<> next) noexcept;

// Resumes `handle`, then every handle that the resumed code parked in the trampoline, until none
// is left. Every place where the runtime starts or resumes a coroutine goes through here.
void resume(std::coroutine_handle<> handle) noexcept;

// What an await_suspend returns to hand the thread to `next`.
[[gnu::always_inline]] inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
#if PULSE_BOUNDED_TRANSFER
  return defer_to_trampoline(next);
#else
  return next;
#endif
}

}  // namespace pulse::detail
