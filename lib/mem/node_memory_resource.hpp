// The default upstream of the frame pools: whole pages from mmap, bound to one NUMA node with
// hwloc, returned to the system with munmap. This is the only place hwloc memory calls live.
//
// Pages rather than malloc: chunks are freed back to the kernel when a runtime is destroyed, so
// the process's RSS falls back, which a heap allocator's free lists would not guarantee.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace pulse::detail {

class node_memory_resource final : public std::pmr::memory_resource {
public:
  // `node` is the kernel's NUMA node number; if hwloc has no such node (or no topology) the
  // memory is left to the kernel's default placement.
  explicit node_memory_resource(int node) noexcept : m_node(node) {}

  int node() const noexcept { return m_node; }

private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  int m_node;
};

}  // namespace pulse::detail
