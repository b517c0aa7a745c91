// A value that counts its constructions, copies, moves and destructions, to check that every value
// passing through a task is created and destroyed exactly once, and never copied when a move will do.
#pragma once

#include <atomic>

namespace pulse_test {

struct counted {
  static inline std::atomic<int> constructed{0};
  static inline std::atomic<int> copied{0};
  static inline std::atomic<int> moved{0};
  static inline std::atomic<int> destroyed{0};

  static void reset() noexcept {
    constructed = 0;
    copied = 0;
    moved = 0;
    destroyed = 0;
  }
  static int alive() noexcept { return constructed + copied + moved - destroyed; }

  explicit counted(int v = 0) noexcept : value(v) { ++constructed; }
  counted(const counted& other) noexcept : value(other.value) { ++copied; }
  counted(counted&& other) noexcept : value(other.value) { ++moved; }
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
  ~counted() { ++destroyed; }

  int value;
};

}  // namespace pulse_test
