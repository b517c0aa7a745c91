// pulse::topology: detection (through the platform layer) and the printable summary.
#include "topo/platform.hpp"

#include <pulse/topology.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <ostream>
#include <span>

namespace pulse {
namespace {

// "0-3,8,10-11": the kernel's list format, as taskset -c takes it.
std::string ranges(std::vector<unsigned> numbers) {
  std::sort(numbers.begin(), numbers.end());
  std::string out;
  for (std::size_t first = 0; first < numbers.size();) {
    std::size_t last = first;
    while (last + 1 < numbers.size() && numbers[last + 1] == numbers[last] + 1) {
      ++last;
    }
    out += fmt::format("{}{}", out.empty() ? "" : ",", numbers[first]);
    if (last > first) {
      out += fmt::format("-{}", numbers[last]);
    }
    first = last + 1;
  }
  return out;
}

std::string bytes(std::uint64_t size) {
  constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto value = static_cast<double>(size);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.4g} {}", value, units[unit]);
}

std::string cpus_of(const topology& machine, std::span<const unsigned> cores) {
  std::vector<unsigned> cpus;
  for (const unsigned core : cores) {
    for (const unsigned pu : machine.cores[core].pus) {
      cpus.push_back(machine.pus[pu].os_index);
    }
  }
  return ranges(std::move(cpus));
}

std::string plural(std::size_t count, const char* one, const char* many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

}  // namespace

topology topology::detect() { return detail::detect_topology(); }

std::vector<unsigned> topology::smt_siblings(unsigned pu) const {
  std::vector<unsigned> siblings = cores[pus[pu].core].pus;
  std::erase(siblings, pu);
  return siblings;
}

int topology::cache_of(unsigned core_index, unsigned level) const noexcept {
  for (const unsigned index : cores[core_index].caches) {
    if (caches[index].level == level) {
      return static_cast<int>(index);
    }
  }
  return -1;
}

std::string topology::summary() const {
  std::size_t most_threads = 0;
  for (const core& each : cores) {
    most_threads = std::max(most_threads, each.pus.size());
  }
  std::vector<unsigned> every_core(cores.size());
  std::iota(every_core.begin(), every_core.end(), 0U);
  std::string out = fmt::format("{}, {}, {}, {} (CPUs {}{})", plural(packages.size(), "package", "packages"),
                                plural(numa_nodes.size(), "NUMA node", "NUMA nodes"), plural(cores.size(), "core", "cores"),
                                plural(pus.size(), "hardware thread", "hardware threads"), cpus_of(*this, every_core),
                                most_threads > 1 ? fmt::format("; SMT {}", most_threads) : "");
  for (const package& each : packages) {
    out += fmt::format("\n  package {}: {}, CPUs {}", each.os_index, plural(each.cores.size(), "core", "cores"),
                       cpus_of(*this, each.cores));
  }
  for (const numa_node& each : numa_nodes) {
    out += fmt::format("\n  NUMA node {}: {}, CPUs {}", each.os_index,
                       each.memory_bytes != 0 ? bytes(each.memory_bytes) : "memory unknown", cpus_of(*this, each.cores));
  }
  // Per level, how many of each size: a hybrid part has two sizes of L2.
  std::map<unsigned, std::map<std::uint64_t, unsigned>> per_level;
  for (const cache& each : caches) {
    ++per_level[each.level][each.size_bytes];
  }
  for (const auto& [level, sizes] : per_level) {
    out += fmt::format("\n  L{}{}:", level, level == 1 ? "d" : "");
    for (const auto& [size, count] : sizes) {
      out += fmt::format(" {} x {}", count, bytes(size));
    }
  }
  if (kinds > 1) {
    out += "\n  kinds of core (0 = least performant):";
    for (unsigned kind = 0; kind < kinds; ++kind) {
      std::vector<unsigned> of_kind;
      for (unsigned index = 0; index < cores.size(); ++index) {
        if (cores[index].kind == kind) {
          of_kind.push_back(index);
        }
      }
      out += fmt::format(" {}: CPUs {};", kind, cpus_of(*this, of_kind));
    }
    out.pop_back();
  }
  return out;
}

std::ostream& operator<<(std::ostream& out, const topology& machine) { return out << machine.summary(); }

}  // namespace pulse
