#include "topo/flat_topology.hpp"

namespace pulse::detail {

topology flat_topology(const std::vector<unsigned>& cpus) {
  const std::vector<unsigned> listed = cpus.empty() ? std::vector<unsigned>{0} : cpus;
  topology flat;
  flat.packages.resize(1);
  flat.numa_nodes.resize(1);
  for (const unsigned cpu : listed) {
    const auto index = static_cast<unsigned>(flat.cores.size());
    flat.cores.push_back({.os_index = cpu, .pus = {index}});
    flat.pus.push_back({cpu, index});
    flat.packages[0].cores.push_back(index);
    flat.numa_nodes[0].cores.push_back(index);
  }
  return flat;
}

}  // namespace pulse::detail
