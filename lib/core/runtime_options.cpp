// Validation of runtime_options and of the environment: PULSE_WORKERS, PULSE_PIN, PULSE_STATS,
// PULSE_TRACE.
#include "core/runtime_impl.hpp"
#include "topo/placement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace pulse::detail {
namespace {

// More workers than this is a mistake, not a configuration: 64 per usable CPU (oversubscription
// for tests and blocking experiments stays possible), and never fewer than 256 in all.
unsigned max_workers(unsigned allowed_cpus) noexcept { return std::max(256U, 64U * allowed_cpus); }

unsigned workers_from_environment(std::string_view text, unsigned limit) {
  unsigned value = 0;
  const char* const first = text.data();
  const char* const last = first + text.size();
  const auto [end, error] = std::from_chars(first, last, value);
  if (error != std::errc{} || end != last || value == 0 || value > limit) {
    throw std::invalid_argument(fmt::format(
        "PULSE_WORKERS='{}' is not a valid worker count: expected a whole number from 1 to {}", text, limit));
  }
  return value;
}

bool pin_from_environment(std::string_view text) {
  if (text == "1" || text == "true") {
    return true;
  }
  if (text == "0" || text == "false") {
    return false;
  }
  throw std::invalid_argument(
      fmt::format("PULSE_PIN='{}' is not valid: expected 1 or true (pin each worker to a CPU), 0 or false (do not)", text));
}

// The value of environment variable `name`, or null if it is unset or empty.
const char* environment(const char* name) noexcept {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

runtime_options resolve_options(runtime_options options, const topology& machine) {
  if (options.heartbeat.count() <= 0) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::heartbeat must be positive; got {}us", options.heartbeat.count()));
  }
  if (options.heartbeat > longest_heartbeat) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::heartbeat = {}us is longer than pulse::longest_heartbeat ({}s); "
        "for no promotion at all, use promotion_mode::serial",
        options.heartbeat.count(), longest_heartbeat.count()));
  }
  if (options.promotion != promotion_mode::heartbeat && options.promotion != promotion_mode::eager &&
      options.promotion != promotion_mode::adaptive && options.promotion != promotion_mode::serial) {
    throw std::invalid_argument(fmt::format("pulse::runtime_options::promotion = {} is not a promotion_mode value",
                                            static_cast<int>(options.promotion)));
  }
  const auto allowed_cpus = static_cast<unsigned>(machine.pus.size());
  const unsigned limit = max_workers(allowed_cpus);
  if (options.workers == 0) {
    const char* from_environment = environment("PULSE_WORKERS");
    options.workers = from_environment != nullptr ? workers_from_environment(from_environment, limit)
                                                  : default_worker_count(machine, options.smt);
  } else if (options.workers > limit) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::workers = {} is more than this process can reasonably run "
        "(at most {}: 64 per CPU it may use, {} here)",
        options.workers, limit, allowed_cpus));
  }
  if (!options.pin) {
    const char* from_environment = environment("PULSE_PIN");
    options.pin = from_environment == nullptr || pin_from_environment(from_environment);
  }
  if (options.trace_events_per_worker == 0 || options.trace_events_per_worker > max_trace_events_per_worker) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::trace_events_per_worker = {} must be from 1 to pulse::max_trace_events_per_worker ({}, "
        "2 GiB of events per worker)",
        options.trace_events_per_worker, max_trace_events_per_worker));
  }
  if (options.io_ring_entries < min_io_ring_entries || options.io_ring_entries > max_io_ring_entries) {
    throw std::invalid_argument(fmt::format("pulse::runtime_options::io_ring_entries = {} must be between {} and {}",
                                            options.io_ring_entries, min_io_ring_entries, max_io_ring_entries));
  }
  if (options.io != io_support::automatic && options.io != io_support::required && options.io != io_support::disabled) {
    throw std::invalid_argument(fmt::format("pulse::runtime_options::io = {} is not an io_support value",
                                            static_cast<int>(options.io)));
  }
  if (options.io_shutdown_grace &&
      (options.io_shutdown_grace->count() < 0 || *options.io_shutdown_grace > longest_io_shutdown_grace)) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::io_shutdown_grace = {}ms must be from 0 to pulse::longest_io_shutdown_grace ({}h); "
        "leave it empty to wait for pending I/O forever",
        options.io_shutdown_grace->count(), longest_io_shutdown_grace.count()));
  }
  return options;
}

environment_requests read_environment_requests() {
  environment_requests requests;
  if (const char* stats = environment("PULSE_STATS")) {
    const std::string_view value = stats;
    if (value != "0" && value != "1") {
      throw std::invalid_argument(
          fmt::format("PULSE_STATS='{}' is not valid: expected 1 (print statistics when a runtime ends) or 0", value));
    }
    requests.print_stats = value == "1";
  }
  if (const char* trace = environment("PULSE_TRACE")) {
    requests.trace_path = trace;
  }
  return requests;
}

}  // namespace pulse::detail
