// Test helpers: build messages and filters in one line.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/filter.h"
#include "core/message.h"

namespace qsplit::testing {

inline core::Message message(std::vector<std::pair<std::string, std::string>> attributes,
                             std::string body = "body") {
  core::Message m;
  m.body = std::move(body);
  for (auto& [name, value] : attributes) m.attributes.push_back({name, value, "String"});
  return m;
}

inline core::Filter filter(std::map<std::string, std::string> rules) {
  auto compiled = core::Filter::compile(rules);
  if (!compiled) throw std::runtime_error(compiled.error().message());
  return *compiled;
}

}  // namespace qsplit::testing
