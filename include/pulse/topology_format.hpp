// fmt support for pulse::topology: fmt::print("{}", pulse::topology::detect()) prints its summary.
// A header of its own because fmt is not a dependency pulse imposes on its users: include it only
// in code that already uses fmt.
#pragma once

#include <pulse/topology.hpp>

#include <fmt/format.h>

#include <string_view>

template <>
struct fmt::formatter<pulse::topology> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const pulse::topology& machine, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(machine.summary(), context);
  }
};
