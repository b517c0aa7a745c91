// One worker's trace: a bounded ring of events that only the worker writes, and that the thread
// stopping the trace reads once the worker is out of it.
//
// Start and stop against a running worker (a Dekker-style handshake, all seq_cst operations rather
// than fences, which TSan would not see):
//  - the controller fills in the ring while `m_active` is false, then sets it: a worker whose
//    seq_cst load sees it true also sees the ring;
//  - record() sets `m_writing`, then loads `m_active`; stop() clears `m_active`, then waits while
//    `m_writing` is set. In the single total order of these four operations, either the worker's
//    load comes after the clear (it sees false and writes nothing) or the controller's wait comes
//    after the worker's set (it waits for the write to finish). So after stop() returns, no write is
//    in progress or will start, and the ring can be read.
// When the ring is full the oldest event is overwritten, and counted as dropped: memory stays
// bounded however long a trace runs, and what survives is the most recent stretch.
//
// Not for the heartbeat signal handler: it runs on the worker's thread and could land inside a
// record().
#pragma once

#include <pulse/detail/owner_counter.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace pulse::detail {

enum class trace_kind : std::uint8_t {
  task,     // span: a work item run from the worker loop; arg: where it came from (trace_source)
  wait,     // span: a pcall or loop join waiting for a thief, running other work meanwhile
  park,     // span: asleep
  steal,    // instant; arg: the victim
  promote,  // instant; arg: how many entries a heartbeat promoted
  split,    // instant: a loop split its range at a heartbeat
  io_completions,  // span: tasks resumed by I/O completions, one after the other; arg: how many
  hand_over,       // instant: tasks of I/O completions handed to a less loaded worker; arg: how many
};

enum class trace_source : std::uint32_t { own_deque, injection, stolen };

struct trace_event {
  std::int64_t start_ns;
  std::int64_t duration_ns;  // 0 for instants
  trace_kind kind;
  std::uint32_t arg;
};

class trace_buffer {
public:
  // Worker side. on() is a relaxed load: the one cost with tracing off (none in a build without
  // instrumentation, where a trace records nothing).
  bool on() const noexcept { return instrumented && m_active.load(std::memory_order_relaxed); }
  void record(const trace_event& event) noexcept {
    m_writing.store(true, std::memory_order_seq_cst);
    if (m_active.load(std::memory_order_seq_cst)) {
      m_events[m_written % m_events.size()] = event;
      ++m_written;
    }
    m_writing.store(false, std::memory_order_release);
  }

  // Controller side, serialised by the runtime.
  void start(std::size_t capacity);
  void stop() noexcept;
  // After stop(): the surviving events, oldest first, and how many were overwritten.
  std::vector<trace_event> events() const;
  std::uint64_t dropped() const noexcept;

private:
  std::atomic<bool> m_active{false};
  std::atomic<bool> m_writing{false};
  std::vector<trace_event> m_events;
  std::uint64_t m_written = 0;
};

}  // namespace pulse::detail
