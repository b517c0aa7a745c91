// What CPUs this process may run on. The topology work grows this into the hwloc-backed platform
// layer (pinning, distances); for now the runtime needs the count and the mask itself.
#pragma once

#include <sched.h>

#include <cstddef>
#include <memory>

namespace pulse::detail {

class cpu_mask {
public:
  // The process's mask: the main thread's, which taskset and cpusets set. Not the calling
  // thread's, which a caller may have narrowed for itself.
  static cpu_mask of_process();

  unsigned count() const noexcept;
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
