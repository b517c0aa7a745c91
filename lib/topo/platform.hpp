// The platform layer: what the runtime asks of the operating system about CPUs. It is the seed's
// PlatformVTable (detectTopology, setAffinity, getCurrentCpu) as a link-time seam rather than a
// table of function pointers: a process only ever runs on one platform, so this header declares the
// operations and exactly one source file defines them for the platform being built
// (platform_linux.cpp). Other platforms are planned; each will be one more such file, chosen in
// CMakeLists.txt.
#pragma once

#include <pulse/topology.hpp>

namespace pulse::detail {

// The process's topology (see pulse::topology::detect).
topology detect_topology();

// Restricts the calling thread to the one CPU `cpu` (the kernel's number). False if the kernel
// refused (the CPU went offline, or a cpuset shrank since the topology was read).
bool pin_calling_thread(unsigned cpu) noexcept;

// The CPU the calling thread is running on now (the kernel's number), or -1 if unknown.
int current_cpu() noexcept;

}  // namespace pulse::detail
