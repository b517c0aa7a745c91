// pulse::topology: what hwloc's view becomes, on machines we do not have (hwloc XML exports in
// tests/topologies) and on this one.
// Covers: packages, NUMA nodes, cores, hardware threads, SMT siblings and caches per level of a
// 2-socket x 32-core SMT2 machine with Linux's CPU numbering, a 4-node NUMA box and a hybrid
// P/E-core part (kinds of core, E-cores sharing an L2 per cluster of four); restriction to an
// allowed set of CPUs (taskset, cpusets); the printed summary; a missing XML file as an error naming
// it; the flat topology built from a CPU list alone; detect() following the affinity mask; and,
// through a hidden tag CTest runs with HWLOC_COMPONENTS=stop (hwloc then fails to load any
// topology), the fallback: a flat topology, a runtime that still runs, and exactly one warning.
#include "affinity_mask.hpp"
#include "topo/flat_topology.hpp"
#include "topo/hwloc_topology.hpp"

#include <pulse/pulse.hpp>
#include <pulse/fmt.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <string>

namespace {

using pulse::detail::topology_from_xml;

std::string machine_file(const char* name) { return std::string(PULSE_TOPOLOGIES_DIR) + "/" + name; }

std::vector<unsigned> os_indices(const pulse::topology& machine, const std::vector<unsigned>& pus) {
  std::vector<unsigned> out;
  for (const unsigned pu : pus) {
    out.push_back(machine.pus[pu].os_index);
  }
  return out;
}

std::vector<unsigned> range(unsigned first, unsigned last) {
  std::vector<unsigned> out(last - first + 1);
  std::iota(out.begin(), out.end(), first);
  return out;
}

TEST_CASE("two sockets of 32 cores with SMT2", "[topology][xml]") {
  const pulse::topology machine = topology_from_xml(machine_file("two_socket_smt2.xml"));
  CHECK(machine.packages.size() == 2);
  CHECK(machine.numa_nodes.size() == 2);
  CHECK(machine.cores.size() == 64);
  CHECK(machine.pus.size() == 128);
  CHECK(machine.kinds == 1);
  // Topology order: a core's threads are neighbours, whatever the kernel's numbers.
  CHECK(machine.pus[0].os_index == 0);
  CHECK(machine.pus[1].os_index == 64);
  CHECK(os_indices(machine, machine.smt_siblings(0)) == std::vector<unsigned>{64});
  CHECK(os_indices(machine, machine.smt_siblings(1)) == std::vector<unsigned>{0});
  for (unsigned package = 0; package < 2; ++package) {
    CHECK(machine.packages[package].cores == range(32 * package, 32 * package + 31));
    CHECK(machine.numa_nodes[package].cores == range(32 * package, 32 * package + 31));
    CHECK(machine.numa_nodes[package].os_index == package);
  }
  CHECK(machine.cores[40].package == 1);
  CHECK(machine.cores[40].numa_node == 1);
  // L1d, L2 per core; one L3 per socket.
  CHECK(machine.caches.size() == 64 + 64 + 2);
  const int l3 = machine.cache_of(0, 3);
  REQUIRE(l3 >= 0);
  CHECK(machine.caches[static_cast<unsigned>(l3)].size_bytes == 48ULL << 20);
  CHECK(machine.caches[static_cast<unsigned>(l3)].cores == range(0, 31));
  CHECK(machine.cache_of(31, 3) == l3);
  CHECK(machine.cache_of(32, 3) != l3);
  CHECK(machine.cache_of(0, 2) != machine.cache_of(1, 2));
  CHECK(machine.cache_of(0, 4) == -1);
  CHECK(machine.cores[0].caches.size() == 3);  // innermost first
  CHECK(machine.caches[machine.cores[0].caches.front()].level == 1);
  CHECK(machine.summary() ==
        "2 packages, 2 NUMA nodes, 64 cores, 128 hardware threads (CPUs 0-127; SMT 2)\n"
        "  package 0: 32 cores, CPUs 0-31,64-95\n"
        "  package 1: 32 cores, CPUs 32-63,96-127\n"
        "  NUMA node 0: 1 GiB, CPUs 0-31,64-95\n"
        "  NUMA node 1: 1 GiB, CPUs 32-63,96-127\n"
        "  L1d: 64 x 48 KiB\n"
        "  L2: 64 x 2 MiB\n"
        "  L3: 2 x 48 MiB");
}

TEST_CASE("a topology keeps only the CPUs the process may use", "[topology][xml]") {
  // As under taskset -c 30-33,94-97: two cores of each socket, both threads of each.
  const std::vector<unsigned> allowed = {30, 31, 32, 33, 94, 95, 96, 97};
  const pulse::topology machine = topology_from_xml(machine_file("two_socket_smt2.xml"), allowed);
  CHECK(machine.pus.size() == 8);
  CHECK(machine.cores.size() == 4);
  CHECK(machine.packages.size() == 2);
  CHECK(machine.packages[1].cores == std::vector<unsigned>{2, 3});
  CHECK(machine.numa_nodes.size() == 2);
  CHECK(machine.caches.size() == 4 + 4 + 2);
  CHECK(machine.caches[static_cast<unsigned>(machine.cache_of(0, 3))].cores == std::vector<unsigned>{0, 1});
  CHECK(os_indices(machine, machine.cores[3].pus) == std::vector<unsigned>{33, 97});

  const pulse::topology one_thread = topology_from_xml(machine_file("two_socket_smt2.xml"), {64});
  CHECK(one_thread.cores.size() == 1);
  CHECK(one_thread.pus.size() == 1);
  CHECK(one_thread.smt_siblings(0).empty());  // the sibling is there, but not ours to use
}

TEST_CASE("a 4-node NUMA box with two L3s per node", "[topology][xml]") {
  const pulse::topology machine = topology_from_xml(machine_file("four_numa_nodes.xml"));
  CHECK(machine.packages.size() == 2);
  REQUIRE(machine.numa_nodes.size() == 4);
  CHECK(machine.cores.size() == 32);
  CHECK(machine.pus.size() == 64);
  for (unsigned node = 0; node < 4; ++node) {
    CHECK(machine.numa_nodes[node].os_index == node);
    CHECK(machine.numa_nodes[node].cores == range(8 * node, 8 * node + 7));
  }
  CHECK(machine.cores[9].package == 0);
  CHECK(machine.cores[16].package == 1);
  CHECK(machine.cache_of(0, 3) == machine.cache_of(3, 3));
  CHECK(machine.cache_of(0, 3) != machine.cache_of(4, 3));
  CHECK(machine.summary().find("4 NUMA nodes, 32 cores, 64 hardware threads (CPUs 0-63; SMT 2)") != std::string::npos);
  CHECK(machine.summary().find("  NUMA node 3: 1 GiB, CPUs 48-63") != std::string::npos);
  CHECK(machine.summary().find("  L3: 8 x 16 MiB") != std::string::npos);
}

TEST_CASE("a hybrid part with P-cores and clusters of E-cores", "[topology][xml]") {
  const pulse::topology machine = topology_from_xml(machine_file("hybrid_6p8e.xml"));
  CHECK(machine.kinds == 2);
  CHECK(machine.cores.size() == 14);
  CHECK(machine.pus.size() == 20);
  for (unsigned core = 0; core < 14; ++core) {
    INFO("core " << core);
    const bool performance = core < 6;
    CHECK(machine.cores[core].kind == (performance ? 1U : 0U));
    CHECK(machine.cores[core].pus.size() == (performance ? 2U : 1U));
  }
  // Each P-core has its L2; the E-cores share one per cluster of four.
  CHECK(machine.cache_of(0, 2) != machine.cache_of(1, 2));
  CHECK(machine.cache_of(6, 2) == machine.cache_of(9, 2));
  CHECK(machine.cache_of(9, 2) != machine.cache_of(10, 2));
  CHECK(machine.caches[static_cast<unsigned>(machine.cache_of(6, 2))].cores == range(6, 9));
  CHECK(machine.cache_of(0, 3) == machine.cache_of(13, 3));
  const std::string summary = machine.summary();
  CHECK(summary.find("  L2: 6 x 1.25 MiB 2 x 2 MiB") != std::string::npos);
  CHECK(summary.find("  kinds of core (0 = least performant): 0: CPUs 12-19; 1: CPUs 0-11") != std::string::npos);
}

TEST_CASE("a machine file hwloc cannot load is an error naming it", "[topology][xml]") {
  CHECK_THROWS_WITH(topology_from_xml(machine_file("no_such_machine.xml")),
                    Catch::Contains("no_such_machine.xml"));
}

TEST_CASE("the flat topology: each CPU a core of its own, nothing shared", "[topology][fallback]") {
  const pulse::topology flat = pulse::detail::flat_topology({1, 3});
  CHECK(flat.packages.size() == 1);
  CHECK(flat.numa_nodes.size() == 1);
  REQUIRE(flat.cores.size() == 2);
  CHECK(os_indices(flat, flat.cores[1].pus) == std::vector<unsigned>{3});
  CHECK(flat.caches.empty());
  CHECK(flat.summary() ==
        "1 package, 1 NUMA node, 2 cores, 2 hardware threads (CPUs 1,3)\n"
        "  package 0: 2 cores, CPUs 1,3\n"
        "  NUMA node 0: memory unknown, CPUs 1,3");
  CHECK(pulse::detail::flat_topology({}).pus.size() == 1);  // the mask could not be read
}

TEST_CASE("this machine's topology follows the affinity mask, and prints through fmt and ostreams",
          "[topology]") {
  const pulse::topology machine = pulse::topology::detect();
  CHECK(os_indices(machine, range(0, static_cast<unsigned>(machine.pus.size()) - 1)) == pulse_test::affinity_mask());
  CHECK_FALSE(machine.cores.empty());
  CHECK_FALSE(machine.numa_nodes.empty());
  std::ostringstream streamed;
  streamed << machine;
  CHECK(streamed.str() == machine.summary());
  CHECK(fmt::format("{}", machine) == machine.summary());
}

pulse::task<int> forty_two() { co_return 42; }

// Reads everything written to stderr while `body` runs.
template <typename Body>
std::string capture_stderr(Body&& body) {
  std::fflush(stderr);
  char path[] = "/tmp/pulse-test-stderr-XXXXXX";
  const int file = mkstemp(path);
  REQUIRE(file >= 0);
  unlink(path);
  const int saved = dup(STDERR_FILENO);
  dup2(file, STDERR_FILENO);
  body();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string captured(static_cast<std::size_t>(lseek(file, 0, SEEK_END)), '\0');
  REQUIRE(pread(file, captured.data(), captured.size(), 0) == static_cast<ssize_t>(captured.size()));
  close(file);
  return captured;
}

TEST_CASE("when hwloc fails, a flat topology from the affinity mask, and one warning", "[.][fallback]") {
  // Run me with HWLOC_COMPONENTS=stop: hwloc then has no way to discover anything.
  pulse::topology machine;
  int result = 0;
  const std::string warnings = capture_stderr([&] {
    machine = pulse::topology::detect();
    pulse::runtime rt;
    result = pulse::sync_wait(rt, forty_two());
    pulse::topology::detect();
  });
  CHECK(result == 42);
  CHECK(machine.caches.empty());
  CHECK(machine.cores.size() == pulse_test::affinity_mask().size());
  INFO("stderr: " << warnings);
  CHECK(std::count(warnings.begin(), warnings.end(), '\n') == 1);
  CHECK(warnings.rfind("pulse: warning: hwloc could not load the machine's topology", 0) == 0);
}

}  // namespace
