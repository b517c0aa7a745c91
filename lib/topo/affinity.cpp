#include "topo/affinity.hpp"

#include <cerrno>
#include <unistd.h>

namespace pulse::detail {

cpu_mask cpu_mask::of_process() {
  cpu_mask mask;
  // The kernel's mask may be larger than a cpu_set_t (more than 1024 CPUs possible): grow the set
  // until sched_getaffinity stops answering EINVAL.
  for (int cpus = 1024; cpus <= (1 << 20); cpus *= 2) {
    std::shared_ptr<cpu_set_t> set(CPU_ALLOC(cpus), release{});
    if (!set) {
      break;
    }
    const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
    if (sched_getaffinity(getpid(), bytes, set.get()) == 0) {
      mask.m_set = std::move(set);
      mask.m_bytes = bytes;
      return mask;
    }
    if (errno != EINVAL) {
      break;
    }
  }
  return mask;  // unknown: cpus() is empty and apply does nothing
}

std::vector<unsigned> cpu_mask::cpus() const {
  std::vector<unsigned> listed;
  if (m_set) {
    for (std::size_t cpu = 0; cpu < m_bytes * 8; ++cpu) {
      if (CPU_ISSET_S(cpu, m_bytes, m_set.get())) {
        listed.push_back(static_cast<unsigned>(cpu));
      }
    }
  }
  return listed;
}

void cpu_mask::apply_to_calling_thread() const noexcept {
  if (m_set) {
    // A failure (a CPU went offline since) leaves the inherited mask: still correct, just narrower.
    sched_setaffinity(0, m_bytes, m_set.get());
  }
}

}  // namespace pulse::detail
