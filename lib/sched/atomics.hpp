// The atomics the lock-free structures are written against. std_atomics is what pulse runs;
// the Relacy model test (tests/model/) supplies a policy of the same shape backed by rl::atomic,
// so the algorithm text that ships is the text that is model-checked.
//
// PULSE_FENCE_FREE_ATOMICS: ThreadSanitizer does not model std::atomic_thread_fence and reports
// races that the fences exclude. TSan builds therefore use the fence-free formulation of each
// algorithm (the ordering a fence supplied moves onto the neighbouring operations, which is never
// weaker); see each structure's header comment for the exact substitution.
#pragma once

#include <atomic>

#ifndef PULSE_FENCE_FREE_ATOMICS
#  if defined(__SANITIZE_THREAD__)
#    define PULSE_FENCE_FREE_ATOMICS 1
#  elif defined(__has_feature)
#    if __has_feature(thread_sanitizer)
#      define PULSE_FENCE_FREE_ATOMICS 1
#    endif
#  endif
#endif
#ifndef PULSE_FENCE_FREE_ATOMICS
#  define PULSE_FENCE_FREE_ATOMICS 0
#endif

namespace pulse::detail {

// A sequentially consistent fence. On x86-64 a locked read-modify-write of a stack word is a full
// barrier for ordinary (write-back) memory, as mfence is, at about half the cost; GCC emits one
// (lock or of (%rsp)) for a seq_cst fence, clang emits mfence (an eager fork, two fences each, ran
// 1.7x slower with it). The Linux kernel's smp_mb() is the same kind of instruction (lock add of
// -4(%rsp)). It does not order non-temporal stores, which pulse does not use. The "memory"
// clobber keeps the compiler from moving memory accesses across it, as a fence does. TSan builds
// keep the standard fence.
inline void seq_cst_fence() noexcept {
#if defined(__x86_64__) && !PULSE_FENCE_FREE_ATOMICS
  asm volatile("lock orl $0, -4(%%rsp)" ::: "memory", "cc");
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

struct std_atomics {
  template <typename T>
  using atomic = std::atomic<T>;

  static constexpr bool fence_free = PULSE_FENCE_FREE_ATOMICS != 0;

  template <typename T>
  static T load(const atomic<T>& a, std::memory_order order) noexcept {
    return a.load(order);
  }
  template <typename T>
  static void store(atomic<T>& a, T value, std::memory_order order) noexcept {
    a.store(value, order);
  }
  template <typename T>
  static bool compare_exchange_strong(atomic<T>& a, T& expected, T desired, std::memory_order success,
                                      std::memory_order failure) noexcept {
    return a.compare_exchange_strong(expected, desired, success, failure);
  }
  template <typename T>
  static T fetch_add(atomic<T>& a, T value, std::memory_order order) noexcept {
    return a.fetch_add(value, order);
  }
  template <typename T>
  static T fetch_sub(atomic<T>& a, T value, std::memory_order order) noexcept {
    return a.fetch_sub(value, order);
  }
  static void fence(std::memory_order order) noexcept {
    if (order == std::memory_order_seq_cst) {
      seq_cst_fence();
    } else {
      std::atomic_thread_fence(order);
    }
  }
};

// Marks `flag` for its scope, for a signal handler on the same thread that reads it: the handler
// then knows it interrupted the code in between, and leaves alone what that code was changing.
// The signal fences keep the compiler from moving the scope's memory accesses out past the flag.
// Scopes nest: the flag gets its previous value back.
class signal_guarded_scope {
public:
  explicit signal_guarded_scope(volatile bool& flag) noexcept : m_flag(flag), m_was_set(flag) {
    m_flag = true;
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
  ~signal_guarded_scope() {
    std::atomic_signal_fence(std::memory_order_seq_cst);
    m_flag = m_was_set;
  }
  signal_guarded_scope(const signal_guarded_scope&) = delete;
  signal_guarded_scope& operator=(const signal_guarded_scope&) = delete;

private:
  volatile bool& m_flag;
  const bool m_was_set;
};

}  // namespace pulse::detail
