// fmt formatters for pulse's printable types: fmt::print("{}", rt.stats()) prints the statistics
// table (pulse::to_string). fmt is a public dependency of pulse, so including this needs nothing
// more than linking pulse::pulse.
#pragma once

#include <pulse/stats.hpp>

#include <fmt/format.h>

#include <string_view>

template <>
struct fmt::formatter<pulse::stats> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const pulse::stats& snapshot, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(pulse::to_string(snapshot), context);
  }
};
