// The Relacy Race Detector's atomics behind the policy interface of lib/sched/atomics.hpp, so the
// deque that ships is the deque that is model-checked. Relacy explores thread interleavings and
// the weak-memory behaviours C++11 allows (stale loads, reordering around relaxed operations).
//
// Include this after the code under test: relacy.hpp #defines new, delete and the
// memory_order_* names, which would rewrite `= delete` and std::memory_order_relaxed in the
// headers that follow it. Template code included earlier is instantiated with this policy all the
// same. Below, orders are spelt std::memory_order::relaxed (C++20), which the macros leave alone.
#pragma once

#include <atomic>

#include <relacy/relacy.hpp>

namespace pulse_model {

constexpr rl::memory_order to_relacy(std::memory_order order) {
  switch (order) {
    case std::memory_order::relaxed: return rl::mo_relaxed;
    case std::memory_order::consume: return rl::mo_consume;
    case std::memory_order::acquire: return rl::mo_acquire;
    case std::memory_order::release: return rl::mo_release;
    case std::memory_order::acq_rel: return rl::mo_acq_rel;
    case std::memory_order::seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

struct relacy_atomics {
  template <typename T>
  using atomic = rl::atomic<T>;

  // Relacy models fences, so the model checks the fence formulation that release builds run.
  static constexpr bool fence_free = false;

  template <typename T>
  static T load(const atomic<T>& a, std::memory_order order) {
    return a($).load(to_relacy(order));
  }
  template <typename T>
  static void store(atomic<T>& a, T value, std::memory_order order) {
    a($).store(value, to_relacy(order));
  }
  template <typename T>
  static bool compare_exchange_strong(atomic<T>& a, T& expected, T desired, std::memory_order success,
                                      std::memory_order failure) {
    return a($).compare_exchange_strong(expected, desired, to_relacy(success), to_relacy(failure));
  }
  template <typename T>
  static T fetch_add(atomic<T>& a, T value, std::memory_order order) {
    return a($).fetch_add(value, to_relacy(order));
  }
  template <typename T>
  static T fetch_sub(atomic<T>& a, T value, std::memory_order order) {
    return a($).fetch_sub(value, to_relacy(order));
  }
  static void fence(std::memory_order order) { rl::atomic_thread_fence(to_relacy(order), $); }
};

}  // namespace pulse_model
