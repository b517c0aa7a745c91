// The topology to fall back on when hwloc cannot load one: what the affinity mask alone tells.
#pragma once

#include <pulse/topology.hpp>

#include <vector>

namespace pulse::detail {

// One package and one NUMA node (os_index 0); each CPU of `cpus` (the kernel's numbers) a core of
// its own, in that order; no caches, one kind of core. An empty list (the mask could not be read)
// gives one CPU, 0. With no SMT siblings or shared caches known, every other worker is simply
// "anywhere" to a thief, and all memory counts as local.
topology flat_topology(const std::vector<unsigned>& cpus);

}  // namespace pulse::detail
