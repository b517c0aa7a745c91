#include "topo/hwloc_topology.hpp"

#include <sched.h>

#include <cstdio>
#include <mutex>

namespace pulse::detail {

hwloc_topology_t process_topology() noexcept {
  static hwloc_topology_t topology = [] {
    hwloc_topology_t loaded = nullptr;
    if (hwloc_topology_init(&loaded) != 0) {
      std::fputs("pulse: warning: hwloc_topology_init failed; assuming a single NUMA node\n", stderr);
      return hwloc_topology_t{};
    }
    if (hwloc_topology_load(loaded) != 0) {
      std::fputs("pulse: warning: hwloc could not load the topology; assuming a single NUMA node\n", stderr);
      hwloc_topology_destroy(loaded);
      return hwloc_topology_t{};
    }
    return loaded;
  }();
  return topology;
}

int current_numa_node() noexcept {
  unsigned cpu = 0;
  unsigned node = 0;
  return getcpu(&cpu, &node) == 0 ? static_cast<int>(node) : 0;
}

}  // namespace pulse::detail
