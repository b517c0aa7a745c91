// The CPUs this process may run on, which the topology and placement tests compare against.
#pragma once

#include <sched.h>

#include <vector>

namespace pulse_test {

// The kernel's numbers, ascending; empty if the mask cannot be read. The main thread's mask,
// which is the process's unless a test narrowed it.
inline std::vector<unsigned> affinity_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) {
        cpus.push_back(cpu);
      }
    }
  }
  return cpus;
}

}  // namespace pulse_test
