// The --session QUEUE=ATTRIBUTE:REGEX arguments of the fault tests' forwarding tools.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/router.h"

namespace qsplit::testing {

// One steal-mode route per argument, in order; nullopt when one is malformed.
inline std::optional<std::vector<core::SessionRoute>> parseSessionArgs(
    const std::vector<std::string>& args) {
  std::vector<core::SessionRoute> routes;
  for (const auto& s : args) {
    auto eq = s.find('='), colon = s.find(':', eq == std::string::npos ? 0 : eq);
    if (eq == std::string::npos || colon == std::string::npos) return std::nullopt;
    auto filter = core::Filter::compile({{s.substr(eq + 1, colon - eq - 1), s.substr(colon + 1)}});
    if (!filter) return std::nullopt;
    routes.push_back({s.substr(0, eq), *filter, core::QueueMode::kSteal, s.substr(0, eq)});
  }
  return routes;
}

}  // namespace qsplit::testing
