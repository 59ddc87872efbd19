#include "session_resources.h"

#include "common/log.h"

namespace qsplit::daemon {
namespace {

using nlohmann::json;

constexpr char kSessionLabel[] = "qsplit.dev/session";

}  // namespace

SessionResources::SessionResources(kube::KubeClient& client, SessionKind kind,
                                   control::SessionManager& sessions)
    : client_(client), kind_(std::move(kind)), sessions_(sessions) {}

std::string SessionResources::path(const std::string& id) const {
  return kind_.collection + "/" + kind_.name_prefix + id;
}

void SessionResources::warnOnce(const std::string& id, const Error& e) {
  if (errors_[id] == e.message()) return;
  errors_[id] = e.message();
  logger("sessions")->error("session={} {}: {}", id, kind_.kind, e.message());
}

void SessionResources::write(const control::Session& s,
                             const std::vector<control::QueueStatus>& queues) {
  json status = kind_.status(s, queues);
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
  // Only qsplit's own: another operator's objects of a shared kind are not touched.
  auto listed = client_.get(kind_.collection + "?labelSelector=" + kSessionLabel);
  if (!listed) return warnOnce("*", listed.error());
  errors_.erase("*");
  std::set<std::string> present;
  for (const auto& item : (*listed)["items"]) {
    std::string id = item["metadata"]["labels"].value(kSessionLabel, "");
    present.insert(id);
    seen_.insert(id);
  }
  auto queues = sessions_.queues();
  std::set<std::string> live;
  for (const auto& s : sessions) {
    if (!kind_.applies(s)) continue;
    live.insert(s.id);
    if (!present.count(s.id) && seen_.count(s.id)) {
      logger("sessions")->info("session={} its {} was deleted: ending it", s.id, kind_.kind);
      auto ended = sessions_.end({"kubernetes", true}, s.id, "its " + kind_.kind + " was deleted");
      if (!ended) warnOnce(s.id, ended.error());
      continue;
    }
    if (!present.count(s.id) && !written_.count(s.id)) {
      json object = {{"apiVersion", kind_.api_version}, {"kind", kind_.kind},
                     {"metadata", {{"name", kind_.name_prefix + s.id}, {"labels", {{kSessionLabel, s.id}}}}},
                     {"spec", kind_.spec(s)}};
      auto created = client_.create(kind_.collection, object);
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
