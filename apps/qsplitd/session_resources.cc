#include "session_resources.h"

#include "common/log.h"

namespace qsplit::daemon {
namespace {

using nlohmann::json;

constexpr char kApi[] = "/apis/qsplit.dev/v1alpha1/namespaces/";

std::string nameOf(const std::string& id) { return "session-" + id; }

std::string phaseOf(const std::string& state) {
  if (state == "starting") return "Starting";
  return "Ready";  // "ready" (no heartbeat yet) and "connected"
}

}  // namespace

SessionResources::SessionResources(kube::KubeClient& client, std::string ns,
                                   control::SessionManager& sessions)
    : client_(client), namespace_(std::move(ns)), sessions_(sessions) {}

std::string SessionResources::path(const std::string& id) const {
  return kApi + namespace_ + "/qsplitsessions/" + nameOf(id);
}

void SessionResources::warnOnce(const std::string& id, const Error& e) {
  if (errors_[id] == e.message()) return;
  errors_[id] = e.message();
  logger("sessions")->error("session={} QsplitSession: {}", id, e.message());
}

void SessionResources::write(const control::Session& s,
                             const std::vector<control::QueueStatus>& queues) {
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
  json status = {{"phase", phaseOf(s.state)}, {"queues", status_queues}};
  std::string text = status.dump();
  if (written_[s.id] == text) return;
  if (auto r = client_.patch(path(s.id) + "/status", {{"status", status}}); !r)
    return warnOnce(s.id, r.error());
  written_[s.id] = text;
}

void SessionResources::sync() {
  auto sessions = sessions_.list();
  // With no session live, only leftovers of ended sessions can be there: every 10 s is enough.
  if (sessions.empty() && written_.empty() && ++idle_ticks_ % 10 != 1) return;
  if (!sessions.empty()) idle_ticks_ = 0;
  auto listed = client_.get(kApi + namespace_ + "/qsplitsessions");
  if (!listed) return warnOnce("*", listed.error());
  errors_.erase("*");
  std::set<std::string> present;
  for (const auto& item : (*listed)["items"]) {
    std::string id = item["spec"].value("id", "");
    present.insert(id);
    seen_.insert(id);
  }
  auto queues = sessions_.queues();
  std::set<std::string> live;
  for (const auto& s : sessions) {
    live.insert(s.id);
    if (!present.count(s.id) && seen_.count(s.id)) {
      logger("sessions")->info("session={} its QsplitSession was deleted: ending it", s.id);
      auto ended = sessions_.end({"kubernetes", true}, s.id, "its QsplitSession was deleted");
      if (!ended) warnOnce(s.id, ended.error());
      continue;
    }
    if (!present.count(s.id) && !written_.count(s.id)) {
      json queue_list = json::array();
      for (const auto& q : s.queues) queue_list.push_back({{"id", q.queue_id}});
      json object = {{"apiVersion", "qsplit.dev/v1alpha1"}, {"kind", "QsplitSession"},
                     {"metadata", {{"name", nameOf(s.id)}, {"labels", {{"qsplit.dev/session", s.id}}}}},
                     {"spec", {{"id", s.id}, {"owner", s.owner}, {"target", s.target}, {"queues", queue_list}}}};
      auto created = client_.create(kApi + namespace_ + "/qsplitsessions", object);
      if (!created && created.error().code() != ErrorCode::kAlreadyExists) {
        warnOnce(s.id, created.error());
        continue;
      }
      // It exists now: if the next list lacks it, someone deleted it in between.
      seen_.insert(s.id);
    }
    write(s, queues);
  }
  // Ended sessions: their resources go.
  for (const auto& id : present) {
    if (live.count(id)) continue;
    auto removed = client_.remove(path(id));
    if (!removed && removed.error().code() != ErrorCode::kNotFound) warnOnce(id, removed.error());
  }
  for (auto it = written_.begin(); it != written_.end();)
    it = live.count(it->first) ? std::next(it) : written_.erase(it);
  for (auto it = seen_.begin(); it != seen_.end();)
    it = live.count(*it) || present.count(*it) ? std::next(it) : seen_.erase(it);
}

}  // namespace qsplit::daemon
