// Validation of runtime_options and of the PULSE_WORKERS environment variable.
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
  return options;
}

}  // namespace pulse::detail
