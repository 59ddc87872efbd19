#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>
#include <sstream>

namespace qsplit {
namespace {

std::mutex& registryMutex() {
  static std::mutex m;
  return m;
}

spdlog::level::level_enum& defaultLevel() {
  static spdlog::level::level_enum level = spdlog::level::info;
  return level;
}

bool parseLevel(const std::string& text, spdlog::level::level_enum* out) {
  auto level = spdlog::level::from_str(text);
  // from_str answers "off" for anything it does not know.
  if (level == spdlog::level::off && text != "off") return false;
  *out = level;
  return true;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& module) {
  std::lock_guard lock(registryMutex());
  if (auto existing = spdlog::get(module)) return existing;
  auto created = spdlog::stderr_color_mt(module);
  created->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  created->set_level(defaultLevel());
  return created;
}

bool setLogLevels(const std::string& spec, std::string* error) {
  std::stringstream items(spec);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string name = eq == std::string::npos ? "" : item.substr(0, eq);
    std::string value = eq == std::string::npos ? item : item.substr(eq + 1);
    spdlog::level::level_enum level;
    if (!parseLevel(value, &level)) {
      *error = "log level '" + value + "' is not one of trace, debug, info, warn, error, critical, off";
      return false;
    }
    if (name.empty()) {
      std::lock_guard lock(registryMutex());
      defaultLevel() = level;
      spdlog::set_level(level);
    } else {
      logger(name)->set_level(level);
    }
  }
  return true;
}

}  // namespace qsplit
