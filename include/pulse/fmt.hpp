// fmt formatters for pulse's printable types:
//   fmt::print("{}", rt.stats());                 // the statistics table (pulse::to_string)
//   fmt::print("{}", pulse::topology::detect());  // the topology summary (topology::summary)
// fmt is a public dependency of pulse (pulse::pulse and pkg-config bring it), so this header
// needs nothing more; it is kept out of pulse.hpp so that code not printing need not parse fmt.
#pragma once

#include <pulse/stats.hpp>
#include <pulse/topology.hpp>

#include <fmt/format.h>

#include <string_view>

template <>
struct fmt::formatter<pulse::stats> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const pulse::stats& snapshot, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(pulse::to_string(snapshot), context);
  }
};

template <>
struct fmt::formatter<pulse::topology> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const pulse::topology& machine, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(machine.summary(), context);
  }
};
