#include "mem/node_memory_resource.hpp"

#include "topo/hwloc_topology.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>

// LeakSanitizer looks for pointers in the heap, stacks and globals, not in pages mapped here; yet
// these pages do hold the only pointers to some heap blocks (a worker object placed on its node
// owns heap memory, and the default runtime's workers are never freed). So under ASan each mapping
// is registered as a root region for as long as it is mapped.
#if defined(__SANITIZE_ADDRESS__)
#  define PULSE_LSAN_ROOTS 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define PULSE_LSAN_ROOTS 1
#  endif
#endif
#if defined(PULSE_LSAN_ROOTS)
#  include <sanitizer/lsan_interface.h>
#endif

namespace pulse::detail {
namespace {

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t value, std::size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

void bind_to_node(void* p, std::size_t bytes, int node) noexcept {
  hwloc_topology_t topology = process_topology();
  if (topology == nullptr) {
    return;
  }
  hwloc_obj_t numa = hwloc_get_numanode_obj_by_os_index(topology, static_cast<unsigned>(node));
  if (numa == nullptr) {
    return;
  }
  // A failure (policy not supported, e.g. in a restricted container) keeps the kernel's default
  // placement: the memory is still usable, only its node is not guaranteed.
  hwloc_set_area_membind(topology, p, bytes, numa->nodeset, HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET);
}

}  // namespace

void* node_memory_resource::do_allocate(std::size_t bytes, std::size_t alignment) {
  const std::size_t page = page_size();
  const std::size_t length = round_up(bytes, page);
  const std::size_t align = alignment > page ? alignment : page;
  // Over-map by the alignment, then give back the unaligned head and the tail.
  const std::size_t mapped = length + (align > page ? align : 0);
  void* raw = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    throw std::bad_alloc();
  }
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (start + align - 1) / align * align;
  if (aligned > start) {
    munmap(raw, aligned - start);
  }
  const std::uintptr_t end = start + mapped;
  if (end > aligned + length) {
    munmap(reinterpret_cast<void*>(aligned + length), end - (aligned + length));
  }
  void* const p = reinterpret_cast<void*>(aligned);
  bind_to_node(p, length, m_node);
#if defined(PULSE_LSAN_ROOTS)
  __lsan_register_root_region(p, length);
#endif
  return p;
}

void node_memory_resource::do_deallocate(void* p, std::size_t bytes, std::size_t) {
  const std::size_t length = round_up(bytes, page_size());
#if defined(PULSE_LSAN_ROOTS)
  __lsan_unregister_root_region(p, length);
#endif
  munmap(p, length);
}

}  // namespace pulse::detail
