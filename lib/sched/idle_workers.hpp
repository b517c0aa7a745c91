// How workers that run out of work search, park and are woken.
//
// The design follows Go's scheduler (at most a few "spinning" Ms look for work, the last to stop
// spinning wakes another: runtime/proc.go, Vyukov's scalable scheduler design) and Tokio's idle
// protocol (the `searching` count); no lost wake-up rests on the store-buffering (Dekker) pattern
// between a pusher's fence and a parker's fence, as argued under "Waking" below.
//
// A worker with no work first searches (steals, polls the injection queue) for a while, counted in
// `searching`; then it parks: it counts itself in `sleepers`, arms its slot's word, issues a
// seq_cst fence, looks once more for work, and only then sleeps on its own futex word.
//
// The slots are lock-free: a worker alone with its I/O parks once per batch of completions (once
// per request, for a server with one connection), and a mutex around an idle stack cost it four
// locked instructions per park, a tenth of a nop's round trip. Each worker's word is
//   not_parked -> armed            the worker, parking, once counted (release: its wake fd);
//   armed -> not_parked            the worker, cancelling (a compare-exchange);
//   armed -> notified | shutdown   a waker, claiming it (a compare-exchange).
// Exactly one compare-exchange wins on an armed word, so a parked worker is claimed by one waker or
// leaves by itself, never both: whoever wins takes it out of `sleepers`, and a worker that lost
// to a waker honours the reason the waker wrote (it is counted as searching, for one).
//
// Waking. Whoever makes work available calls notify(): a seq_cst fence, then a look at the
// counts. With the parker's fence-then-recheck this is the store-buffering pattern: either the
// pusher sees the sleeper (and wakes it), or the sleeper sees the work (and does not sleep). The
// same holds against a searcher about to give up, whose decrement precedes its parking fence. So
// no wake-up is ever lost, whether the work went to the injection queue or to a worker's deque.
// notify() wakes a sleeper only if no worker is searching already: one searcher at a time is
// enough to find new work, and it keeps a burst of forks from turning into a burst of futex wakes.
// A searcher that finds work while it is the last one searching wakes another sleeper (chain
// wake), so work published while it was searching still gets a searcher.
//
// Which sleeper. By default the one that parked last (its caches are the warmest): each park takes
// a number from a shared counter, bumped without a read-modify-write, so two parks at once may
// draw the same one, and then either is woken; it is only a preference. Work that arrives from
// outside the runtime names a ranking instead (the distance from the submitting thread's CPU), and
// the nearest sleeper is woken. A waker looks at every slot: wakes are the rare path, and a
// runtime has a worker per core.
//
// Where a worker sleeps. On its futex word by default. A worker with an io_uring ring sleeps in the
// ring instead (so that its own I/O completions wake it too), after registering the ring's wake-up
// eventfd here: a waker then writes the eventfd rather than calling futex_wake. The word protocol
// is the same either way; the eventfd's count is sticky, so a wake-up that comes before the
// sleeper is in the ring is not lost.
//
// Who counts whom: a worker increments `searching` itself when it starts searching, except after a
// wake-up, where the waker has already counted it (so a second notify does not wake a second
// sleeper for the same work).
#pragma once

#include "sched/atomics.hpp"
#include "sched/chase_lev_deque.hpp"  // cache_line

#include <atomic>
#include <cstdint>
#include <memory>

namespace pulse::detail {

// Ranks parked workers for a wake-up, lower first: refers to a callable unsigned(unsigned worker)
// that must outlive the call it is passed to. Empty: no preference.
class wake_rank {
public:
  wake_rank() noexcept = default;
  template <typename Rank>
  explicit wake_rank(const Rank& rank) noexcept
      : m_rank(&rank), m_call([](const void* r, unsigned worker) { return (*static_cast<const Rank*>(r))(worker); }) {}
  explicit operator bool() const noexcept { return m_call != nullptr; }
  unsigned operator()(unsigned worker) const { return m_call(m_rank, worker); }

private:
  const void* m_rank = nullptr;
  unsigned (*m_call)(const void*, unsigned) = nullptr;
};

// How a worker with a ring sleeps: for at most `timeout_ns` (if positive) or until woken. Empty:
// the worker sleeps on its futex word.
struct ring_sleeper {
  void (*sleep)(void* context, std::int64_t timeout_ns) noexcept = nullptr;
  void* context = nullptr;
};

class idle_workers {
public:
  explicit idle_workers(unsigned workers);

  enum class wake_reason {
    notified,  // woken to search; already counted in `searching`
    not_woken, // found work on its last look, timed out, or a spurious futex return: search again
    shutdown,  // wake_all(): look at the runtime's state
  };

  void start_searching() noexcept { m_searching.fetch_add(1, std::memory_order_seq_cst); }
  // Found work: stop counting as a searcher, and if this was the last searcher, pass the baton.
  void found_work() noexcept;
  void stop_searching() noexcept { m_searching.fetch_sub(1, std::memory_order_seq_cst); }

  // Worker `self` sleeps in its ring from now on, and is woken by writing `fd`. Called on its own
  // thread, before it first parks.
  void set_wake_fd(unsigned self, int fd) noexcept;

  // Parks worker `self` until woken, or for at most `timeout_ns` if positive. `work_or_exit_visible`
  // is evaluated after the worker is counted as a sleeper and after a seq_cst fence; if it returns
  // true the worker does not sleep. A worker with a wake fd sleeps with `in_ring`.
  template <typename Recheck>
  wake_reason park(unsigned self, Recheck&& work_or_exit_visible, std::int64_t timeout_ns, ring_sleeper in_ring = {}) {
    prepare_park(self);
    seq_cst_fence();
    if (work_or_exit_visible()) {
      return cancel_park(self);
    }
    return sleep(self, timeout_ns, in_ring);
  }

  // Call after making work available (a push to a deque or to the injection queue). If it wakes a
  // sleeper, that is the one `nearest` ranks lowest (ties: the one that parked last).
  void notify(wake_rank nearest = {}) noexcept {
    // seq_cst fence: orders the caller's push before the loads below; see the header comment.
    seq_cst_fence();
    // relaxed: the fence above does the ordering. A sleeper counted may not have armed its word
    // yet; wake_one waits for that.
    if (m_searching.load(std::memory_order_relaxed) == 0 && m_sleepers.load(std::memory_order_relaxed) != 0) {
      wake_one(nearest);
    }
  }

  // Wakes every sleeper with wake_reason::shutdown.
  void wake_all() noexcept;

private:
  struct alignas(cache_line) slot {
    // not_parked, armed (asleep or about to be), or the wake_reason a waker chose (see word_for).
    std::atomic<std::uint32_t> word{0};
    std::atomic<std::uint64_t> parked_as{0};  // the park's number: the highest parked last
    std::atomic<int> wake_fd{-1};
  };

  void prepare_park(unsigned self) noexcept;
  wake_reason cancel_park(unsigned self) noexcept;
  wake_reason sleep(unsigned self, std::int64_t timeout_ns, ring_sleeper in_ring);
  // Claims `target`, armed, with `reason`: true if this call won it (and took it out of sleepers).
  bool claim(unsigned target, wake_reason reason) noexcept;
  // Ends `target`'s sleep, on its futex or in its ring.
  void wake_sleeper(unsigned target) noexcept;
  void wake_one(wake_rank nearest = {}) noexcept;
  // The armed worker `nearest` ranks lowest, the last parked among equals; m_workers if none.
  unsigned armed_choice(wake_rank nearest) const noexcept;

  alignas(cache_line) std::atomic<unsigned> m_searching{0};
  alignas(cache_line) std::atomic<unsigned> m_sleepers{0};
  std::atomic<std::uint64_t> m_parks{0};  // numbers parks, for the choice of the last parked
  const unsigned m_workers;
  std::unique_ptr<slot[]> m_slots;
};

}  // namespace pulse::detail
