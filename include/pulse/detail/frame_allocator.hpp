// Where task frames come from: the calling worker's frame pool (lib/mem/frame_pool.hpp), with no
// lock and no atomic read-modify-write when a worker frees a frame it allocated; other threads use
// a shared fallback pool. The promise types route operator new and delete here.
//
// The owner's fast path (a free-list pop or push) is inline here, reading the worker's free lists
// through a thread_local in a way that stays right when frame allocation is inlined into a
// coroutine body that resumes on another thread (worker_thread_local.hpp).
#pragma once

#include <pulse/detail/owner_counter.hpp>
#include <pulse/detail/worker_thread_local.hpp>

#include <cstddef>
#include <cstdint>

namespace pulse::detail {

inline constexpr std::size_t frame_block_granule = 64;  // a cache line
inline constexpr std::size_t frame_class_count = 32;
inline constexpr std::size_t largest_pooled_frame = frame_class_count * frame_block_granule;  // 2 KiB
inline constexpr std::size_t frame_chunk_bytes = 64 * 1024;

constexpr std::size_t frame_class_of(std::size_t bytes) noexcept { return (bytes - 1) / frame_block_granule; }

struct frame_free_block {
  frame_free_block* next;
};

// The part of a frame pool its owner's fast paths touch; every pool starts with it.
struct frame_free_lists {
  // First, on the cache line of the smallest classes' heads, which the common small frames use.
  statistics_counter allocated;  // blocks handed out, the one counter on the fast path
  frame_free_block* heads[frame_class_count] = {};
};

// The start of every 64 KiB chunk (the rest of the header is lib/mem's): whose free lists a block
// of this chunk goes back to.
struct frame_chunk_owner {
  frame_free_lists* lists;
};

inline frame_chunk_owner* frame_chunk_of(const void* block) noexcept {
  return reinterpret_cast<frame_chunk_owner*>(reinterpret_cast<std::uintptr_t>(block) & ~(frame_chunk_bytes - 1));
}

// The complete paths: any size, any thread, including the owner's fast path. Defined in lib/mem.
void* frame_allocate_any(std::size_t bytes);
void frame_deallocate_any(void* frame, std::size_t bytes) noexcept;

// The calling worker's free lists; null on threads that are not workers. Set with its pool by the
// library, whichever compiler built it; read inline by code built by either. [[gnu::used]]: with
// clang the inline reads are asm that names the symbol, which link-time optimisation cannot see.
[[gnu::used]] inline thread_local frame_free_lists* t_frame_free_lists = nullptr;
#if PULSE_INLINE_THREAD_LOCALS
inline frame_free_lists* this_thread_frame_free_lists() noexcept {
  return PULSE_DETAIL_READ_WORKER_THREAD_LOCAL(t_frame_free_lists, "_ZN5pulse6detail18t_frame_free_listsE");
}
#endif

inline void* frame_allocate(std::size_t bytes) {
#if PULSE_INLINE_THREAD_LOCALS
  frame_free_lists* const lists = this_thread_frame_free_lists();
  if (lists != nullptr && bytes <= largest_pooled_frame) [[likely]] {
    const std::size_t size_class = frame_class_of(bytes);
    if (frame_free_block* const block = lists->heads[size_class]) [[likely]] {
      lists->heads[size_class] = block->next;
      lists->allocated.add();
      return block;
    }
  }
#endif
  return frame_allocate_any(bytes);
}

// `bytes` must be the size given to frame_allocate (the sized operator delete passes it back).
inline void frame_deallocate(void* frame, std::size_t bytes) noexcept {
#if PULSE_INLINE_THREAD_LOCALS
  frame_free_lists* const lists = this_thread_frame_free_lists();
  if (bytes <= largest_pooled_frame && lists != nullptr && frame_chunk_of(frame)->lists == lists) [[likely]] {
    auto* const block = static_cast<frame_free_block*>(frame);
    const std::size_t size_class = frame_class_of(bytes);
    block->next = lists->heads[size_class];
    lists->heads[size_class] = block;
    return;
  }
#endif
  frame_deallocate_any(frame, bytes);
}

}  // namespace pulse::detail
