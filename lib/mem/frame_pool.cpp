#include "mem/frame_pool.hpp"

#include "mem/node_memory_resource.hpp"

#include <pulse/detail/frame_allocator.hpp>

#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace pulse::detail {
namespace {

thread_local frame_pool* t_current_pool = nullptr;

// The global heap, as an upstream: a share of it owns nothing (it is never destroyed).
std::shared_ptr<std::pmr::memory_resource> global_heap() noexcept {
  return {std::shared_ptr<void>(), std::pmr::new_delete_resource()};
}

// Frames created by threads that are not workers. Its upstream is the global heap: it belongs to
// no runtime. Never destroyed: frames it handed out may be freed at any time until exit.
struct fallback_pool {
  std::mutex mutex;
  frame_pool pool{global_heap(), 0};
};

fallback_pool& fallback() noexcept {
  static fallback_pool* const instance = new fallback_pool();
  return *instance;
}

// Frames too large for any class carry a header holding a share of the resource they came from,
// since the thread that frees them may belong to another runtime or to none, and the runtime that
// made them may be gone (with its pools, which own the default resource). The frame after it
// keeps operator new's alignment, not a cache line's: an over-aligned request would take the
// global heap's slower aligned path.
struct large_frame_header {
  std::shared_ptr<std::pmr::memory_resource> upstream;
};
inline constexpr std::size_t large_frame_alignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
static_assert(sizeof(large_frame_header) % large_frame_alignment == 0 && alignof(large_frame_header) <= large_frame_alignment);

constexpr std::size_t large_frame_total(std::size_t frame_bytes) noexcept { return sizeof(large_frame_header) + frame_bytes; }

// The remote-free stack's head once the pool is orphaned: never a block's address (blocks are
// cache-line aligned). Frees then count the pool's live blocks down instead of pushing.
frame_free_block* const orphaned_mark = reinterpret_cast<frame_free_block*>(std::uintptr_t{1});

}  // namespace

frame_pool* current_frame_pool() noexcept { return t_current_pool; }
void set_current_frame_pool(frame_pool* pool) noexcept {
  t_current_pool = pool;
  t_frame_free_lists = pool != nullptr ? pool->free_lists() : nullptr;
}

frame_pool::frame_pool(std::shared_ptr<std::pmr::memory_resource> upstream, int node)
    : m_upstream(upstream != nullptr ? upstream : std::make_shared<node_memory_resource>(node)),
      m_large_frame_upstream(upstream != nullptr ? std::move(upstream) : global_heap()),
      m_node(node) {}

frame_pool::~frame_pool() {
  while (m_chunks != nullptr) {
    chunk_header* const next = m_chunks->next_chunk;
    m_upstream->deallocate(m_chunks, chunk_bytes, chunk_bytes);
    m_chunks = next;
  }
}

void* frame_pool::allocate_slow(std::size_t size_class) {
  if (take_remote_frees()) {
    if (free_block* const block = heads[size_class]) {
      heads[size_class] = block->next;
      return block;
    }
  }
  return carve(size_class);
}

void* frame_pool::carve(std::size_t size_class) {
  const std::size_t block = frame_block_bytes(size_class);
  if (m_carve_next[size_class] == nullptr ||
      static_cast<std::size_t>(m_carve_end[size_class] - m_carve_next[size_class]) < block) {
    void* const memory = m_upstream->allocate(chunk_bytes, chunk_bytes);
    auto* const chunk =
        ::new (memory) chunk_header{{this}, this, static_cast<std::uint32_t>(size_class), m_node, m_chunks};
    m_chunks = chunk;
    m_counters.chunks.add();
    m_carve_next[size_class] = reinterpret_cast<std::byte*>(chunk) + sizeof(chunk_header);
    m_carve_end[size_class] = reinterpret_cast<std::byte*>(chunk) + chunk_bytes;
  }
  void* const result = m_carve_next[size_class];
  m_carve_next[size_class] += block;
  m_counters.carved.add();
  return result;
}

void frame_pool::free_remote(void* block) noexcept {
  auto* const node = static_cast<free_block*>(block);
  // acquire (here and on failure): a head that is the orphan mark makes the count of live blocks,
  // stored before it, visible to the decrement below.
  free_block* head = m_remote_frees.load(std::memory_order_acquire);
  while (head != orphaned_mark) {
    node->next = head;
    // release: the block's last use by this thread (the frame's destruction) happens before the
    // owner, which acquires the stack, hands it out again.
    if (m_remote_frees.compare_exchange_weak(head, node, std::memory_order_release, std::memory_order_acquire)) {
      return;
    }
  }
  // Orphaned: the last block back frees the pool, here and now, inside that frame's deallocation,
  // so the upstream is called while the frame's resource must still be alive. acq_rel: every
  // other free's decrement (and its use of its block) happens before the pool goes.
  if (m_orphan_live_blocks.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    delete this;
  }
}

bool frame_pool::take_remote_frees() noexcept {
  // A relaxed look first: the exchange (an RMW) is paid only when there is something to take.
  if (m_remote_frees.load(std::memory_order_relaxed) == nullptr) {
    return false;
  }
  // acquire: pairs with free_remote's release.
  free_block* block = m_remote_frees.exchange(nullptr, std::memory_order_acquire);
  const bool took = block != nullptr;
  while (block != nullptr) {
    free_block* const next = block->next;
    const std::size_t size_class = chunk_of(block)->size_class;
    block->next = heads[size_class];
    heads[size_class] = block;
    m_counters.remote_freed.add();
    block = next;
  }
  return took;
}

std::uint64_t frame_pool::live_blocks() const noexcept {
  std::uint64_t free_blocks = 0;
  for (const free_block* list : heads) {
    for (; list != nullptr; list = list->next) {
      ++free_blocks;
    }
  }
  return m_counters.carved.read() - free_blocks;
}

bool frame_pool::release_or_orphan(frame_pool* pool) noexcept {
  pool->take_remote_frees();
  const std::uint64_t live = pool->live_blocks();
  if (live == 0) {
    delete pool;
    return true;
  }
  // Live frames still point into it: the last of them to be freed frees it (free_remote). The
  // count goes first; then the mark replaces the stack, and blocks pushed since the take above
  // are counted back here. Until then the count includes them, so no free can reach zero first.
  pool->m_orphan_live_blocks.store(live, std::memory_order_relaxed);
  // acq_rel: releases the count to frees that see the mark; acquires the blocks pushed meanwhile.
  std::uint64_t back_meanwhile = 0;
  for (free_block* late = pool->m_remote_frees.exchange(orphaned_mark, std::memory_order_acq_rel); late != nullptr;
       late = late->next) {
    ++back_meanwhile;
  }
  if (back_meanwhile != 0 && pool->m_orphan_live_blocks.fetch_sub(back_meanwhile, std::memory_order_acq_rel) == back_meanwhile) {
    delete pool;
    return true;
  }
  return false;
}

void* frame_allocate_any(std::size_t bytes) {
  frame_pool* const owner = t_current_pool;
  if (owner != nullptr && bytes <= largest_pooled_frame) [[likely]] {
    return owner->allocate(frame_class_of(bytes));
  }
  if (bytes > largest_pooled_frame) {
    std::shared_ptr<std::pmr::memory_resource> upstream = owner != nullptr ? owner->large_frame_upstream() : global_heap();
    void* const memory = upstream->allocate(large_frame_total(bytes), large_frame_alignment);
    ::new (memory) large_frame_header{std::move(upstream)};
    return static_cast<std::byte*>(memory) + sizeof(large_frame_header);
  }
  fallback_pool& shared = fallback();
  std::lock_guard lock(shared.mutex);
  return shared.pool.allocate(frame_class_of(bytes));
}

void frame_deallocate_any(void* frame, std::size_t bytes) noexcept {
  if (bytes > largest_pooled_frame) [[unlikely]] {
    void* const memory = static_cast<std::byte*>(frame) - sizeof(large_frame_header);
    auto* const header = static_cast<large_frame_header*>(memory);
    // Out of the header before its memory goes; this may be the resource's last share.
    const std::shared_ptr<std::pmr::memory_resource> upstream = std::move(header->upstream);
    std::destroy_at(header);
    upstream->deallocate(memory, large_frame_total(bytes), large_frame_alignment);
    return;
  }
  chunk_header* const chunk = chunk_of(frame);
  frame_pool* const pool = t_current_pool;
  if (chunk->home == pool) {
    pool->free_local(frame, chunk->size_class);
    return;
  }
  if (pool != nullptr && chunk->node != pool->node()) {
    pool->count_off_node();
  }
  chunk->home->free_remote(frame);
}

}  // namespace pulse::detail
