// Validation of runtime_options and of the environment: PULSE_WORKERS, PULSE_STATS, PULSE_TRACE.
#include "core/runtime_impl.hpp"
#include "topo/affinity.hpp"

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

}  // namespace

runtime_options resolve_options(runtime_options options) {
  if (options.heartbeat.count() <= 0) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::heartbeat must be positive; got {}us", options.heartbeat.count()));
  }
  const unsigned allowed_cpus = cpu_mask::of_process().count();
  const unsigned limit = max_workers(allowed_cpus);
  if (options.workers == 0) {
    const char* from_environment = std::getenv("PULSE_WORKERS");
    options.workers = from_environment != nullptr && *from_environment != '\0'
                          ? workers_from_environment(from_environment, limit)
                          : allowed_cpus;
  } else if (options.workers > limit) {
    throw std::invalid_argument(fmt::format(
        "pulse::runtime_options::workers = {} is more than this process can reasonably run "
        "(at most {}: 64 per CPU it may use, {} here)",
        options.workers, limit, allowed_cpus));
  }
  if (options.trace_events_per_worker == 0) {
    throw std::invalid_argument("pulse::runtime_options::trace_events_per_worker must be positive");
  }
  return options;
}

environment_requests read_environment_requests() {
  environment_requests requests;
  if (const char* stats = std::getenv("PULSE_STATS"); stats != nullptr && *stats != '\0') {
    const std::string_view value = stats;
    if (value != "0" && value != "1") {
      throw std::invalid_argument(
          fmt::format("PULSE_STATS='{}' is not valid: expected 1 (print statistics when a runtime ends) or 0", value));
    }
    requests.print_stats = value == "1";
  }
  if (const char* trace = std::getenv("PULSE_TRACE"); trace != nullptr) {
    requests.trace_path = trace;
  }
  return requests;
}

}  // namespace pulse::detail
