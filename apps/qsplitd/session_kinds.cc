#include "session_kinds.h"

#include <cstdio>
#include <ctime>

#include "config/user_config.h"

namespace qsplit::daemon {
namespace {

using nlohmann::json;

json qsplitStatus(const control::Session& s, const std::vector<control::QueueStatus>& queues) {
  json status_queues = json::array();
  for (const auto& q : s.queues) {
    json entry = {{"id", q.queue_id}, {"original", q.original}, {"temporary", q.temporary}};
    for (const auto& split : queues) {
      if (split.split.original != q.original) continue;
      entry["fallback"] = split.split.fallback;
      auto forwarded = split.split.counts.forwarded.find(q.temporary);
      entry["forwarded"] = forwarded == split.split.counts.forwarded.end() ? 0 : forwarded->second;
    }
    status_queues.push_back(entry);
  }
  return {{"phase", s.state == "starting" ? "Starting" : "Ready"}, {"queues", status_queues}};
}

std::vector<const control::SessionQueue*> sqsQueues(const control::Session& s) {
  std::vector<const control::SessionQueue*> out;
  for (const auto& q : s.queues)
    if (q.type == config::QueueType::kSqs) out.push_back(&q);
  return out;
}

// The reference keys a queue by its id, or by "<id>::<original>" when one id names several
// queues (regexPattern, namesFromJsonMap).
std::string queueKey(const control::Session& s, const control::SessionQueue& q) {
  int same = 0;
  for (const auto* other : sqsQueues(s)) same += other->queue_id == q.queue_id;
  return same > 1 ? q.queue_id + "::" + q.original : q.queue_id;
}

// The reference's workloadType: "Deployment", "Rollout", "StatefulSet".
std::string workloadType(const std::string& kind) {
  if (kind == "statefulset") return "StatefulSet";
  if (kind.empty()) return kind;
  std::string out = kind;
  out[0] = static_cast<char>(std::toupper(out[0]));
  return out;
}

// The reference's sessionId: a u64 as uppercase hex.
std::string sessionId(const std::string& id) {
  char* end = nullptr;
  unsigned long long value = std::strtoull(id.c_str(), &end, 10);
  if (id.empty() || *end) return id;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%llX", value);
  return hex;
}

bool splitsSqs(const control::Session& s) { return !sqsQueues(s).empty(); }

json sqsSpec(const control::Session& s) {
  auto queues = sqsQueues(s);
  auto user = config::parseUserConfig(s.config_json, "mirrord.json");
  json filters = json::object(), jq = json::object(), outputs = json::object();
  for (const auto* q : queues) {
    // The user's filters, as written; a queue she did not mention has none (and gets nothing).
    const config::QueueSplit* split = user ? user->find(q->queue_id, config::QueueType::kSqs) : nullptr;
    if (split) filters[q->queue_id] = split->message_filter;
    if (split && !split->jq_filter.empty()) jq[q->queue_id] = split->jq_filter;
    outputs[q->original] = q->temporary;
  }
  json consumer = {{"name", s.target}, {"workloadType", ""}};
  if (auto target = config::Target::parse(s.target)) {
    consumer = {{"name", target->name}, {"workloadType", workloadType(target->kind)}};
    if (target->container) consumer["container"] = *target->container;
  }
  return json{{"queueFilters", filters}, {"queueJqFilters", jq}, {"queueConsumer", consumer},
              {"sessionId", sessionId(s.id)}, {"outputQueueNames", outputs}};
}

json sqsStatus(const control::Session& s, const std::vector<control::QueueStatus>&) {
  if (s.state == "starting") {
    std::time_t seconds = s.started_unix_ms / 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%FT%TZ", &utc);
    return {{"Starting", {{"start_time_utc", text}}}};
  }
  json names = json::object(), env = json::object();
  for (const auto* q : sqsQueues(s)) {
    json pair = {{"originalName", q->original}, {"outputName", q->temporary}};
    names[queueKey(s, *q)] = pair;
    for (const auto& [variable, value] : s.env)
      if (value == q->temporary || value.ends_with("/" + q->temporary)) env[variable] = pair;
  }
  return {{"Ready", {{"queueNames", names}, {"envUpdates", env}}}};
}

}  // namespace

SessionKind qsplitSessionKind(const std::string& ns) {
  return {"/apis/qsplit.dev/v1alpha1/namespaces/" + ns + "/qsplitsessions", "qsplit.dev/v1alpha1",
          "QsplitSession", "session-", [](const control::Session&) { return true; },
          [](const control::Session& s) {
            json queue_list = json::array();
            for (const auto& q : s.queues) queue_list.push_back({{"id", q.queue_id}});
            return json{{"id", s.id}, {"owner", s.owner}, {"target", s.target}, {"queues", queue_list}};
          },
          qsplitStatus};
}

SessionKind sqsSessionKind(const std::string& ns) {
  return {"/apis/queues.mirrord.metalbear.co/v1alpha/namespaces/" + ns + "/mirrordsqssessions",
          "queues.mirrord.metalbear.co/v1alpha", "MirrordSQSSession", "qsplit-", splitsSqs, sqsSpec,
          sqsStatus};
}

}  // namespace qsplit::daemon
