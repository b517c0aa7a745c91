// Where task frames come from: the calling worker's frame pool (lib/mem/frame_pool.hpp), with no
// lock and no atomic read-modify-write when a worker frees a frame it allocated; other threads use
// a shared fallback pool. The promise types route operator new and delete here.
#pragma once

#include <cstddef>

namespace pulse::detail {

void* frame_allocate(std::size_t bytes);
// `bytes` must be the size given to frame_allocate (the sized operator delete passes it back).
void frame_deallocate(void* frame, std::size_t bytes) noexcept;

}  // namespace pulse::detail
