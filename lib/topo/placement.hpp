// Where workers run, and how far apart they are: pure functions of a topology (already restricted
// to the allowed CPUs), so tests can check them against machines described in XML.
//
// Placement. One worker per core by default, on the first hardware thread of each core, in
// topology order, so that neighbouring workers share caches. Asked for more workers (a count, or
// `smt`), the next ones go to the second hardware threads of each core (SMT siblings), then the
// third...; past one per hardware thread they wrap around and share CPUs: that is oversubscription,
// which is for tests and blocking experiments, and the order keeps it even.
#pragma once

#include <pulse/topology.hpp>

#include <cstdint>
#include <vector>

namespace pulse::detail {

struct worker_placement {
  unsigned pu = 0;      // index into topology::pus: where the worker is pinned, or would be
  bool pinned = false;  // false: it floats over the whole affinity mask
};

// One worker per core, or per hardware thread if `smt`.
unsigned default_worker_count(const topology& machine, bool smt) noexcept;

// `machine` has at least one hardware thread (detect() and the fallback guarantee it).
std::vector<worker_placement> plan_placement(const topology& machine, unsigned workers, bool pin);

// How far apart two hardware threads are, nearest first: what a thief prefers to steal from (work
// whose data is likely in a cache it shares) and which idle worker a submission wakes.
enum class distance : std::uint8_t {
  same_core,  // SMT siblings (or the very same thread, when workers share one)
  same_l2,
  same_l3,
  same_node,  // the same NUMA node
  anywhere,
};
inline constexpr unsigned distance_count = 5;

distance distance_between(const topology& machine, unsigned pu_a, unsigned pu_b) noexcept;

}  // namespace pulse::detail
