// pulse::topology: the machine as the process sees it (packages, NUMA nodes, cores, hardware
// threads, caches), restricted to the CPUs it may use (taskset, cgroup cpusets). The runtime
// places its workers from this; programs can print it (examples/topo.cpp) or size their own work by
// it. Plain data: it is a snapshot, copied freely, and never changes under the reader.
//
// Everything is listed in topology order (hwloc's logical order: siblings in the machine are
// neighbours in the vectors), and entries refer to each other by their index in these vectors.
// The kernel's numbers (what taskset, /proc and sched_getcpu use) are the `os_index` fields.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace pulse {

struct topology {
  // A hardware thread: what the kernel calls a CPU.
  struct processing_unit {
    unsigned os_index = 0;
    unsigned core = 0;
  };
  struct core {
    unsigned os_index = 0;
    unsigned package = 0;
    unsigned numa_node = 0;
    // 0 for the least performant kind of core (an E-core on a hybrid part), up to kinds - 1.
    unsigned kind = 0;
    std::vector<unsigned> pus{};     // its hardware threads, at least one; more are SMT siblings
    std::vector<unsigned> caches{};  // data and unified caches above it, innermost (L1d) first
  };
  struct cache {
    unsigned level = 0;              // 1 for L1d, 2 for L2 ...
    std::uint64_t size_bytes = 0;    // of this one instance
    std::vector<unsigned> cores{};     // the allowed cores that share it
  };
  struct numa_node {
    unsigned os_index = 0;
    std::uint64_t memory_bytes = 0;  // local memory, 0 if unknown
    std::vector<unsigned> cores{};
  };
  struct package {
    unsigned os_index = 0;
    std::vector<unsigned> cores{};
  };

  std::vector<package> packages{};
  std::vector<numa_node> numa_nodes{};
  std::vector<core> cores{};
  std::vector<processing_unit> pus{};
  std::vector<cache> caches{};
  unsigned kinds = 1;  // kinds of core: 2 on a P/E hybrid part

  // The calling process's topology: hwloc's view, restricted to the process's affinity mask. If hwloc
  // cannot load a topology, a flat one (one package and node, each allowed CPU a core of its own,
  // no caches) built from the affinity mask, after one warning on stderr for the whole process.
  static topology detect();

  // The other hardware threads of `pu`'s core (indices into `pus`).
  std::vector<unsigned> smt_siblings(unsigned pu) const;
  // The level-`level` cache above core `core_index` (an index into `caches`), or -1 if it has none.
  int cache_of(unsigned core_index, unsigned level) const noexcept;

  // A few lines for people: counts, then each package and node with its CPUs, the caches per
  // level, and the kinds of core if there are several. No trailing newline.
  std::string summary() const;
};

std::ostream& operator<<(std::ostream& out, const topology& machine);

}  // namespace pulse
