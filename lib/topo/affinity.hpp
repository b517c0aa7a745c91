// What CPUs this process may run on: the kernel's affinity mask, which taskset and cpusets set.
// The topology is restricted to it (platform.hpp), and unpinned workers run anywhere in it.
#pragma once

#include <sched.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace pulse::detail {

class cpu_mask {
public:
  // The process's mask: the main thread's, which taskset and cpusets set. Not the calling
  // thread's, which a caller may have narrowed for itself.
  static cpu_mask of_process();

  // The CPUs in the mask (the kernel's numbers), ascending; empty if the mask is unknown.
  std::vector<unsigned> cpus() const;
  // Lets the calling thread run on every CPU of the mask. Workers call this first, so a runtime
  // created from a pinned thread does not inherit that thread's pin.
  void apply_to_calling_thread() const noexcept;

private:
  struct release {
    void operator()(cpu_set_t* set) const noexcept { CPU_FREE(set); }
  };
  std::shared_ptr<cpu_set_t> m_set;  // shared: every worker holds the runtime's mask
  std::size_t m_bytes = 0;
};

}  // namespace pulse::detail
