// Symmetric transfer with a bounded stack on every compiler.
//
// Awaiting a task resumes it by returning its handle from await_suspend ("symmetric transfer").
// The standard lets that be a tail call, and clang makes it one at every optimisation level, so a
// loop of a million co_awaits of tasks that complete at once runs in constant stack. GCC 12 makes it
// a tail call only at -O2 and above without sanitizers, and its preprocessor cannot tell -O1 or -Og
// from -O2; elsewhere each transfer nests two frames deeper, and such a loop overflows the stack.
//
// So with GCC (PULSE_BOUNDED_TRANSFER) every transfer first compares the stack pointer with a
// per-thread floor. Above it, the transfer is an ordinary symmetric transfer (a tail call where GCC
// makes one, and then the stack never reaches the floor). Below it, the next handle is parked in the
// thread's trampoline and await_suspend returns noop_coroutine(): every nested resume() returns,
// the stack unwinds to the trampoline loop at the bottom of the thread (detail::resume), and that
// loop resumes the parked handle. The check is a thread-local load and a compare.
//
// GCC reads thread_locals afresh after a coroutine resumes on another thread (checked at -O0 to
// -O3); clang may not (llvm #47179), which is one more reason clang never takes this path.
// Define PULSE_BOUNDED_TRANSFER=0 to drop the check with GCC when tail calls are guaranteed.
#pragma once

#include <coroutine>
#include <cstdint>

#ifndef PULSE_BOUNDED_TRANSFER
#  if defined(__GNUC__) && !defined(__clang__)
#    define PULSE_BOUNDED_TRANSFER 1
#  else
#    define PULSE_BOUNDED_TRANSFER 0
#  endif
#endif

namespace pulse::detail {

// The lowest stack address transfers may nest down to on this thread; 0 where no trampoline runs
// (then nothing can be parked, and transfers are always direct). Set by detail::resume.
inline thread_local std::uintptr_t t_transfer_stack_floor = 0;

// Parks `next` in this thread's trampoline and returns noop_coroutine(); with no trampoline
// running on this thread it returns `next` itself (a plain symmetric transfer).
std::coroutine_handle<> defer_to_trampoline(std::coroutine_handle<> next) noexcept;

// Resumes `handle`, then every handle that the resumed code parked in the trampoline, until none
// is left. Every place where the runtime starts or resumes a coroutine goes through here.
void resume(std::coroutine_handle<> handle) noexcept;

// What an await_suspend returns to hand the thread to `next`.
[[gnu::always_inline]] inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
#if PULSE_BOUNDED_TRANSFER
  if (reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0)) < t_transfer_stack_floor) [[unlikely]] {
    return defer_to_trampoline(next);
  }
#endif
  return next;
}

}  // namespace pulse::detail
