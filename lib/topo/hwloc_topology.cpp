#include "topo/hwloc_topology.hpp"

#include <fmt/format.h>

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <unordered_map>

namespace pulse::detail {
namespace {

struct destroy_topology {
  void operator()(hwloc_topology_t topology) const noexcept { hwloc_topology_destroy(topology); }
};
using owned_topology = std::unique_ptr<hwloc_topology, destroy_topology>;

// Builds the pulse::topology while walking the allowed PUs in logical order: each object is
// listed the first time an allowed PU below it is seen, so the vectors come out in topology order
// and hold only what the process can use.
class translation {
public:
  explicit translation(hwloc_topology_t loaded) noexcept : m_loaded(loaded) {
    m_out.kinds = static_cast<unsigned>(std::max(1, hwloc_cpukinds_get_nr(loaded, 0)));
  }

  void add_pu(hwloc_obj_t pu) {
    // A machine without Core objects (some virtual machines, some architectures): each PU is a core.
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(m_loaded, HWLOC_OBJ_CORE, pu);
    const unsigned core_index = core_for(core != nullptr ? core : pu);
    m_out.cores[core_index].pus.push_back(static_cast<unsigned>(m_out.pus.size()));
    m_out.pus.push_back({pu->os_index, core_index});
  }

  topology finish() { return std::move(m_out); }

private:
  unsigned core_for(hwloc_obj_t core) {
    const auto [known, added] = m_cores.try_emplace(core, static_cast<unsigned>(m_out.cores.size()));
    if (!added) {
      return known->second;
    }
    const unsigned index = known->second;
    topology::core made;
    made.os_index = core->os_index;
    made.kind = kind_of(core);
    made.package = package_for(hwloc_get_ancestor_obj_by_type(m_loaded, HWLOC_OBJ_PACKAGE, core), index);
    made.numa_node = node_for(core, index);
    for (hwloc_obj_t above = core->parent; above != nullptr; above = above->parent) {
      if (hwloc_obj_type_is_dcache(above->type) != 0) {
        made.caches.push_back(cache_for(above, index));
      }
    }
    m_out.cores.push_back(std::move(made));
    return index;
  }

  unsigned kind_of(hwloc_obj_t core) const noexcept {
    if (m_out.kinds < 2) {
      return 0;
    }
    const int kind = hwloc_cpukinds_get_by_cpuset(m_loaded, core->cpuset, 0);
    if (kind < 0) {
      return 0;
    }
    // hwloc ranks kinds by efficiency, higher meaning more performant; without a ranking the kinds
    // are at least told apart by their index.
    int efficiency = -1;
    hwloc_cpukinds_get_info(m_loaded, static_cast<unsigned>(kind), nullptr, &efficiency, nullptr, nullptr, 0);
    return static_cast<unsigned>(efficiency >= 0 ? efficiency : kind);
  }

  // Null (no Package object) stands for the whole machine as package 0.
  unsigned package_for(hwloc_obj_t package, unsigned core) {
    const auto [known, added] = m_packages.try_emplace(package, static_cast<unsigned>(m_out.packages.size()));
    if (added) {
      m_out.packages.push_back({package != nullptr ? package->os_index : 0U, {}});
    }
    m_out.packages[known->second].cores.push_back(core);
    return known->second;
  }

  // NUMA nodes hang off the tree as memory children, so look for the one whose CPUs hold the core.
  unsigned node_for(hwloc_obj_t core, unsigned core_index) {
    hwloc_obj_t node = nullptr;
    while ((node = hwloc_get_next_obj_by_type(m_loaded, HWLOC_OBJ_NUMANODE, node)) != nullptr) {
      if (hwloc_bitmap_isincluded(core->cpuset, node->cpuset) != 0) {
        break;
      }
    }
    const auto [known, added] = m_nodes.try_emplace(node, static_cast<unsigned>(m_out.numa_nodes.size()));
    if (added) {
      m_out.numa_nodes.push_back(node != nullptr ? topology::numa_node{node->os_index, node->attr->numanode.local_memory, {}}
                                                 : topology::numa_node{});
    }
    m_out.numa_nodes[known->second].cores.push_back(core_index);
    return known->second;
  }

  unsigned cache_for(hwloc_obj_t cache, unsigned core) {
    const auto [known, added] = m_caches.try_emplace(cache, static_cast<unsigned>(m_out.caches.size()));
    if (added) {
      m_out.caches.push_back({cache->attr->cache.depth, cache->attr->cache.size, {}});
    }
    m_out.caches[known->second].cores.push_back(core);
    return known->second;
  }

  hwloc_topology_t m_loaded;
  topology m_out;
  std::unordered_map<hwloc_obj_t, unsigned> m_cores;
  std::unordered_map<hwloc_obj_t, unsigned> m_packages;
  std::unordered_map<hwloc_obj_t, unsigned> m_nodes;
  std::unordered_map<hwloc_obj_t, unsigned> m_caches;
};

void warn_flat(const char* step) noexcept {
  std::fprintf(stderr,
               "pulse: warning: hwloc could not %s the machine's topology (%s); using a flat one from the "
               "affinity mask: workers are not told apart by SMT sibling, cache or NUMA node\n",
               step, std::strerror(errno));
}

}  // namespace

hwloc_topology_t process_topology() noexcept {
  static hwloc_topology_t topology = []() -> hwloc_topology_t {
    hwloc_topology_t loaded = nullptr;
    if (hwloc_topology_init(&loaded) != 0) {
      warn_flat("initialise");
      return nullptr;
    }
    if (hwloc_topology_load(loaded) != 0) {
      warn_flat("load");
      hwloc_topology_destroy(loaded);
      return nullptr;
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

topology topology_from_hwloc(hwloc_topology_t loaded, const std::vector<unsigned>& allowed) {
  translation building(loaded);
  hwloc_obj_t pu = nullptr;
  while ((pu = hwloc_get_next_obj_by_type(loaded, HWLOC_OBJ_PU, pu)) != nullptr) {
    if (allowed.empty() || std::binary_search(allowed.begin(), allowed.end(), pu->os_index)) {
      building.add_pu(pu);
    }
  }
  return building.finish();
}

topology topology_from_xml(const std::string& path, const std::vector<unsigned>& allowed) {
  hwloc_topology_t raw = nullptr;
  if (hwloc_topology_init(&raw) != 0) {
    throw std::runtime_error(fmt::format("hwloc_topology_init failed: {}", std::strerror(errno)));
  }
  const owned_topology loaded(raw);
  if (hwloc_topology_set_xml(raw, path.c_str()) != 0 || hwloc_topology_load(raw) != 0) {
    throw std::runtime_error(fmt::format("hwloc could not load the topology in '{}': {}", path, std::strerror(errno)));
  }
  return topology_from_hwloc(raw, allowed);
}

}  // namespace pulse::detail
