// pulse::stats: summing, the work/overhead ratio, and the printed table.
#include <pulse/stats.hpp>

#include <fmt/format.h>

#include <limits>

namespace pulse {
namespace {

double milliseconds(std::chrono::nanoseconds time) noexcept { return static_cast<double>(time.count()) / 1e6; }

void append_row(std::string& out, std::string_view name, const worker_stats& row) {
  fmt::format_to(std::back_inserter(out),
                 "{:>8} {:>10} {:>12} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10.1f} {:>10.1f} {:>8.3f} "
                 "{:>12} {:>10} {:>8} {:>8} {:>10.4g} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10}\n",
                 name, row.tasks_run, row.forks, row.heartbeats, row.promotions, row.heartbeat_signals,
                 row.steal_attempts, row.steals, row.steal_failures, row.parks, row.wakeups, milliseconds(row.busy_time),
                 milliseconds(row.idle_time), milliseconds(row.promotion_time), row.frames_allocated,
                 row.frames_reused, row.frames_remote_freed, row.frames_off_node, row.work_overhead_ratio(),
                 row.io_operations, row.io_completions, row.io_submit_calls, row.io_in_flight, row.io_handed_over,
                 row.io_signal_submits);
}

}  // namespace

double worker_stats::work_overhead_ratio() const noexcept {
  if (promotion_time.count() == 0) {
    return std::numeric_limits<double>::infinity();
  }
  return static_cast<double>((busy_time - promotion_time).count()) / static_cast<double>(promotion_time.count());
}

worker_stats& worker_stats::operator+=(const worker_stats& other) noexcept {
  tasks_run += other.tasks_run;
  forks += other.forks;
  heartbeats += other.heartbeats;
  promotions += other.promotions;
  heartbeat_signals += other.heartbeat_signals;
  steal_attempts += other.steal_attempts;
  steals += other.steals;
  steal_failures += other.steal_failures;
  parks += other.parks;
  wakeups += other.wakeups;
  idle_time += other.idle_time;
  busy_time += other.busy_time;
  promotion_time += other.promotion_time;
  frames_allocated += other.frames_allocated;
  frames_reused += other.frames_reused;
  frames_remote_freed += other.frames_remote_freed;
  frames_off_node += other.frames_off_node;
  io_operations += other.io_operations;
  io_completions += other.io_completions;
  io_in_flight += other.io_in_flight;
  io_submit_calls += other.io_submit_calls;
  io_handed_over += other.io_handed_over;
  io_signal_submits += other.io_signal_submits;
  return *this;
}

std::string to_string(const stats& snapshot) {
  std::string out = fmt::format(
      "{:>8} {:>10} {:>12} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10} {:>8} {:>8} {:>10} {:>10} {:>8} {:>12} {:>10} "
      "{:>8} {:>8} {:>10} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10}\n",
      "worker", "tasks", "forks", "heartbeat", "promoted", "signals", "steal try", "stolen", "steal fail", "parks",
      "wakeups", "busy ms", "idle ms", "promo ms", "frames", "reused", "remote", "offnode", "work/ovh",
      "io ops", "io done", "io enters", "io now", "handed", "io nudged");
  for (std::size_t i = 0; i < snapshot.workers.size(); ++i) {
    append_row(out, fmt::format("{}", i), snapshot.workers[i]);
  }
  append_row(out, "total", snapshot);
  return out;
}

}  // namespace pulse
