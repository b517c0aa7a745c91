// Placement: where workers run, and whom a thief tries first.
// Covers, on machines we do not have (tests/topologies): one worker per core in topology order,
// SMT siblings only when asked for more, wrapping past one per hardware thread; the distance
// between hardware threads (SMT sibling, L2, L3, NUMA node, anywhere); each worker's victims in
// tiers by that distance, with every worker in the last tier when unpinned; the victim walk
// trying tiers nearest first and starting at a random victim within a tier. On this machine: with
// pinning on, every worker stays on its own CPU (sched_getcpu from inside tasks); work submitted
// from outside waking the idle worker nearest the submitting thread; PULSE_PIN=0/1/false/true,
// an explicit option winning over it, and a bad value being an invalid_argument naming it.
#include "affinity_mask.hpp"
#include "scoped_env.hpp"
#include "sched/victim_order.hpp"
#include "topo/hwloc_topology.hpp"
#include "topo/placement.hpp"

#include <pulse/pulse.hpp>

#include <catch2/catch.hpp>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace pulse::detail;

pulse::topology machine(const char* name) {
  return topology_from_xml(std::string(PULSE_TOPOLOGIES_DIR) + "/" + name);
}

// The kernel's CPU number of each worker's placement.
std::vector<unsigned> cpus_of(const pulse::topology& on, const std::vector<worker_placement>& placements) {
  std::vector<unsigned> cpus;
  for (const worker_placement& each : placements) {
    cpus.push_back(on.pus[each.pu].os_index);
  }
  return cpus;
}

std::vector<unsigned> sequence(unsigned first, unsigned count, unsigned step = 1) {
  std::vector<unsigned> out;
  for (unsigned i = 0; i < count; ++i) {
    out.push_back(first + i * step);
  }
  return out;
}

std::vector<unsigned> sorted(std::span<const unsigned> values) {
  std::vector<unsigned> out(values.begin(), values.end());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("one worker per core in topology order, SMT siblings only when asked", "[placement][xml]") {
  const pulse::topology two_sockets = machine("two_socket_smt2.xml");
  CHECK(default_worker_count(two_sockets, false) == 64);
  CHECK(default_worker_count(two_sockets, true) == 128);
  const auto per_core = plan_placement(two_sockets, 64, true);
  CHECK(cpus_of(two_sockets, per_core) == sequence(0, 64));
  CHECK(std::all_of(per_core.begin(), per_core.end(), [](const worker_placement& p) { return p.pinned; }));
  // More workers than cores: the siblings, in the same order; past 128 they wrap around.
  const auto oversubscribed = cpus_of(two_sockets, plan_placement(two_sockets, 130, true));
  CHECK(std::vector<unsigned>(oversubscribed.begin() + 64, oversubscribed.begin() + 128) == sequence(64, 64));
  CHECK(oversubscribed[128] == 0);
  CHECK(oversubscribed[129] == 1);

  const pulse::topology numa = machine("four_numa_nodes.xml");
  CHECK(cpus_of(numa, plan_placement(numa, 32, true)) == sequence(0, 32, 2));

  const pulse::topology hybrid = machine("hybrid_6p8e.xml");
  CHECK(default_worker_count(hybrid, false) == 14);
  std::vector<unsigned> expected = sequence(0, 6, 2);  // the P-cores' first threads
  const std::vector<unsigned> e_cores = sequence(12, 8);
  expected.insert(expected.end(), e_cores.begin(), e_cores.end());
  CHECK(cpus_of(hybrid, plan_placement(hybrid, 14, true)) == expected);
  const std::vector<unsigned> siblings = sequence(1, 6, 2);
  expected.insert(expected.end(), siblings.begin(), siblings.end());
  CHECK(cpus_of(hybrid, plan_placement(hybrid, 20, true)) == expected);

  const auto unpinned = plan_placement(hybrid, 3, false);
  CHECK(std::none_of(unpinned.begin(), unpinned.end(), [](const worker_placement& p) { return p.pinned; }));
}

TEST_CASE("distance: SMT sibling, shared L2, shared L3, NUMA node, anywhere", "[placement][xml]") {
  const pulse::topology hybrid = machine("hybrid_6p8e.xml");
  // Topology order: the P-cores' threads are pus 0-11, the E-cores 12-19.
  CHECK(distance_between(hybrid, 0, 1) == distance::same_core);
  CHECK(distance_between(hybrid, 0, 0) == distance::same_core);
  CHECK(distance_between(hybrid, 12, 15) == distance::same_l2);
  CHECK(distance_between(hybrid, 12, 16) == distance::same_l3);
  CHECK(distance_between(hybrid, 0, 2) == distance::same_l3);

  const pulse::topology numa = machine("four_numa_nodes.xml");
  CHECK(distance_between(numa, 0, 7) == distance::same_l3);   // cores 0 and 3
  CHECK(distance_between(numa, 0, 8) == distance::same_node);  // core 4: the node's other L3
  CHECK(distance_between(numa, 0, 16) == distance::anywhere);  // node 1, same socket

  const pulse::topology two_sockets = machine("two_socket_smt2.xml");
  CHECK(distance_between(two_sockets, 0, 2) == distance::same_l3);
  CHECK(distance_between(two_sockets, 0, 64) == distance::anywhere);  // pu 64 is core 32's first
}

TEST_CASE("victims in tiers by distance", "[placement][victims][xml]") {
  SECTION("two sockets, one worker per hardware thread") {
    const pulse::topology on = machine("two_socket_smt2.xml");
    const auto placements = plan_placement(on, 128, true);
    const victim_tiers tiers(on, placements, 0);  // CPU 0; worker 64 is on its sibling, CPU 64
    CHECK(sorted(tiers.tier(distance::same_core)) == std::vector<unsigned>{64});
    CHECK(tiers.tier(distance::same_l2).empty());  // the L2 is the core's own
    std::vector<unsigned> same_socket = sequence(1, 31);
    const std::vector<unsigned> their_siblings = sequence(65, 31);
    same_socket.insert(same_socket.end(), their_siblings.begin(), their_siblings.end());
    CHECK(sorted(tiers.tier(distance::same_l3)) == same_socket);
    CHECK(tiers.tier(distance::same_node).empty());  // the L3 is the node's
    CHECK(tiers.tier(distance::anywhere).size() == 64);
  }
  SECTION("a 4-node NUMA box, one worker per core") {
    const pulse::topology on = machine("four_numa_nodes.xml");
    const victim_tiers tiers(on, plan_placement(on, 32, true), 9);  // node 1's first L3
    CHECK(tiers.tier(distance::same_core).empty());
    CHECK(sorted(tiers.tier(distance::same_l3)) == std::vector<unsigned>{8, 10, 11});
    CHECK(sorted(tiers.tier(distance::same_node)) == std::vector<unsigned>{12, 13, 14, 15});
    CHECK(tiers.tier(distance::anywhere).size() == 24);
  }
  SECTION("a hybrid part: an E-core's cluster comes first") {
    const pulse::topology on = machine("hybrid_6p8e.xml");
    const auto placements = plan_placement(on, 14, true);
    const victim_tiers e_core(on, placements, 10);  // the second cluster's first
    CHECK(sorted(e_core.tier(distance::same_l2)) == std::vector<unsigned>{11, 12, 13});
    CHECK(e_core.tier(distance::same_l3).size() == 10);
    const victim_tiers p_core(on, placements, 0);
    CHECK(p_core.tier(distance::same_l2).empty());
    CHECK(p_core.tier(distance::same_l3).size() == 13);
  }
  SECTION("unpinned workers: everyone is anywhere") {
    const pulse::topology on = machine("hybrid_6p8e.xml");
    const victim_tiers tiers(on, plan_placement(on, 20, false), 0);
    CHECK(tiers.tier(distance::anywhere).size() == 19);
    for (const distance near : {distance::same_core, distance::same_l2, distance::same_l3, distance::same_node}) {
      CHECK(tiers.tier(near).empty());
    }
  }
}

TEST_CASE("a thief walks the tiers nearest first, from a random start in each", "[placement][victims][xml]") {
  const pulse::topology on = machine("four_numa_nodes.xml");
  const auto placements = plan_placement(on, 32, true);
  const victim_tiers tiers(on, placements, 0);
  fast_random random(12345);
  std::set<unsigned> first_tried;
  for (int walk = 0; walk < 32; ++walk) {
    std::vector<unsigned> tried;
    const bool found = for_each_victim(tiers, random, [&](unsigned victim) {
      tried.push_back(victim);
      return false;
    });
    CHECK_FALSE(found);
    REQUIRE(tried.size() == 31);
    CHECK(sorted(std::span(tried).first(3)) == std::vector<unsigned>{1, 2, 3});
    CHECK(sorted(std::span(tried).subspan(3, 4)) == std::vector<unsigned>{4, 5, 6, 7});
    first_tried.insert(tried.front());
  }
  CHECK(first_tried.size() == 3);  // every member of the nearest tier gets to be first

  unsigned calls = 0;
  CHECK(for_each_victim(tiers, random, [&](unsigned victim) {
    ++calls;
    return victim == 2;
  }));
  CHECK(calls <= 3);  // found in the first tier: no farther victim was bothered
}

// What a task saw of where it ran. Collected under a mutex on the workers; asserted on the main
// thread, since Catch's assertions are not thread-safe.
struct sighting {
  pthread_t thread;
  int cpu;
  int allowed;
};

struct sightings {
  std::mutex mutex;
  std::vector<sighting> seen;
};

pulse::task<void> look_around(sightings& log) {
  // Long enough that both workers are busy at once, and that the scheduler would have had a
  // chance to move an unpinned thread.
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof set, &set);
  int cpu = sched_getcpu();
  while (std::chrono::steady_clock::now() < until) {
    const int now = sched_getcpu();
    cpu = now == cpu ? cpu : -1;  // -1: moved while running
  }
  std::lock_guard lock(log.mutex);
  log.seen.push_back({pthread_self(), cpu, CPU_COUNT(&set)});
  co_return;
}

TEST_CASE("with pinning on, every worker stays on its own CPU", "[placement][pin]") {
  const pulse::topology here = pulse::topology::detect();
  sightings log;
  unsigned workers = 0;
  {
    pulse::runtime rt{{.pin = true}};
    workers = rt.worker_count();
    for (int i = 0; i < 200; ++i) {
      pulse::spawn(rt, look_around(log));
    }
  }
  CHECK(workers == here.cores.size());
  std::map<pthread_t, std::set<int>> cpus_by_thread;
  for (const sighting& each : log.seen) {
    CHECK(each.allowed == 1);
    cpus_by_thread[each.thread].insert(each.cpu);
  }
  std::set<int> used;
  for (const auto& [thread, cpus] : cpus_by_thread) {
    CHECK(cpus.size() == 1);
    CHECK(*cpus.begin() >= 0);
    used.insert(*cpus.begin());
  }
  CHECK(used.size() == cpus_by_thread.size());  // no two workers on one CPU
  CHECK(cpus_by_thread.size() <= workers);
}

pulse::task<int> where_am_i() { co_return sched_getcpu(); }

TEST_CASE("work from outside wakes the idle worker nearest the submitting thread", "[placement][pin]") {
  const pulse::topology here = pulse::topology::detect();
  if (here.cores.size() < 2) {
    WARN("this process may use only one core: no nearer or farther worker to choose between; skipped");
    return;
  }
  std::vector<int> wanted;
  std::vector<int> got;
  std::thread submitter([&] {
    pulse::runtime rt{{.workers = 2, .pin = true}};
    for (unsigned core = 0; core < 2; ++core) {
      const unsigned cpu = here.pus[here.cores[core].pus[0]].os_index;  // where worker `core` is
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      sched_setaffinity(0, sizeof one, &one);
      for (int round = 0; round < 5; ++round) {
        // Long enough for both workers to stop searching and park.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        wanted.push_back(static_cast<int>(cpu));
        got.push_back(pulse::sync_wait(rt, where_am_i()));
      }
    }
  });
  submitter.join();
  CHECK(got == wanted);
}

TEST_CASE("PULSE_PIN turns pinning off or on; an explicit option wins; bad values name it", "[placement][options]") {
  const unsigned process_cpus = static_cast<unsigned>(pulse_test::affinity_mask().size());
  {
    pulse_test::scoped_env unset{"PULSE_PIN", nullptr};
    CHECK(pulse::runtime{}.options().pin == true);
  }
  for (const char* off : {"0", "false"}) {
    pulse_test::scoped_env env{"PULSE_PIN", off};
    pulse::runtime rt;
    CHECK(rt.options().pin == false);
    sightings log;
    pulse::sync_wait(rt, look_around(log));
    REQUIRE(log.seen.size() == 1);
    CHECK(static_cast<unsigned>(log.seen[0].allowed) == process_cpus);  // floats over the whole mask
  }
  for (const char* on : {"1", "true"}) {
    pulse_test::scoped_env env{"PULSE_PIN", on};
    CHECK(pulse::runtime{}.options().pin == true);
    CHECK(pulse::runtime{{.pin = false}}.options().pin == false);
  }
  for (const char* bad : {"maybe", "2", "yes", " 1"}) {
    INFO("PULSE_PIN=" << bad);
    pulse_test::scoped_env env{"PULSE_PIN", bad};
    CHECK_THROWS_MATCHES(pulse::runtime{}, std::invalid_argument,
                         Catch::Message("PULSE_PIN='" + std::string(bad) +
                                        "' is not valid: expected 1 or true (pin each worker to a CPU), 0 or false "
                                        "(do not)"));
    CHECK(pulse::runtime{{.pin = true}}.options().pin == true);  // the environment is not read then
  }
}

}  // namespace
