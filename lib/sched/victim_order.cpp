#include "sched/victim_order.hpp"

namespace pulse::detail {

victim_tiers::victim_tiers(const topology& machine, const std::vector<worker_placement>& placements, unsigned self) {
  const worker_placement& here = placements[self];
  std::array<std::vector<unsigned>, distance_count> by_distance;
  for (unsigned victim = 0; victim < placements.size(); ++victim) {
    if (victim == self) {
      continue;
    }
    const worker_placement& there = placements[victim];
    // A floating worker may be anywhere at the moment of the steal.
    const distance d = here.pinned && there.pinned ? distance_between(machine, here.pu, there.pu) : distance::anywhere;
    by_distance[static_cast<unsigned>(d)].push_back(victim);
  }
  for (unsigned t = 0; t < distance_count; ++t) {
    m_starts[t] = m_victims.size();
    m_victims.insert(m_victims.end(), by_distance[t].begin(), by_distance[t].end());
  }
  m_starts[distance_count] = m_victims.size();
}

}  // namespace pulse::detail
