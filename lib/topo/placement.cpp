#include "topo/placement.hpp"

namespace pulse::detail {

unsigned default_worker_count(const topology& machine, bool smt) noexcept {
  return static_cast<unsigned>(smt ? machine.pus.size() : machine.cores.size());
}

std::vector<worker_placement> plan_placement(const topology& machine, unsigned workers, bool pin) {
  // Round r takes the r-th hardware thread of every core that has one.
  std::vector<unsigned> order;
  order.reserve(machine.pus.size());
  for (std::size_t round = 0; order.size() < machine.pus.size(); ++round) {
    for (const topology::core& core : machine.cores) {
      if (round < core.pus.size()) {
        order.push_back(core.pus[round]);
      }
    }
  }
  std::vector<worker_placement> placements(workers);
  for (unsigned worker = 0; worker < workers; ++worker) {
    placements[worker] = {order[worker % order.size()], pin};
  }
  return placements;
}

distance distance_between(const topology& machine, unsigned pu_a, unsigned pu_b) noexcept {
  const unsigned a = machine.pus[pu_a].core;
  const unsigned b = machine.pus[pu_b].core;
  if (a == b) {
    return distance::same_core;
  }
  const auto share = [&](unsigned level) {
    const int cache = machine.cache_of(a, level);
    return cache >= 0 && cache == machine.cache_of(b, level);
  };
  if (share(2)) {
    return distance::same_l2;
  }
  if (share(3)) {
    return distance::same_l3;
  }
  return machine.cores[a].numa_node == machine.cores[b].numa_node ? distance::same_node : distance::anywhere;
}

}  // namespace pulse::detail
