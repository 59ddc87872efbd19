#include "validate.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

#include "resolve.h"
#include "table.h"

#include "config/resources.h"
#include "config/user_config.h"

namespace qsplit::cli {
namespace {

// Every file is loaded, so every broken file is reported, not only the first.
config::ResourceSet loadResources(const std::string& path, std::vector<std::string>& errors) {
  std::vector<std::string> files;
  if (std::filesystem::is_directory(path)) {
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      auto ext = e.path().extension().string();
      if (ext == ".yaml" || ext == ".yml") files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  config::ResourceSet all;
  for (const auto& file : files) {
    auto set = config::loadResourceFile(file);
    if (set) all.append(std::move(set).value());
    else errors.push_back(set.error().message());
  }
  return all;
}

// Queue ids the resources declare for the config's target (all of them without a target).
std::vector<std::string> declaredIds(const config::ResourceSet& set, const config::UserConfig& user) {
  std::vector<std::string> ids;
  auto wanted = [&](const std::string& kind, const std::string& name) {
    if (!user.target) return true;
    const auto& t = *user.target;
    return config::sameWorkload(kind, name, t.kind.empty() ? t.name : t.kind + "/" + t.name);
  };
  for (const auto& r : set.registries)
    if (wanted(r.consumer.workload_type, r.consumer.name))
      for (const auto& q : r.queues) ids.push_back(q.id);
  for (const auto& c : set.topics_consumers)
    if (wanted(c.consumer_kind, c.consumer_name))
      for (const auto& t : c.topics) ids.push_back(t.id);
  for (const auto& c : set.split_configs)
    if (wanted(c.target_ref.kind, c.target_ref.name))
      for (const auto& q : c.queues) ids.push_back(q.id);
  return ids;
}

}  // namespace

int runValidate(const std::string& config_path, const std::string& resources_path, bool json) {
  nlohmann::json out = {{"config", config_path}, {"queues", nlohmann::json::array()},
                        {"errors", nlohmann::json::array()}};
  auto finish = [&](const std::vector<std::string>& errors) {
    out["ok"] = errors.empty();
    for (const auto& e : errors) out["errors"].push_back(e);
    if (json) fmt::print("{}\n", out.dump());
    for (const auto& e : errors)
      if (!json) fmt::print(stderr, "qsplit validate: {}\n", e);
    if (errors.empty() && !json) fmt::print("OK\n");
    return errors.empty() ? 0 : 2;
  };
  auto resolved = resolveConfig(config_path);
  if (!resolved) {  // one error per line of the message (every error of the config)
    std::vector<std::string> errors;
    std::string message = resolved.error().message();
    for (std::size_t start = 0; start < message.size();) {
      auto end = std::min(message.find('\n', start), message.size());
      errors.push_back(message.substr(start, end - start));
      start = end + 1;
    }
    return finish(errors);
  }
  const config::UserConfig* user = &resolved->user;
  std::string target = user->target ? user->target->toString() : "(none)";
  out["target"] = target;
  Table table({{"QUEUE ID"}, {"TYPE"}, {"MODE"}, {"FILTER"}});
  for (const auto& s : user->splits) {
    std::string filter = config::describeFilter(s);
    table.add({s.queue_id, config::queueTypeName(s.type), core::queueModeName(s.mode), filter});
    out["queues"].push_back({{"queue_id", s.queue_id}, {"queue_type", config::queueTypeName(s.type)},
                             {"mode", core::queueModeName(s.mode)}, {"filter", filter}});
  }
  if (!json) fmt::print("{}: target {}\n{}", config_path, target, table.render());
  if (resources_path.empty()) return finish({});
  std::vector<std::string> errors;
  auto set = loadResources(resources_path, errors);
  out["resources"] = {{"path", resources_path}, {"queue_registries", set.registries.size()},
                      {"topics_consumers", set.topics_consumers.size()},
                      {"kafka_client_configs", set.kafka_client_configs.size()},
                      {"split_configs", set.split_configs.size()}, {"secrets", set.secrets.size()},
                      {"ignored", set.ignored}};
  if (!json)
    fmt::print("{}: {} queue registries, {} topics consumers, {} Kafka client configs, {} split "
               "configs, {} secrets, {} other documents ignored\n",
               resources_path, set.registries.size(), set.topics_consumers.size(),
               set.kafka_client_configs.size(), set.split_configs.size(), set.secrets.size(),
               set.ignored);
  auto ids = declaredIds(set, *user);
  for (const auto& s : user->splits) {
    if (s.queue_id == "*" || std::find(ids.begin(), ids.end(), s.queue_id) != ids.end()) continue;
    errors.push_back(fmt::format("{}: feature.split_queues: queue id '{}' is not declared by any "
                                 "resource for target {} in {}",
                                 config_path, s.queue_id,
                                 user->target ? user->target->toString() : "(any)", resources_path));
  }
  return finish(errors);
}

}  // namespace qsplit::cli
