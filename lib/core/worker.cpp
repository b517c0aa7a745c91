#include "core/worker.hpp"

#include "core/runtime_impl.hpp"
#include "sched/adaptive_interval.hpp"
#include "sched/cpu_relax.hpp"
#include "topo/hwloc_topology.hpp"

#include <pulse/detail/transfer.hpp>

#include <fmt/format.h>

#include <cassert>
#include <csignal>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

namespace pulse::detail {
namespace {

// Searching: rounds of (injection queue, every victim once), with exponential pause between
// rounds. About 50 us in all here: longer than a cross-CPU wake-up (~15 us), so a worker that
// will get work soon rarely pays for a park, and short enough not to burn a core when idle.
constexpr int search_rounds = 24;
constexpr int max_pause_shift = 7;
// Then, while another worker is busy with latent work and polling, up to this many heartbeat
// intervals more, and never longer than the bound (see search).
constexpr std::int64_t busy_search_heartbeats = 2;
constexpr std::int64_t longest_busy_search_ns = 200'000;

void pause_between_looks(int round) noexcept {
  const int pauses = 1 << std::min(round, max_pause_shift);
  for (int i = 0; i < pauses; ++i) {
    cpu_relax();
  }
}

// A parked worker looks again after this many heartbeats while tasks are live (and sleeps for
// good when none is).
constexpr std::int64_t park_heartbeats = 10;

// Polls aim at one per eighth of the heartbeat interval; the countdown between them adapts.
constexpr std::int64_t polls_per_interval = 8;
constexpr std::uint32_t most_publishes_between_polls = 1U << 16;

// Prepared operations go to the kernel when the worker has nothing local left to run, or when this
// many wait: enough to amortise the system call, few enough that a long task after them does not
// hold many back.
constexpr std::uint32_t submit_batch = 32;
// At most this many tasks resumed by completions run in a row before queued work gets a turn:
// thousands of tasks on I/O would otherwise make every queued item wait for all of them (Tokio
// looks at its global queue every 61 tasks for the same reason).
constexpr std::uint32_t longest_batch = 64;
// A worker hands tasks of its completions over only when its batches hold this many tasks on
// average, and the other worker's hold at most a quarter as many: below that, moving tasks (their
// cache lines, and for a server the connection's later wake-ups) costs more than the imbalance, and
// two workers with similar loads would pass tasks back and forth.
constexpr std::uint32_t least_shared_batch = 8;
constexpr std::uint32_t shared_load_ratio = 4;

}  // namespace

worker* current_worker() noexcept { return t_this_thread_worker; }

worker::worker(runtime_impl& owner, unsigned index) noexcept
    : m_owner(owner),
      m_index(index),
      m_deque(owner.worker_memory(index)),
      m_random(0x853C49E6748FEA9BULL * (index + 1)),
      m_mode(owner.options().promotion),
      m_policy(owner.options().policy.get()),
      m_interval_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(owner.options().heartbeat).count()),
      m_latent_work_can_stall((m_policy != nullptr || (m_mode != promotion_mode::eager && m_mode != promotion_mode::serial)) &&
                              owner.options().workers > 1) {}

void worker::start() {
  m_thread = std::thread([this] { run(); });
}

void worker::join() {
  if (m_thread.joinable()) {
    m_thread.join();
  }
}

void worker::push_slow(latent_entry entry) {
  latent_stack& stack = m_continuations.fast();
  const bool built_in = m_policy == nullptr;
  const bool eager = built_in && m_mode == promotion_mode::eager;
  {
    critical_section guard(*this);
    m_continuations.push(entry);
    if (eager) {
      promote_oldest();
    }
  }
  if (eager) {
    schedule_next_poll();
    m_owner.idle().notify();
    return;
  }
  if (built_in && m_mode == promotion_mode::serial) {
    schedule_next_poll();
    return;
  }
  if (stack.pushes.load(std::memory_order_relaxed) >= stack.poll_at_push) {
    poll();
  }
}

void worker::schedule_next_poll() noexcept {
  latent_stack& stack = m_continuations.fast();
  const std::uint64_t pushes = stack.pushes.load(std::memory_order_relaxed);
  if (m_policy == nullptr && m_mode == promotion_mode::eager) {
    stack.poll_at_push = pushes + 1;  // every push comes to push_slow, which promotes it
  } else if (m_policy == nullptr && m_mode == promotion_mode::serial) {
    stack.poll_at_push = std::numeric_limits<std::uint64_t>::max();  // never
  } else {
    stack.poll_at_push = pushes + m_poll_every;
  }
}

latent_entry worker::pop_promoted() noexcept {
  critical_section guard(*this);
  m_continuations.forget_popped_promoted();
  const auto taken = m_deque.pop();
  return taken ? taken.value.bits() : 0;
}

void worker::reserve_slow(std::uint32_t count) {
  critical_section guard(*this);
  m_continuations.reserve(count);
}

void worker::publish_promoted(work_item item) {
  // A loop's split is the promotion its heartbeat chose (heartbeat() times only the promotions it
  // makes itself): timed and counted as one, so that promotion_time and the work/overhead ratio
  // include loops, and the next heartbeat's sample sees its cost.
  const std::int64_t started = monotonic_ns();
  {
    critical_section guard(*this);
    m_continuations.push(item.bits());
    promote_oldest();
  }
  count_fork(m_continuations.fast());
  end_promotion(started, 1);
  if (m_trace.on()) [[unlikely]] {
    m_trace.record({started, 0, trace_kind::split, 0});
  }
}

void worker::end_promotion(std::int64_t started_ns, std::size_t promoted) noexcept {
  m_last_promotion_cost_ns = monotonic_ns() - started_ns;  // the promotion itself, not the wake-up
  m_counters.promotion_ns.add(static_cast<std::uint64_t>(m_last_promotion_cost_ns));
  if (promoted != 0) {
    m_last_promotion_ns = started_ns;
    m_owner.idle().notify();
  }
}

bool worker::promote_oldest() noexcept {
  const work_item oldest = m_continuations.promote_oldest();
  if (oldest.is_job()) {
    oldest.as_job().arm();
  }
  try {
    m_deque.push(oldest);  // grows the ring if full; the signal handler only calls this when not
  } catch (...) {
    // No memory for a larger ring (the deque is unchanged): the entry stays latent, and is taken
    // back inline as if no heartbeat had come.
    m_continuations.unpromote_newest();
    return false;
  }
  m_counters.promotions.add();
  return true;
}

void worker::poll() noexcept {
  const std::int64_t now = monotonic_ns();
  const std::int64_t since = now - m_last_poll_ns;
  const std::int64_t target = m_interval_ns / polls_per_interval;
  if (since < target / 2 && m_poll_every < most_publishes_between_polls) {
    m_poll_every *= 2;
  } else if (since > target * 2 && m_poll_every > 1) {
    m_poll_every /= 2;
  }
  m_last_poll_ns = now;
  note_poll(now, m_continuations.has_latent());
  schedule_next_poll();
  // A task running long after others prepared I/O: their operations go now, not when it ends.
  if (m_ring != nullptr && m_ring->unsubmitted() != 0) {
    m_ring->submit();
  }
  // A thief that found nothing asked for work: promote now rather than at the next heartbeat, so
  // that it idles for a poll period (an eighth of an interval) instead of half an interval; but
  // only with a token in hand, that is, no promotion for a whole interval (the heartbeat that
  // earned it found nothing latent). So promotions stay bounded by the work done since the last
  // one, as in the paper; answering every ask at once could promote every poll period.
  bool wanted = false;
  if (m_promotion_wanted.load(std::memory_order_relaxed)) {
    if (m_continuations.has_latent()) {
      wanted = now - m_last_promotion_ns >= m_interval_ns;
    } else {
      m_promotion_wanted.store(false, std::memory_order_relaxed);  // nothing to give; asked again if still idle
    }
  }
  if (now >= m_next_heartbeat_ns || m_missed_signal || wanted) {
    m_missed_signal = false;
    heartbeat(now);
  }
}

bool worker::heartbeat(std::int64_t now_ns, bool loop_range) noexcept {
  m_counters.heartbeats.add();
  const std::size_t latent = loop_range ? 1 : m_continuations.latent_count();
  heartbeat_sample sample{m_index, latent, std::chrono::nanoseconds{m_interval_ns},
                          std::chrono::nanoseconds{now_ns - m_last_heartbeat_ns},
                          std::chrono::nanoseconds{m_last_promotion_cost_ns}};
  std::size_t promote = 0;
  if (latent != 0) {
    // Promoted work is for thieves, and a runtime of one worker has none: the built-in heartbeat
    // modes promote nothing there (a loop split at one worker only reorders its range, and cost
    // reduce 5% at one worker). Eager publishes every fork whatever the count, as classic work
    // stealing does: it is the mode to compare with. A user's policy decides for itself.
    if (m_policy != nullptr) {
      promote = m_policy->should_promote(sample);
    } else {
      promote = m_mode == promotion_mode::eager || m_owner.worker_count() > 1 ? 1 : 0;
    }
  }
  if (promote != 0 && !loop_range) {
    {
      critical_section guard(*this);
      // The signal handler may have promoted since `latent` was read.
      promote = std::min<std::size_t>(promote, m_continuations.latent_count());
      for (std::size_t i = 0; i < promote; ++i) {
        if (!promote_oldest()) {
          promote = i;
          break;
        }
      }
    }
    end_promotion(now_ns, promote);
    if (m_trace.on()) [[unlikely]] {
      m_trace.record({now_ns, 0, trace_kind::promote, static_cast<std::uint32_t>(promote)});
    }
  }
  const std::int64_t base = std::chrono::duration_cast<std::chrono::nanoseconds>(m_owner.options().heartbeat).count();
  if (m_policy != nullptr) {
    constexpr std::int64_t longest = std::chrono::nanoseconds{longest_heartbeat}.count();
    m_interval_ns = std::clamp<std::int64_t>(m_policy->next_interval(sample).count(), 1, longest);
  } else if (m_mode == promotion_mode::adaptive && promote != 0 && !loop_range) {
    // Only a promotion made here is timed by now: a loop splits itself after this (publish_promoted).
    m_interval_ns = adaptive_interval(m_interval_ns, base, m_last_promotion_cost_ns);
  }
  m_last_heartbeat_ns = now_ns;
  m_next_heartbeat_ns = now_ns + m_interval_ns;
  m_current_interval_ns.store(m_interval_ns, std::memory_order_relaxed);
  // Answered, even if the policy chose to promote nothing: else every poll would come back here.
  // (A loop's range may still fail to split: the ask stays for the next poll.)
  if (!loop_range) {
    m_promotion_wanted.store(false, std::memory_order_relaxed);
  }
  return promote != 0;
}

void worker::note_poll(std::int64_t now_ns, bool may_promote) noexcept {
  m_polled_at_ns.store(now_ns, std::memory_order_relaxed);
  if (m_may_promote_at_poll.load(std::memory_order_relaxed) != may_promote) {
    m_may_promote_at_poll.store(may_promote, std::memory_order_relaxed);
  }
}

bool worker::may_promote(std::int64_t now_ns) const noexcept {
  // A worker that stopped polling (a long frame that does not fork) promotes nothing until a
  // signal nudges it: its flag counts for one interval after its last poll.
  return m_busy.load(std::memory_order_relaxed) && m_may_promote_at_poll.load(std::memory_order_relaxed) &&
         now_ns - m_polled_at_ns.load(std::memory_order_relaxed) < m_current_interval_ns.load(std::memory_order_relaxed);
}

loop_poll worker::poll_for_loop() noexcept {
  if (m_mode == promotion_mode::serial && m_policy == nullptr) {
    return {most_publishes_between_polls, false};
  }
  const std::int64_t now = monotonic_ns();
  // Iterations cost anything from a nanosecond up: aim at a poll per eighth of an interval.
  const std::int64_t since = now - m_last_poll_ns;
  const std::int64_t target = m_interval_ns / polls_per_interval;
  if (since < target / 2 && m_loop_budget < (1U << 24)) {
    m_loop_budget *= 2;
  } else if (since > target * 2 && m_loop_budget > 1) {
    m_loop_budget /= 2;
  }
  note_poll(now, true);  // a loop that polls can always split off the rest of its range
  m_last_poll_ns = now;
  const bool eager = m_policy == nullptr && m_mode == promotion_mode::eager;
  if (now < m_next_heartbeat_ns && !m_missed_signal && !eager) {
    return {m_loop_budget, false};
  }
  m_missed_signal = false;
  if (m_continuations.has_latent()) {
    // Older latent work comes first: it is the bigger piece.
    heartbeat(now);
    return {m_loop_budget, false};
  }
  // Else the loop's own remaining range is the oldest latent work.
  return {m_loop_budget, heartbeat(now, /*loop_range=*/true)};
}

void worker::wait_for(stack_job& job) noexcept {
  const std::int64_t started = m_trace.on() ? monotonic_ns() : 0;
  // Only steal, never pop our own deque: everything in it belongs to frames below this one.
  int round = 0;
  while (!job.done()) {
    if (m_ring != nullptr) {
      m_ring->submit();
      m_ring->reap();
      take_handed_over(*this);
      if (run_ready()) {
        round = 0;
        continue;
      }
    }
    work_item next;
    if (m_owner.injection().try_pop(next) || steal(next)) {
      run_item(next);
      round = 0;
      continue;
    }
    // Our own older latent work must still get out while we wait.
    if (monotonic_ns() >= m_next_heartbeat_ns) {
      poll();
    }
    const int pauses = 1 << std::min(round++, max_pause_shift);
    for (int i = 0; i < pauses && !job.done(); ++i) {
      cpu_relax();
    }
  }
  if (started != 0 && m_trace.on()) [[unlikely]] {
    m_trace.record({started, monotonic_ns() - started, trace_kind::wait, 0});
  }
}

void worker::publish_entries_held() noexcept {
  // Tasks of this batch or of an earlier one prepared operations that service_ring held back, and
  // the next task may compute for long without polling: thieves may then nudge us, and the signal
  // handler submits them. The ring zeroes the word when it submits, whoever asks it to.
  if (m_ring->unsubmitted() == 0 || m_entries_held_since_ns.load(std::memory_order_relaxed) != 0) {
    return;
  }
  // They were prepared after the last submit, and (statistics builds) most of them after the
  // loop's latest clock reading, just before the batch: a thief nudges once they may have waited
  // a poll period.
  const std::int64_t prepared_since = std::max(m_ring->last_submit_ns(), instrumented ? m_last_clock_ns : 0);
  m_entries_held_since_ns.store(std::max<std::int64_t>(prepared_since, 1), std::memory_order_relaxed);
  if (!m_latent_work_can_stall && m_owner.worker_count() > 1) {
    // Eager and serial modes wake no thief at a batch (run_ready_from_loop): one that parked with
    // no worker busy sleeps until woken, and only a searching thief nudges. (Alone, nobody nudges.)
    m_owner.idle().notify();
  }
}

void worker::nudge_if_stalled(std::int64_t now_ns) noexcept {
  const pid_t thread = m_thread_id.load(std::memory_order_acquire);
  if (!m_owner.nudge_with_signals() || !m_busy.load(std::memory_order_relaxed) || thread == 0) {
    return;
  }
  // The interval the owner is on (adaptive mode changes it), as it last published it.
  const std::int64_t interval = m_current_interval_ns.load(std::memory_order_relaxed);
  const std::int64_t polled = m_polled_at_ns.load(std::memory_order_relaxed);
  const bool latent_work_stalled = m_latent_work_can_stall && now_ns - polled >= interval;
  // Held back longer than a poll period: what service_ring allows while tasks resumed by the ring run.
  const std::int64_t held_since = m_entries_held_since_ns.load(std::memory_order_relaxed);
  const bool entries_stalled = held_since != 0 && now_ns - held_since >= interval / polls_per_interval;
  std::int64_t nudged = m_nudged_at_ns.load(std::memory_order_relaxed);
  if ((!latent_work_stalled && !entries_stalled) || now_ns - nudged < interval) {
    return;
  }
  // relaxed: only rate-limits nudges; one thief wins per interval.
  if (m_nudged_at_ns.compare_exchange_strong(nudged, now_ns, std::memory_order_relaxed)) {
    tgkill(getpid(), thread, SIGURG);
    m_counters.signals_received.fetch_add(1, std::memory_order_relaxed);
  }
}

void worker::on_heartbeat_signal() noexcept {
  // Entries a long task of a batch holds back go to the kernel: an io_uring_enter, which is
  // async-signal-safe, unless the signal interrupted the ring's own code (see io_ring). A long task
  // not resumed by the ring holds nothing back: the loop submits before it runs (service_ring).
  if (m_entries_held_since_ns.load(std::memory_order_relaxed) != 0 && m_ring->submit_unless_interrupted()) {
    m_counters.signal_submits.fetch_add(1, std::memory_order_relaxed);
  }
  // A signal that lands inside an owner operation is left to the next poll. Otherwise only what is
  // async-signal-safe: no allocation (a full deque ring would have to grow), no mutex (no wake-up:
  // the thief that sent the signal is awake and searching), no heartbeat bookkeeping (the owner's
  // next poll does that), and no user code: a frame stuck this long gets its oldest entry promoted
  // whatever a user policy would say.
  if (m_in_critical || !m_continuations.has_latent() || !m_deque.has_room()) {
    m_missed_signal = true;
    return;
  }
  promote_oldest();
}

void worker::run_item(work_item item) noexcept {
  // Someone must be awake to nudge us, should we stall under latent work this item records. Here
  // rather than at each push: the pushes stay free of the check, and a watcher, once woken,
  // keeps looking (it parks with a timeout) for as long as a worker is busy. notify()'s fence pairs
  // with a parking worker's: either it sees that worker counted as a sleeper and wakes it, or
  // that worker's last look sees us busy (m_busy is set before this) and it parks with a timeout
  // instead of for good.
  if (m_latent_work_can_stall) {
    m_owner.idle().notify();
  }
  run_strand(item);
}

void worker::run_strand(work_item item) noexcept {
  m_counters.tasks_run.add();
  // Nested when a waiting pcall or loop runs stolen work: each item is a strand of its own.
  const continuation_stack::strand_mark outer_base = m_continuations.begin_strand();
  if (item.is_job()) {
    item.as_job().execute();
  } else if (item.is_fork_rest()) {
    resume(start_stolen_fork_rest(item.as_fork_rest()));
  } else {
    resume(item.as_coroutine());
  }
  end_strand(outer_base);
}

void worker::end_strand(continuation_stack::strand_mark outer) noexcept {
  if (outer.nested) {
    end_nested_strand(outer);
    return;
  }
  bool promoted_any = false;
  bool deque_full = false;
  {
    critical_section guard(*this);
    // Latent entries above the base: a task suspended on I/O under forks whose rest nobody took.
    // Promoting them (and so everything older) makes them runnable now, from the deque.
    while (m_continuations.size() > m_continuations.strand_base() && m_continuations.has_latent()) {
      if (!promote_oldest()) {
        deque_full = true;
        break;
      }
      promoted_any = true;
    }
    if (!deque_full) {
      m_continuations.end_strand(outer);
    }
  }
  if (deque_full) [[unlikely]] {
    // No memory to grow the deque: run the leftovers here instead, newest first, each a strand.
    // Checked inside the guard: the signal handler may have promoted one meanwhile.
    while (true) {
      work_item leftover;
      {
        critical_section guard(*this);
        if (m_continuations.size() <= std::max(m_continuations.strand_base(), m_continuations.promoted())) {
          m_continuations.end_strand(outer);
          break;
        }
        leftover = m_continuations.take_newest();
      }
      run_item(leftover);
    }
  }
  if (promoted_any) {
    m_owner.idle().notify();
  }
}

bool worker::hand_off(work_item item) noexcept {
  try {
    m_owner.injection().push(item);
  } catch (...) {
    return false;  // no memory for the queue's overflow list
  }
  m_owner.idle().notify();
  return true;
}

void worker::end_nested_strand(continuation_stack::strand_mark outer) noexcept {
  // A strand run while a pcall or loop waits for a thief (wait_for) ends with entries above its base
  // when a task in it suspended on I/O. Left in the deque, they would sit above the waiting frames'
  // own promoted entries, and a waiting frame taking its entry back (pop_promoted) would take one
  // of these instead. So they go to the injection queue, where any worker (this one too, once the
  // wait is over) runs them: first the latent ones, then the promoted ones still in the deque,
  // which are its newest (everything the frames below promoted went in before them).
  bool handed_off = false;
  while (true) {
    work_item leftover;
    {
      critical_section guard(*this);
      const std::uint32_t base = m_continuations.strand_base();
      if (m_continuations.size() > std::max(base, m_continuations.promoted())) {
        leftover = m_continuations.take_newest();
      } else if (m_continuations.promoted() > base) {
        const auto taken = m_deque.pop();
        if (!taken) {
          m_continuations.end_strand(outer);  // thieves have the rest
          break;
        }
        leftover = work_item::from_bits(m_continuations.take_newest_promoted());
        assert(leftover == taken.value);
      } else {
        m_continuations.end_strand(outer);
        break;
      }
    }
    try {
      m_owner.injection().push(leftover);
      handed_off = true;
    } catch (...) {
      run_item(leftover);  // no memory for the queue's overflow list: run it here and now
    }
  }
  if (handed_off) {
    m_owner.idle().notify();
  }
}

void worker::start_ring() noexcept {
  if (m_owner.options().io == io_support::disabled) {
    return;
  }
  try {
    m_ring = std::make_unique<io_ring>(m_owner.options().io_ring_entries);
    m_ring->clear_on_submit(m_entries_held_since_ns);
    m_owner.idle().set_wake_fd(m_index, m_ring->wake_fd());
  } catch (const ring_setup_error& error) {
    m_ring.reset();
    m_ring_error = error.code().value();
    m_ring_failure = error.failure();
  } catch (...) {
    m_ring.reset();
    m_ring_error = ENOMEM;
    m_ring_failure = "its io_uring ring could not be set up (out of memory)";
  }
}

bool worker::service_ring() noexcept {
  io_ring& ring = *m_ring;
  const std::uint32_t waiting = ring.unsubmitted();
  // Completions and queued work (the deque, the injection queue) take turns. Completions that come
  // back at once (a cached read, a socket with data waiting) would otherwise keep the ready list
  // full, and queued work would never run (a sync_wait from outside waited for a reading loop on
  // the worker to end), even less so when tasks reap while they run (a full submission queue). So
  // after a batch of completions, with queued work waiting, nothing is reaped and one queued item
  // runs first; then completions again (a stream of queued work must not hold them back either).
  // A strand from the queues may compute for long without forking, so without polling: an
  // operation prepared just before it (fork(write(), compute())) would wait for it to end, however
  // recent the last submission. So the entries go first, whoever's turn it is.
  // (The queues are looked at only where the answer changes something: not on the way back from
  // a sync_wait's root, say, with nothing to submit.)
  const auto queued_work = [this] { return !m_deque.looks_empty() || !m_owner.injection().looks_empty(); };
  if (m_completions_ran_last && queued_work()) {
    if (waiting != 0) {
      ring.submit();
    }
    return true;
  }
  if (waiting != 0) {
    if (ring.ready().empty()) {
      // Nothing ready. Alone with nothing queued either, the worker is about to sleep in its ring,
      // and that sleep submits: one system call per wait instead of two (a server's request costs
      // two, not three).
      if (waiting >= submit_batch || m_owner.worker_count() > 1 || queued_work()) {
        ring.submit();
      }
    } else if (waiting >= submit_batch ||
               monotonic_ns() - ring.last_submit_ns() >= m_interval_ns / polls_per_interval) {
      // Tasks the ring resumed run next (each usually prepares its next operation within a
      // microsecond): the entries wait to go with more, but not past a poll period.
      ring.submit();
    }
  }
  if (ring.in_flight() != 0 && ring.completions_pending()) {
    ring.reap();
  }
  return false;
}

namespace {

// I/O loads are in sixteenths of a task (they are averages). A worker running a strand publishes
// unavailable_io_load; real loads stay far below it, so that a load plus what was handed over
// cannot wrap, and no load is ever a quarter of it.
constexpr std::uint32_t io_load_unit = 16;
constexpr std::uint32_t unavailable_io_load = std::numeric_limits<std::uint32_t>::max() / 2;
constexpr std::uint32_t most_tasks_in_a_load = unavailable_io_load / (4 * shared_load_ratio * io_load_unit);

// The task of the oldest node in `list`, after multishot nodes have delivered what they had (one
// resumes its task only once it has ended); taking at most `nodes` nodes, which counts down.
std::coroutine_handle<> next_resumption(io_ready_list& list, std::uint32_t& nodes) noexcept {
  for (; nodes != 0; --nodes) {
    io_ready_node* const node = list.pop();
    if (node == nullptr) {
      break;
    }
    if (const std::coroutine_handle<> next = node->drain != nullptr ? node->drain(*node) : node->waiter) {
      --nodes;
      return next;
    }
  }
  return {};
}

}  // namespace

std::coroutine_handle<> worker::next_ready() noexcept {
  std::uint32_t any = std::numeric_limits<std::uint32_t>::max();
  return next_resumption(m_ring->ready(), any);
}

bool worker::run_ready() noexcept {
  const std::coroutine_handle<> next = next_ready();
  if (next) {
    run_item(work_item::coroutine(next));
  }
  return static_cast<bool>(next);
}

void worker::run_ready_from_loop() noexcept {
  io_ready_list& ready = m_ring->ready();
  if (m_owner.worker_count() > 1) {
    share_surplus(ready);
  }
  // The batch is what was reaped before it began, up to longest_batch tasks. A task that finds the
  // submission queue full reaps while it runs, and with completions that come back at once the
  // batch would never end: those wait for the next one, and so do tasks past longest_batch, so
  // that queued work gets its turn in between (service_ring). They stay on the ready list
  // meanwhile, in order, where a task of the batch that waits for a thief (a pcall, a loop) runs
  // them while it waits.
  std::uint32_t batch_nodes = std::min(ready.size(), longest_batch);
  // One stretch of busy time, one trace span and one watcher notification for the whole batch:
  // a resumption is often only a few hundred nanoseconds of work before the next operation.
  std::coroutine_handle<> next = next_resumption(ready, batch_nodes);
  if (!next) {
    return;
  }
  m_completions_ran_last = true;
  m_busy.store(true, std::memory_order_relaxed);
  if (m_latent_work_can_stall) {
    m_owner.idle().notify();  // as in run_item
  }
  const std::int64_t started = instrumented ? stretch_start_ns() : 0;
  if constexpr (instrumented) {
    m_busy_since_ns.store(started, std::memory_order_relaxed);
  }
  std::uint32_t resumed = 0;
  do {
    publish_entries_held();
    run_strand(work_item::coroutine(next));
    ++resumed;
  } while ((next = next_resumption(ready, batch_nodes)));
  if (m_entries_held_since_ns.load(std::memory_order_relaxed) != 0) {
    m_entries_held_since_ns.store(0, std::memory_order_relaxed);  // the loop submits them next
  }
  m_stretches_ended.add();
  if constexpr (instrumented) {
    const std::int64_t ended = monotonic_ns();
    m_last_clock_ns = ended;
    m_counters.busy_ns.add(static_cast<std::uint64_t>(ended - started));
    m_busy_since_ns.store(0, std::memory_order_release);  // as in end_idle
    if (m_trace.on()) [[unlikely]] {
      m_trace.record({started, ended - started, trace_kind::io_completions, resumed});
    }
  }
}

void worker::share_surplus(io_ready_list& batch) noexcept {
  // The tasks ready at each batch (those a batch leaves behind, past longest_batch, count again at
  // the next: they are still waiting), averaged over batches, each new one weighing a quarter: one
  // burst does not move tasks that the next batches would move back.
  const std::uint32_t tasks = std::min(batch.size(), most_tasks_in_a_load);
  m_batch_load = (3 * m_batch_load + io_load_unit * tasks) / 4;
  const std::uint32_t mine = m_batch_load;
  m_io_load.store(mine, std::memory_order_relaxed);
  if (batch.size() < 2 || mine < io_load_unit * least_shared_batch) {
    return;  // (with one task, handing it over would only move the imbalance)
  }
  // One other worker, at random: one load per batch whatever the number of workers, and over
  // successive batches every worker is compared with.
  const unsigned workers = m_owner.worker_count();
  unsigned peer = static_cast<unsigned>(m_random.next() % (workers - 1));
  peer += peer >= m_index ? 1 : 0;
  worker& other = m_owner.worker_at(peer);  // it has a ring: a runtime has rings on every worker or on none
  const std::uint32_t theirs = other.m_io_load.load(std::memory_order_relaxed);
  if (theirs > mine / shared_load_ratio) {
    return;  // similar enough, or it runs a strand
  }
  if constexpr (instrumented) {
    // Nor to a worker deep in a task its completions resumed (which may compute for long): its
    // busy stretch began more than a poll period ago. (Without the statistics there is no stretch
    // to look at; what it is handed then waits for the task, or for a worker that searches.)
    const std::int64_t busy_since = other.m_busy_since_ns.load(std::memory_order_relaxed);
    if (busy_since != 0 && monotonic_ns() - busy_since > m_interval_ns / polls_per_interval) {
      return;
    }
  }
  // Half the difference, the newest of the batch; at least one task stays to run here.
  const std::uint32_t half_the_difference = (mine - theirs) / (2 * io_load_unit);
  io_ready_list surplus = batch.split_newest(std::min(half_the_difference, batch.size() - 1));
  std::uint32_t handed = 0;
  while (io_ready_node* const node = surplus.pop()) {
    if (node->drain != nullptr) {
      batch.push(*node);  // a multishot operation delivers on the worker that owns its ring
      continue;
    }
    other.m_handed_over.push(*node);
    ++handed;
  }
  if (handed == 0) {
    return;
  }
  m_batch_load -= std::min(m_batch_load, io_load_unit * handed);
  m_io_load.store(m_batch_load, std::memory_order_relaxed);
  // Until it publishes its own: otherwise the next batch here would hand it more at once.
  other.m_io_load.fetch_add(io_load_unit * handed, std::memory_order_relaxed);
  m_counters.io_handed_over.add(handed);
  if (m_trace.on()) [[unlikely]] {
    m_trace.record({monotonic_ns(), 0, trace_kind::hand_over, handed});
  }
  // Work like any other (runtime_impl::work_visible): a worker searching takes it if `other` has
  // not (searches look into every worker's list); else a sleeper is woken, `other` first.
  const auto that_worker_first = [peer](unsigned candidate) { return candidate == peer ? 0U : 1U; };
  m_owner.idle().notify(wake_rank{that_worker_first});
}

bool worker::take_handed_over(worker& from) noexcept {
  if (from.m_handed_over.looks_empty()) {
    return false;
  }
  io_ready_node* node = from.m_handed_over.take_all();
  while (node != nullptr) {
    io_ready_node* const next = node->next;
    m_ring->ready().push(*node);
    node = next;
  }
  return true;
}

void worker::publish_io_load(std::uint32_t load) noexcept {
  if (m_ring != nullptr && m_owner.worker_count() > 1) {
    m_io_load.store(load, std::memory_order_relaxed);
  }
}

bool worker::alone_waiting_for_io() const noexcept {
  return m_owner.worker_count() == 1 && m_ring != nullptr && m_ring->in_flight() != 0;
}

std::int64_t worker::stretch_start_ns() noexcept {
  if (m_last_clock_ns == 0) {
    m_last_clock_ns = monotonic_ns();
  }
  return m_last_clock_ns;
}

void worker::end_idle(std::int64_t idle_since, std::int64_t now) noexcept {
  if constexpr (!instrumented) {
    return;
  }
  m_counters.idle_ns.add(static_cast<std::uint64_t>(now - idle_since));
  // release: a reader that sees the stretch over (acquire) sees it counted.
  m_idle_since_ns.store(0, std::memory_order_release);
}

void worker::run_from_loop(work_item item, trace_source source) noexcept {
  m_busy.store(true, std::memory_order_relaxed);
  m_completions_ran_last = false;
  publish_io_load(unavailable_io_load);
  if constexpr (!instrumented) {
    run_item(item);
    m_stretches_ended.add();
    publish_io_load(m_batch_load);
    return;
  }
  const std::int64_t started = stretch_start_ns();
  m_busy_since_ns.store(started, std::memory_order_relaxed);
  run_item(item);
  m_stretches_ended.add();
  publish_io_load(m_batch_load);
  const std::int64_t ended = monotonic_ns();
  m_last_clock_ns = ended;
  m_counters.busy_ns.add(static_cast<std::uint64_t>(ended - started));
  m_busy_since_ns.store(0, std::memory_order_release);  // as in end_idle
  if (m_trace.on()) [[unlikely]] {
    m_trace.record({started, ended - started, trace_kind::task, static_cast<std::uint32_t>(source)});
  }
}

bool worker::find_work(work_item& next, trace_source& source) noexcept {
  if (const auto own = m_deque.pop()) {
    next = own.value;
    source = trace_source::own_deque;
    return true;
  }
  source = trace_source::injection;
  return m_owner.injection().try_pop(next);
}

bool worker::steal(work_item& next) noexcept {
  const unsigned workers = m_owner.worker_count();
  if (workers < 2) {
    return false;
  }
  const auto try_victim = [&](unsigned victim) {
    const auto taken = m_owner.worker_at(victim).steal_from();
    m_counters.steal_attempts.add();
    if (taken) {
      next = taken.value;
      m_counters.steals.add();
      if (m_trace.on()) [[unlikely]] {
        m_trace.record({monotonic_ns(), 0, trace_kind::steal, victim});
      }
    }
    return static_cast<bool>(taken);
  };
  if (m_policy != nullptr) {
    const unsigned first = m_policy->select_victim(m_index, workers, m_random.next()) % workers;
    if (first != m_index && try_victim(first)) {
      return true;
    }
  }
  return for_each_victim(m_owner.victims_of(m_index), m_random, try_victim);
}

bool worker::search(work_item& next, trace_source& source) noexcept {
  // Alone, there is nobody to steal from; new work can only come from outside (spinning on the
  // injection queue catches the next sync_wait's root without a wake-up) or from the ring, which
  // wakes us anyway. With operations in flight, the ring is the likely source, and spinning would
  // only take the CPU from whoever feeds it (a client on the same core): one look, then park.
  const bool alone = m_owner.worker_count() == 1;
  const int rounds = alone_waiting_for_io() ? 1 : search_rounds;
  // One look everywhere work can come from.
  const auto look = [&]() noexcept {
    if (m_ring != nullptr) {
      if (m_ring->completions_pending()) {
        m_ring->reap();
      }
      // What was handed over, to this worker first; then to others that have not taken it yet
      // (busy in a long task, or asleep while this worker searched, so that notify woke nobody):
      // any worker may run it, as it may run stolen work.
      const unsigned workers = m_owner.worker_count();
      for (unsigned i = 0; i < workers; ++i) {  // from this worker on
        if (take_handed_over(m_owner.worker_at((m_index + i) % workers))) {
          break;
        }
      }
      if (!m_ring->ready().empty()) {
        next = work_item{};  // none: the caller resumes the ready list instead
        return true;
      }
    }
    if (m_owner.injection().try_pop(next)) {
      source = trace_source::injection;
      return true;
    }
    if (steal(next)) {
      source = trace_source::stolen;
      return true;
    }
    return false;
  };
  for (int round = 0; round < rounds; ++round) {
    if (look()) {
      return true;
    }
    if (round == 0 && m_latent_work_can_stall) {
      // Nothing anywhere: ask the busy workers to promote at their next poll (one whose last
      // promotion is less than an interval old waits for its heartbeat).
      for (unsigned v = 0; v < m_owner.worker_count(); ++v) {
        if (v != m_index) {
          m_owner.worker_at(v).want_promotion();
        }
      }
    }
    if (round == search_rounds / 2) {
      // Halfway and still nothing: maybe a worker is deep in a long frame with latent work.
      const std::int64_t now = monotonic_ns();
      for (unsigned v = 0; v < m_owner.worker_count(); ++v) {
        if (v != m_index) {
          m_owner.worker_at(v).nudge_if_stalled(now);
        }
      }
    }
    pause_between_looks(round);
  }
  // While another worker runs tasks with latent work beneath them, and polls, its next promotion is
  // at most a heartbeat away. Keep looking, at the longest pause, for up to busy_search_heartbeats
  // intervals (at most longest_busy_search_ns): a parked thief costs the promoting worker a wake-up
  // system call and arrives 15-30 us late, which on small pieces of work costs more than the spin
  // (tree_small on 2 workers parked and woke its thief about every 130 us; with the spin, every
  // 500 us, and T2 no longer exceeds T1). A worker busy without latent work, or in a long frame
  // that stopped polling, promotes nothing soon: then, and once no worker is busy, the thief parks
  // as before.
  if (!alone) {
    std::int64_t now = monotonic_ns();
    const std::int64_t until = now + std::min(busy_search_heartbeats * m_interval_ns, longest_busy_search_ns);
    for (; now < until && m_owner.any_worker_may_promote(now); now = monotonic_ns()) {
      if (look()) {
        return true;
      }
      pause_between_looks(max_pause_shift);
    }
  }
  return false;
}

void worker::run() noexcept {
  t_this_thread_worker = this;
  t_latent_stack = &m_continuations.fast();
  m_thread_id.store(gettid(), std::memory_order_release);
  m_owner.place_calling_thread(m_index);  // before the pool and the ring: their pages go to this CPU's node
  start_ring();
  m_owner.ring_started();
  frame_pool* const pool = new frame_pool(m_owner.frame_upstream(), current_numa_node());
  m_pool.store(pool, std::memory_order_release);
  set_current_frame_pool(pool);
  // Names show in top, gdb and perf; the kernel keeps at most 15 characters.
  const std::string name = fmt::format("pulse-w{}", m_index);
  pthread_setname_np(pthread_self(), name.c_str());
  m_last_poll_ns = monotonic_ns();
  m_next_heartbeat_ns = m_last_poll_ns + m_interval_ns;
  m_current_interval_ns.store(m_interval_ns, std::memory_order_relaxed);
  m_last_heartbeat_ns = m_last_poll_ns;
  m_last_clock_ns = m_last_poll_ns;

  idle_workers& idle = m_owner.idle();
  bool counted_as_searching = false;  // true after a wake-up: the waker counted us
  work_item next;
  trace_source source{};
  while (true) {
    if (!counted_as_searching) {
      // Completed I/O first (its tasks have waited already, and it frees ring entries), taking
      // turns with queued work (service_ring).
      bool queued_work_first = false;
      if (m_ring != nullptr) {
        take_handed_over(*this);
        const std::uint64_t kernel_entries = m_ring->kernel_entries();
        queued_work_first = service_ring();
        if (m_ring->kernel_entries() != kernel_entries) {
          m_last_clock_ns = 0;  // time went to the kernel since the last reading: read again
        }
        if (!queued_work_first && !m_ring->ready().empty()) {
          run_ready_from_loop();
          continue;
        }
      }
      if (find_work(next, source)) {
        run_from_loop(next, source);
        continue;
      }
      if (queued_work_first && !m_ring->ready().empty()) {
        run_ready_from_loop();  // another worker took the queued work
        continue;
      }
    }
    m_busy.store(false, std::memory_order_relaxed);
    m_may_promote_at_poll.store(false, std::memory_order_relaxed);
    m_batch_load = 0;  // nothing ready here any more
    publish_io_load(0);
    // Statistics builds read the clock as every stretch ends and every sleep does: a worker alone
    // with its I/O comes here once per batch of completions.
    const std::int64_t idle_since = instrumented ? stretch_start_ns() : monotonic_ns();
    m_idle_since_ns.store(idle_since, std::memory_order_relaxed);
    // Alone with I/O in flight, the worker's own completions are its likely next work, and the
    // sleep in its ring submits, waits for them and reaps them in one system call: searching first
    // would only cost time (the park's last look still sees work from outside). A worker woken to
    // search searches.
    const bool searching = counted_as_searching || !alone_waiting_for_io();
    if (!counted_as_searching && searching) {
      idle.start_searching();
    }
    counted_as_searching = false;
    if (m_ring != nullptr && m_owner.worker_count() > 1) {
      m_ring->submit();  // nothing here to batch with any more (alone, the sleep submits)
    }
    if (searching) {
      if (search(next, source)) {
        idle.found_work();
        const std::int64_t found_at = monotonic_ns();
        end_idle(idle_since, found_at);
        m_last_clock_ns = found_at;
        if (!next) {
          run_ready_from_loop();
        } else {
          run_from_loop(next, source);
        }
        continue;
      }
      idle.stop_searching();
    }
    if (m_owner.finished()) {
      end_idle(idle_since, monotonic_ns());
      break;
    }
    if (ring_cancellation_due()) {
      m_ring->cancel_everything();  // the sleep below submits it; its completions wake the worker
    }
    // While tasks are live, sleep at most a few heartbeats: then search again, and nudge a worker
    // whose latent work is stuck under a long frame (it publishes nothing, so nobody is woken).
    // Only while another worker runs tasks: with every worker idle no latent work can be stuck, and
    // a worker waiting for I/O or for work from outside sleeps until it comes.
    const std::int64_t timeout_ns =
        m_owner.has_live_roots() && m_owner.any_worker_busy() ? park_heartbeats * m_interval_ns : 0;
    // Clock reads cost 20 ns here, and a worker alone with its I/O parks once per batch of
    // completions: the park's start is read only for the trace.
    const std::int64_t parked_at = m_trace.on() ? monotonic_ns() : 0;
    m_counters.parks.add();
    // The last look also catches tasks that became live after the timeout was chosen: sleeping
    // for good then could leave a worker stalled under latent work with no watcher (see run_item).
    // With a ring, the worker sleeps in it: its own completions end the sleep too.
    // Alone, the idle spell began just before (no search): it stamps the sleep's submission.
    // Otherwise a search of up to a few hundred microseconds came in between, and the ring reads
    // the clock (stamping earlier would make service_ring submit sooner than its poll period).
    const ring_sleeper in_ring{[](void* self, std::int64_t timeout) noexcept {
                                 auto& me = *static_cast<worker*>(self);
                                 const bool alone = me.m_owner.worker_count() == 1;
                                 me.m_ring->sleep(timeout, alone ? me.m_idle_since_ns.load(std::memory_order_relaxed) : 0);
                               },
                               this};
    const auto reason = idle.park(
        m_index,
        [this, timeout_ns] {
          return m_owner.work_visible() || m_owner.finished() || (timeout_ns == 0 && m_owner.any_worker_busy()) ||
                 (m_ring != nullptr && (!m_ring->ready().empty() || m_ring->completions_posted())) ||
                 ring_cancellation_due();
        },
        timeout_ns, m_ring != nullptr ? in_ring : ring_sleeper{});
    counted_as_searching = reason == idle_workers::wake_reason::notified;
    const std::int64_t woke_at = instrumented || parked_at != 0 ? monotonic_ns() : 0;
    m_last_clock_ns = woke_at;
    if (counted_as_searching) {
      m_counters.wakeups.add();
    }
    end_idle(idle_since, woke_at);
    if (parked_at != 0 && m_trace.on()) [[unlikely]] {
      m_trace.record({parked_at, woke_at - parked_at, trace_kind::park, 0});
    }
  }
  set_current_frame_pool(nullptr);
  t_latent_stack = nullptr;
  t_this_thread_worker = nullptr;
}

}  // namespace pulse::detail

namespace pulse::detail {

bool worker::ring_cancellation_due() const noexcept {
  return m_ring != nullptr && m_owner.io_cancel_requested() && !m_ring->cancel_everything_asked();
}

std::uint64_t worker::progress() const noexcept {
  // The ring is made before the runtime's constructor returns and lives as long as the worker.
  const io_ring* const ring = m_ring.get();
  return m_stretches_ended.read() + (ring != nullptr ? ring->completed() : 0);
}

worker_stats worker::stats() const noexcept {
  worker_stats mine;
  mine.tasks_run = m_counters.tasks_run.read();
  mine.forks = m_continuations.pushes();
  mine.heartbeats = m_counters.heartbeats.read();
  mine.promotions = m_counters.promotions.read();
  mine.heartbeat_signals = m_counters.signals_received.load(std::memory_order_relaxed);
  mine.steals = m_counters.steals.read();
  mine.steal_attempts = m_counters.steal_attempts.read();
  // Steals were read first, and every steal follows its attempt's count; clamped all the same, as
  // relaxed counters promise no order between them.
  mine.steal_failures = mine.steal_attempts > mine.steals ? mine.steal_attempts - mine.steals : 0;
  mine.parks = m_counters.parks.read();
  mine.wakeups = m_counters.wakeups.read();
  // Including the stretch still going on (a worker asleep since long ago, or still in the strand
  // that finished the task the caller waited for). The stretch's start first (acquire): if it is
  // over, its time is in the total read next.
  // Read again after the total: a stretch that ended in between would be counted twice.
  const auto so_far = [](const std::atomic<std::int64_t>& since, const statistics_counter& total) {
    while (true) {
      const std::int64_t started = since.load(std::memory_order_acquire);
      const std::uint64_t counted = total.read();
      if (since.load(std::memory_order_acquire) == started) {
        const std::int64_t ongoing = started != 0 ? monotonic_ns() - started : 0;
        return std::chrono::nanoseconds{counted} + std::chrono::nanoseconds{ongoing};
      }
    }
  };
  mine.idle_time = so_far(m_idle_since_ns, m_counters.idle_ns);
  mine.busy_time = so_far(m_busy_since_ns, m_counters.busy_ns);
  mine.promotion_time = std::chrono::nanoseconds{m_counters.promotion_ns.read()};
  if (const frame_pool* const pool = m_pool.load(std::memory_order_acquire)) {
    mine.frames_allocated = pool->allocated_blocks();
    mine.frames_reused = pool->reused_blocks();
    mine.frames_remote_freed = pool->counters().remote_freed.read();
    mine.frames_off_node = pool->counters().off_node.read();
  }
  // The ring is made before the runtime's constructor returns and lives as long as the worker.
  if (const io_ring* const ring = m_ring.get()) {
    mine.io_completions = ring->completed();  // first: never more completions than operations
    mine.io_operations = ring->prepared();
    mine.io_in_flight = mine.io_operations - mine.io_completions;
    mine.io_submit_calls = ring->submit_calls();
    mine.io_handed_over = m_counters.io_handed_over.read();
    mine.io_signal_submits = m_counters.signal_submits.load(std::memory_order_relaxed);
  }
  return mine;
}

}  // namespace pulse::detail
