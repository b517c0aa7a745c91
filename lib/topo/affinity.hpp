// What CPUs this process may run on. The topology work grows this into the hwloc-backed platform
// layer; for now the runtime needs only the count.
#pragma once

namespace pulse::detail {

// CPUs in the calling thread's affinity mask (taskset and cpusets restrict it), at least 1.
unsigned allowed_cpu_count() noexcept;

}  // namespace pulse::detail
