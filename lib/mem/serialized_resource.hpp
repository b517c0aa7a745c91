// A memory_resource that passes every call to another under one mutex.
//
// runtime_options::frame_memory is a resource the user chose, and std::pmr's own resources
// (unsynchronized_pool_resource, monotonic_buffer_resource) are not thread-safe, while every worker
// carves its chunks from it, and frames too large for a pool are allocated and freed through it on
// whatever thread runs them. So the runtime puts it behind this: its calls are rare (one per 64
// KiB chunk, one per frame above 2 KiB), and a lock there costs nothing the fast paths see. One
// mutex for every runtime's: runtimes may share a resource, and a frame (or an orphaned pool, at
// its last frame) that outlives its runtime calls it while another runtime uses it.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <mutex>

namespace pulse::detail {

class serialized_resource final : public std::pmr::memory_resource {
public:
  explicit serialized_resource(std::pmr::memory_resource& upstream) noexcept : m_upstream(upstream) {}

private:
  static std::mutex& every_call() noexcept {
    static std::mutex* const mutex = new std::mutex();  // never destroyed: frames may go until exit
    return *mutex;
  }
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    const std::lock_guard lock(every_call());
    return m_upstream.allocate(bytes, alignment);
  }
  void do_deallocate(void* memory, std::size_t bytes, std::size_t alignment) override {
    const std::lock_guard lock(every_call());
    m_upstream.deallocate(memory, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  std::pmr::memory_resource& m_upstream;
};

}  // namespace pulse::detail
