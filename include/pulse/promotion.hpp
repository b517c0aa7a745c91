// When latent work becomes stealable: the promotion policies.
//
// A fork, a pcall or a loop records its not-yet-started part as latent work, on the worker, for
// the price of a store. Promotion moves the oldest latent part into the worker's deque, where an
// idle worker can steal it. The policy decides when.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace pulse {

enum class promotion_mode {
  // Default. Each worker promotes at most one piece of its oldest latent work per heartbeat
  // (runtime_options::heartbeat): parallelism is paid for only as often as it can pay back.
  heartbeat,
  // Every fork is published at once, as classic work stealing does; kept for comparison.
  eager,
  // Like heartbeat, with the interval tuned at run time so that promotion costs stay near 1% of the
  // time between heartbeats (between the configured heartbeat / 4 and heartbeat * 16).
  adaptive,
  // Forks are plain calls and nothing is ever promoted: the zero-overhead mode.
  serial,
};

// What a worker knows when its heartbeat falls due.
struct heartbeat_sample {
  unsigned worker;                         // its index
  std::size_t latent;                      // latent entries it holds now (at least one)
  std::chrono::nanoseconds interval;       // the heartbeat interval in force
  std::chrono::nanoseconds since_last;     // time since its previous heartbeat
  std::chrono::nanoseconds promotion_cost; // time its previous heartbeat spent promoting
};

// The longest heartbeat interval: runtime_options::heartbeat may not exceed it, and an interval a
// policy returns is clamped to [1 ns, longest_heartbeat]. (Longer would overflow the workers' clock
// arithmetic; for no promotion at all, use promotion_mode::serial.)
inline constexpr std::chrono::seconds longest_heartbeat{10};

// A user-defined policy, given as runtime_options::policy. The seed's SchedulerVTable maps onto it:
// shouldPromote is should_promote, updateStats is next_interval (called after every heartbeat), and
// selectWorker is select_victim. Each worker calls it from its own thread only at heartbeats, loop
// polls and steals, never per fork, so a virtual call costs nothing that matters; calls from
// different workers may run at once. The members are noexcept, and so must their overrides be (the
// compiler refuses one that is not): a worker calls them from its scheduling loop, where there is
// no caller to hand an exception to.
class promotion_policy {
public:
  virtual ~promotion_policy() = default;
  // How many of the oldest latent entries to promote now (0 to sample.latent). At a loop's poll, a
  // loop holding no older latent work counts its remaining range as the one entry (sample.latent
  // is 1): any non-zero answer splits the range and promotes its upper half.
  virtual std::size_t should_promote(const heartbeat_sample& sample) noexcept = 0;
  // The interval until this worker's next heartbeat (clamped to [1 ns, longest_heartbeat]).
  virtual std::chrono::nanoseconds next_interval(const heartbeat_sample& sample) noexcept { return sample.interval; }
  // Which worker to try first when `thief` looks for work (the others follow in order; an answer
  // out of range is taken modulo `workers`); `random` is a fresh random number. The default is
  // uniform.
  virtual unsigned select_victim(unsigned thief, unsigned workers, std::uint64_t random) noexcept {
    const unsigned others = workers - 1;
    const auto pick = static_cast<unsigned>(random % others);
    return pick >= thief ? pick + 1 : pick;
  }
};

}  // namespace pulse
