// Reading a worker's thread_locals (its latent stack, its frame free lists) inline, from code that
// may be inlined into a coroutine body, where a resume may find the coroutine on another thread.
//
// GCC computes a thread_local's address afresh after every suspension (checked at -O0 to -O3), so
// a plain read is right. clang may compute it once per coroutine and reuse it after a resume on
// another thread (llvm #47179), reading the old thread's variable. On x86-64 ELF, pulse reads the
// variable with an asm volatile load through its initial-exec TLS offset: one `mov` from the GOT
// and one %fs-relative `mov`, which clang can neither cache nor move across a suspension point.
// The asm names the variable by its mangled symbol, so a renamed variable is a link error, not a
// silent wrong read. Initial-exec TLS is valid in executables and in shared libraries loaded at
// start-up, not in a dlopen'ed one. Elsewhere (another compiler or architecture, or
// PULSE_INLINE_THREAD_LOCALS=0) the fast paths call out of line, where every call reads afresh.
#pragma once

#ifndef PULSE_INLINE_THREAD_LOCALS
#  if defined(__GNUC__) && !defined(__clang__)
#    define PULSE_INLINE_THREAD_LOCALS 1
#  elif defined(__clang__) && defined(__x86_64__) && defined(__LP64__) && defined(__ELF__) && !defined(__ANDROID__)
#    define PULSE_INLINE_THREAD_LOCALS 1
#  else
#    define PULSE_INLINE_THREAD_LOCALS 0
#  endif
#endif

#if PULSE_INLINE_THREAD_LOCALS
#  if defined(__clang__) && !(defined(__x86_64__) && defined(__LP64__) && defined(__ELF__))
#    error "PULSE_INLINE_THREAD_LOCALS=1 with clang needs x86-64 ELF (LP64): set it to 0 here"
#  endif
#  if defined(__clang__)
// `variable` is a pointer-sized thread_local whose mangled name is `symbol` (a string literal).
#    define PULSE_DETAIL_READ_WORKER_THREAD_LOCAL(variable, symbol)                                        \
      ([]() noexcept {                                                                                   \
        static_assert(sizeof(variable) == 8, "the asm load reads 8 bytes");                              \
        decltype(variable) value;                                                                        \
        asm volatile("movq " symbol "@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0" : "=r"(value));         \
        return value;                                                                                    \
      }())
#  else
#    define PULSE_DETAIL_READ_WORKER_THREAD_LOCAL(variable, symbol) (variable)
#  endif
#endif
