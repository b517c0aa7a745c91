// Which workers a thief tries, and in what order: every other worker once per round, starting at
// a random one so that thieves spread over victims instead of all hitting worker 0. The topology
// work replaces this with distance tiers (SMT sibling, shared cache, NUMA node, anywhere).
#pragma once

#include <cstdint>

namespace pulse::detail {

// xorshift64*: a few cycles per number and good enough to decorrelate thieves. Not for anything
// that needs unpredictability.
class fast_random {
public:
  explicit fast_random(std::uint64_t seed) noexcept : m_state(seed == 0 ? 0x9E3779B97F4A7C15ULL : seed) {}
  std::uint64_t next() noexcept {
    m_state ^= m_state >> 12;
    m_state ^= m_state << 25;
    m_state ^= m_state >> 27;
    return m_state * 0x2545F4914F6CDD1DULL;
  }
  // Uniform enough in [0, bound) for bound far below 2^32.
  unsigned below(unsigned bound) noexcept {
    return static_cast<unsigned>(((next() >> 32) * static_cast<std::uint64_t>(bound)) >> 32);
  }

private:
  std::uint64_t m_state;
};

// Calls try_victim(v) for each worker v other than `self`, in a random rotation, until it
// returns true. Returns whether one did.
template <typename TryVictim>
bool for_each_victim(unsigned self, unsigned workers, fast_random& random, TryVictim&& try_victim) {
  if (workers < 2) {
    return false;
  }
  const unsigned others = workers - 1;
  const unsigned start = random.below(others);
  for (unsigned k = 0; k < others; ++k) {
    unsigned victim = (start + k) % others;
    victim += victim >= self ? 1U : 0U;  // skip ourselves
    if (try_victim(victim)) {
      return true;
    }
  }
  return false;
}

}  // namespace pulse::detail
