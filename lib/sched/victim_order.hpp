// Which workers a thief tries, and in what order: by distance, nearest first. Stolen work carries
// its data with it, and a thief that shares a cache (or at least a NUMA node) with the victim finds
// that data close by. The tiers are SMT siblings, then workers sharing an L2, then an L3, then the
// NUMA node, then everyone else (lib/topo/placement.hpp). Inside a tier the start is random, so
// thieves spread over their equals instead of all hitting the same one; between tiers a thief pauses
// a little longer each time, so nearby work that is about to appear is taken by a near thief
// before a far one pays for the trip. Workers that are not pinned have no distance: every other
// worker is in the last tier.
#pragma once

#include "sched/cpu_relax.hpp"
#include "topo/placement.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

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

// Every other worker of a runtime, grouped by distance from one worker.
class victim_tiers {
public:
  // Tiers for worker `self` of a runtime whose workers are placed as `placements`.
  victim_tiers(const topology& machine, const std::vector<worker_placement>& placements, unsigned self);

  std::span<const unsigned> tier(distance d) const noexcept {
    const auto t = static_cast<unsigned>(d);
    return std::span<const unsigned>(m_victims).subspan(m_starts[t], m_starts[t + 1] - m_starts[t]);
  }

private:
  std::vector<unsigned> m_victims;  // sorted by distance
  std::array<std::size_t, distance_count + 1> m_starts{};
};

// Pause units before the first farther tier; doubled for each tier after it.
inline constexpr int tier_backoff_pauses = 8;

// Calls try_victim(v) for the victims in `tiers`, nearest tier first, in a random rotation within
// each tier, until it returns true. Returns whether one did.
template <typename TryVictim>
bool for_each_victim(const victim_tiers& tiers, fast_random& random, TryVictim&& try_victim) {
  int pauses = 0;  // none before the nearest non-empty tier
  for (unsigned t = 0; t < distance_count; ++t) {
    const std::span<const unsigned> tier = tiers.tier(static_cast<distance>(t));
    if (tier.empty()) {
      continue;
    }
    for (int i = 0; i < pauses; ++i) {
      cpu_relax();
    }
    pauses = pauses == 0 ? tier_backoff_pauses : pauses * 2;
    const auto size = static_cast<unsigned>(tier.size());
    const unsigned start = random.below(size);
    for (unsigned k = 0; k < size; ++k) {
      if (try_victim(tier[(start + k) % size])) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace pulse::detail
