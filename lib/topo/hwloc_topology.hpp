// The process's hwloc topology, loaded once on first use, and its translation into a
// pulse::topology. The only place a topology object is created; lib/topo and lib/mem query it.
// <hwloc.h> stays inside lib/.
#pragma once

#include <pulse/topology.hpp>

#include <hwloc.h>

#include <string>
#include <vector>

namespace pulse::detail {

// Null if hwloc could not load a topology; then it has printed one warning, the only one for the
// process, and callers fall back to a flat, single-node view.
hwloc_topology_t process_topology() noexcept;

// The NUMA node the calling thread is running on (the kernel's node number), 0 if unknown.
int current_numa_node() noexcept;

// `loaded` as a pulse::topology, keeping only the CPUs in `allowed` (the kernel's numbers,
// ascending; empty keeps every CPU hwloc lists) and the cores, caches, nodes and packages that hold
// one of them.
topology topology_from_hwloc(hwloc_topology_t loaded, const std::vector<unsigned>& allowed);

// The same for a machine described by an hwloc XML export (lstopo --of xml), such as the machines
// in tests/topologies. Throws std::runtime_error naming the file if hwloc cannot load it.
topology topology_from_xml(const std::string& path, const std::vector<unsigned>& allowed = {});

}  // namespace pulse::detail
