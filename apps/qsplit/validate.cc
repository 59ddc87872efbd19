#include "validate.h"

#include <fmt/format.h>

#include <filesystem>

#include "config/resources.h"
#include "config/user_config.h"

namespace qsplit::cli {
namespace {

Result<config::ResourceSet> loadResources(const std::string& path) {
  if (std::filesystem::is_directory(path)) return config::loadResourceDir(path);
  return config::loadResourceFile(path);
}

// Queue ids the resources declare for the config's target (all of them without a target).
std::vector<std::string> declaredIds(const config::ResourceSet& set, const config::UserConfig& user) {
  std::vector<std::string> ids;
  auto wanted = [&](const std::string& name) { return !user.target || user.target->name == name; };
  for (const auto& r : set.registries)
    if (wanted(r.consumer.name))
      for (const auto& q : r.queues) ids.push_back(q.id);
  for (const auto& c : set.topics_consumers)
    if (wanted(c.consumer_name))
      for (const auto& t : c.topics) ids.push_back(t.id);
  for (const auto& c : set.split_configs)
    if (wanted(c.target_ref.name))
      for (const auto& q : c.queues) ids.push_back(q.id);
  return ids;
}

}  // namespace

int runValidate(const std::string& config_path, const std::string& resources_path) {
  auto user = config::loadUserConfig(config_path);
  if (!user) {
    fmt::print(stderr, "qsplit validate: {}\n", user.error().message());
    return 2;
  }
  fmt::print("{}: target {}\n", config_path, user->target ? user->target->toString() : "(none)");
  for (const auto& s : user->splits) {
    std::string rules;
    for (const auto& [name, regex] : s.message_filter) rules += fmt::format(" {}=~/{}/", name, regex);
    fmt::print("  {} ({}, {}):{}\n", s.queue_id, config::queueTypeName(s.type),
               core::queueModeName(s.mode), rules.empty() ? " matches nothing" : rules);
  }
  if (resources_path.empty()) return 0;
  auto set = loadResources(resources_path);
  if (!set) {
    fmt::print(stderr, "qsplit validate: {}\n", set.error().message());
    return 2;
  }
  fmt::print("{}: {} queue registries, {} topics consumers, {} Kafka client configs, {} split "
             "configs, {} secrets, {} other documents ignored\n",
             resources_path, set->registries.size(), set->topics_consumers.size(),
             set->kafka_client_configs.size(), set->split_configs.size(), set->secrets.size(),
             set->ignored);
  auto ids = declaredIds(*set, *user);
  for (const auto& s : user->splits) {
    if (s.queue_id == "*" || std::find(ids.begin(), ids.end(), s.queue_id) != ids.end()) continue;
    fmt::print(stderr, "qsplit validate: {}: feature.split_queues: queue id '{}' is not declared "
                       "by any resource for target {} in {}\n",
               config_path, s.queue_id, user->target ? user->target->toString() : "(any)",
               resources_path);
    return 2;
  }
  fmt::print("OK\n");
  return 0;
}

}  // namespace qsplit::cli
