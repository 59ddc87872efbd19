#include "registry_status.h"

#include "common/log.h"

namespace qsplit::daemon {

using nlohmann::json;

void RegistryStatus::sync(const config::ResourceSet& resources,
                          const control::SessionManager& sessions) {
  // original queue -> its queue id, from the sessions that split it
  std::map<std::string, std::string> ids;
  for (const auto& s : sessions.list())
    for (const auto& q : s.queues) ids[q.original] = q.queue_id;
  auto queues = sessions.queues();
  for (const auto& registry : resources.registries) {
    json names = json::object();
    for (const auto& q : queues) {
      if (q.type != config::QueueType::kSqs || q.split.fallback.empty()) continue;
      if (!registry.consumer.matches(q.workload)) continue;
      auto id = ids.find(q.split.original);
      if (id == ids.end()) continue;
      const config::RegistryQueue* declared = registry.findQueue(id->second);
      // Several queues under one id (regexPattern, namesFromJsonMap): "<id>::<original>".
      bool many = declared && (declared->name_source.regex_pattern || declared->names_from_json_map);
      std::string key = many ? id->second + "::" + q.split.original : id->second;
      names[key] = {{"originalName", q.split.original}, {"outputName", q.split.fallback}};
    }
    json status = names.empty() ? json::object()
                                : json{{"sqsDetails", {{"queueNames", names}}}};
    std::string key = registry.meta.namespace_ + "/" + registry.meta.name;
    std::string text = status.dump();
    auto last = written_.find(key);
    if (last != written_.end() ? last->second == text : names.empty()) continue;
    // A merge patch: null removes what an earlier status had.
    json patch = {{"status", names.empty() ? json{{"sqsDetails", nullptr}} : status}};
    auto r = client_.patch("/apis/queues.mirrord.metalbear.co/v1alpha/namespaces/" +
                               registry.meta.namespace_ + "/mirrordworkloadqueueregistries/" +
                               registry.meta.name + "/status", patch);
    if (!r) {
      logger("resources")->warn("MirrordWorkloadQueueRegistry {}: status: {}", key, r.error().message());
      continue;
    }
    written_[key] = text;
  }
}

}  // namespace qsplit::daemon
