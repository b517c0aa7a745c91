#include "trace/trace_buffer.hpp"

#include "sched/cpu_relax.hpp"

namespace pulse::detail {

void trace_buffer::start(std::size_t capacity) {
  stop();  // no worker may be writing while the ring is replaced
  m_events.assign(capacity, trace_event{});
  m_written = 0;
  m_active.store(true, std::memory_order_seq_cst);
}

void trace_buffer::stop() noexcept {
  m_active.store(false, std::memory_order_seq_cst);
  while (m_writing.load(std::memory_order_seq_cst)) {
    cpu_relax();  // a record() in progress: a few stores long
  }
}

std::vector<trace_event> trace_buffer::events() const {
  const std::size_t capacity = m_events.size();
  if (m_written <= capacity) {
    return {m_events.begin(), m_events.begin() + static_cast<std::ptrdiff_t>(m_written)};
  }
  std::vector<trace_event> ordered;
  ordered.reserve(capacity);
  const std::size_t oldest = m_written % capacity;
  ordered.insert(ordered.end(), m_events.begin() + static_cast<std::ptrdiff_t>(oldest), m_events.end());
  ordered.insert(ordered.end(), m_events.begin(), m_events.begin() + static_cast<std::ptrdiff_t>(oldest));
  return ordered;
}

std::uint64_t trace_buffer::dropped() const noexcept {
  return m_written > m_events.size() ? m_written - m_events.size() : 0;
}

}  // namespace pulse::detail
