// The platform layer on Linux: hwloc for the topology, the affinity syscalls for the rest.
#include "topo/affinity.hpp"
#include "topo/flat_topology.hpp"
#include "topo/hwloc_topology.hpp"
#include "topo/platform.hpp"

#include <pthread.h>
#include <sched.h>

#include <memory>

namespace pulse::detail {

topology detect_topology() {
  const std::vector<unsigned> allowed = cpu_mask::of_process().cpus();
  if (const hwloc_topology_t loaded = process_topology(); loaded != nullptr) {
    topology machine = topology_from_hwloc(loaded, allowed);
    // Empty only if hwloc and the kernel disagree on which CPUs exist (a CPU hot-plugged since
    // hwloc looked): the affinity mask is the authority on where threads can run.
    if (!machine.pus.empty()) {
      return machine;
    }
  }
  return flat_topology(allowed);  // process_topology() has already said why, once
}

bool pin_calling_thread(unsigned cpu) noexcept {
  const int cpus = static_cast<int>(cpu) + 1;
  const std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> set(CPU_ALLOC(cpus), [](cpu_set_t* s) { CPU_FREE(s); });
  if (!set) {
    return false;
  }
  const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
  CPU_ZERO_S(bytes, set.get());
  CPU_SET_S(cpu, bytes, set.get());
  return pthread_setaffinity_np(pthread_self(), bytes, set.get()) == 0;
}

int current_cpu() noexcept { return sched_getcpu(); }

}  // namespace pulse::detail
