#include "topo/affinity.hpp"

#include <cerrno>
#include <sched.h>

namespace pulse::detail {

unsigned allowed_cpu_count() noexcept {
  // The kernel's mask may be larger than a cpu_set_t (more than 1024 CPUs possible): grow the set
  // until sched_getaffinity stops answering EINVAL.
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) {
      break;
    }
    const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
    if (sched_getaffinity(0, bytes, set) == 0) {
      const int count = CPU_COUNT_S(bytes, set);
      CPU_FREE(set);
      return count > 0 ? static_cast<unsigned>(count) : 1U;
    }
    CPU_FREE(set);
    if (errno != EINVAL) {
      break;
    }
  }
  return 1U;
}

}  // namespace pulse::detail
