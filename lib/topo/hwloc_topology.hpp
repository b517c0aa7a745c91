// The process's hwloc topology, loaded once on first use. The only place the topology object is
// created; lib/topo and lib/mem query it. <hwloc.h> stays inside lib/.
#pragma once

#include <hwloc.h>

namespace pulse::detail {

// Null if hwloc could not load a topology (then callers fall back to a flat, single-node view).
hwloc_topology_t process_topology() noexcept;

// The NUMA node the calling thread is running on (the kernel's node number), 0 if unknown.
int current_numa_node() noexcept;

}  // namespace pulse::detail
