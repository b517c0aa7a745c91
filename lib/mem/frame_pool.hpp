// Coroutine frame pools.
//
// Layout. Memory comes from the upstream resource in chunks of chunk_bytes, aligned to
// chunk_bytes. A chunk serves one size class (blocks of 64, 128, ... 2048 bytes, so every block is
// cache-line aligned); its first cache line is a header naming the pool it belongs to, its class and
// its NUMA node. So a block's home is found from its address alone, with no per-frame header.
//
// Ownership. Each worker owns one pool; threads that are not workers share one fallback pool
// under a mutex (they create few frames: sync_wait's root, the task handed to it).
//  - The owner allocates from and frees to per-class free lists, or carves a new block from the
//    class's current chunk: no lock and no atomic read-modify-write on this path.
//  - Any other thread frees a block by pushing it on its home pool's remote-free stack: a
//    Treiber push (CAS). The owner takes the whole stack with one exchange when a free list runs
//    dry. Nothing is ever popped singly, so the stack has no ABA problem.
//
// Bounds and lifetime. A pool keeps the chunks it has carved until it is released: its memory is
// its peak of live frames, rounded up to chunks. When the runtime is destroyed each pool returns
// every chunk to the upstream, unless some of its frames are still alive (a task created on a
// worker and kept past the runtime); then the pool is orphaned, not freed, so those frames stay
// valid and can still be freed into it. An orphan counts its live blocks down, and the thread that
// frees the last one frees the pool then and there (returning its chunks to the upstream while that
// frame's resource is still alive, as runtime_options::frame_memory's contract has it). Orphaning
// replaces the remote-free stack with a mark, so each later free either pushed before it (and is
// counted back by the orphaning) or sees the mark and counts down.
//
// Large frames. A frame above the largest class comes from the global heap, or from the upstream if
// one was given: not from node-bound pages, which cost an mmap and a munmap each (a task with a
// 3000-byte frame, awaited in a loop, ran 50 times slower). It may be freed on any thread, after
// the runtime, its pool and every other owner of that upstream are gone: so it holds a share of
// the resource it came from in a header of its own.
#pragma once

#include "sched/chase_lev_deque.hpp"  // cache_line

#include <pulse/detail/frame_allocator.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <mutex>

namespace pulse::detail {

inline constexpr std::size_t chunk_bytes = frame_chunk_bytes;
static_assert(frame_block_granule == cache_line);

constexpr std::size_t frame_block_bytes(std::size_t size_class) noexcept { return (size_class + 1) * frame_block_granule; }

class frame_pool;

struct alignas(cache_line) chunk_header {
  frame_chunk_owner owner;  // first: the inline free path reads it (frame_allocator.hpp)
  frame_pool* home;
  std::uint32_t size_class;
  std::int32_t node;
  chunk_header* next_chunk;  // the home pool's list of its chunks, for release
};
static_assert(sizeof(chunk_header) == cache_line);

inline chunk_header* chunk_of(const void* block) noexcept {
  return reinterpret_cast<chunk_header*>(reinterpret_cast<std::uintptr_t>(block) & ~(chunk_bytes - 1));
}

// Counted by the pool's owner on slow paths (`allocated` is in frame_free_lists, on the fast
// path); readable from any thread, for the statistics.
struct frame_pool_counters {
  owner_counter carved;             // blocks allocated from fresh memory (the release counts on it)
  owner_counter chunks;             // chunks taken from the upstream
  statistics_counter remote_freed;  // blocks other threads freed into this pool
  statistics_counter off_node;      // blocks this pool's owner freed whose memory is on another node
};

class frame_pool : private frame_free_lists {
public:
  // With no upstream given, the pool takes pages bound to `node` (node_memory_resource), and large
  // frames come from the global heap. The pool shares ownership of its upstream, so an orphaned
  // pool keeps it too; the pools of one runtime share one, and may call it from their owners'
  // threads at once.
  frame_pool(std::shared_ptr<std::pmr::memory_resource> upstream, int node);
  frame_pool(const frame_pool&) = delete;
  frame_pool& operator=(const frame_pool&) = delete;
  // Returns every chunk to the upstream. Only when no block is live (see release_or_orphan).
  ~frame_pool();

  // Owner only (or under the fallback pool's mutex). The fast paths are a free-list pop or push.
  void* allocate(std::size_t size_class) {
    allocated.add();
    if (free_block* const block = heads[size_class]) [[likely]] {
      heads[size_class] = block->next;
      return block;
    }
    return allocate_slow(size_class);
  }
  void free_local(void* block, std::size_t size_class) noexcept {
    auto* const node = static_cast<free_block*>(block);
    node->next = heads[size_class];
    heads[size_class] = node;
  }

  // Any thread. If the pool is orphaned and this was its last live block, frees the pool.
  void free_remote(void* block) noexcept;

  // Where frames above the largest class come from (frame_allocate_any): each keeps a share.
  const std::shared_ptr<std::pmr::memory_resource>& large_frame_upstream() const noexcept { return m_large_frame_upstream; }

  // Owner gone (runtime destroyed): frees the pool if none of its blocks is live, else leaves it
  // to its live frames, the last of which frees it. Returns whether it freed it now.
  static bool release_or_orphan(frame_pool* pool) noexcept;

  int node() const noexcept { return m_node; }
  void count_off_node() noexcept { m_counters.off_node.add(); }
  const frame_pool_counters& counters() const noexcept { return m_counters; }
  std::uint64_t allocated_blocks() const noexcept { return allocated.read(); }
  // Carved first, as every carve follows its allocation's count; clamped all the same, as relaxed
  // counters promise no order between them.
  std::uint64_t reused_blocks() const noexcept {
    const std::uint64_t carved = m_counters.carved.read();
    const std::uint64_t handed_out = allocated.read();
    return handed_out > carved ? handed_out - carved : 0;
  }
  frame_free_lists* free_lists() noexcept { return this; }

private:
  using free_block = frame_free_block;

  // The free list is empty: take the remote frees, else carve a new block.
  void* allocate_slow(std::size_t size_class);
  void* carve(std::size_t size_class);
  // Moves the remote-free stack onto the free lists; returns whether it held anything.
  bool take_remote_frees() noexcept;
  // Blocks carved and not on a free list: frames still alive somewhere. Owner only.
  std::uint64_t live_blocks() const noexcept;

  const std::shared_ptr<std::pmr::memory_resource> m_upstream;
  const std::shared_ptr<std::pmr::memory_resource> m_large_frame_upstream;
  const int m_node;
  std::byte* m_carve_next[frame_class_count] = {};
  std::byte* m_carve_end[frame_class_count] = {};
  chunk_header* m_chunks = nullptr;
  frame_pool_counters m_counters;
  // Written by other threads: on a line of its own.
  alignas(cache_line) std::atomic<free_block*> m_remote_frees{nullptr};
  std::atomic<std::uint64_t> m_orphan_live_blocks{0};  // once orphaned: blocks still out
};

// The pool of the calling thread: its worker's, or null for threads that are not workers.
// Out of line on purpose (a thread_local the optimiser must re-read after a resumption).
frame_pool* current_frame_pool() noexcept;
void set_current_frame_pool(frame_pool* pool) noexcept;

}  // namespace pulse::detail
