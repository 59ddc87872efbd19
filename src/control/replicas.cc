#include "control/replicas.h"

#include <nlohmann/json.hpp>

#include <thread>
#include <vector>

#include "common/log.h"

namespace qsplit::control {

std::string replicaRecord(const ReplicaAcks& acks, uint64_t beat) {
  return nlohmann::json{{"acks", acks}, {"beat", beat}}.dump();
}

Replicas::Replicas(Store& store, Clock& clock, std::string self, Duration lease)
    : store_(store), clock_(clock), self_(std::move(self)), lease_(lease) {}

Result<std::map<std::string, ReplicaAcks>> Replicas::live() {
  QSPLIT_ASSIGN_OR_RETURN(auto records, store_.list(kReplicaKind));
  std::lock_guard lock(mutex_);
  auto now = clock_.now();
  std::map<std::string, Seen> seen;
  std::map<std::string, ReplicaAcks> out;
  auto log = logger("replicas");
  for (const auto& r : records) {
    if (r.key == self_) continue;
    auto it = seen_.find(r.key);
    if (it == seen_.end()) log->info("replica {} forwards too", r.key);
    Seen& s = seen[r.key] = it != seen_.end() && it->second.json == r.json ? it->second
                                                                           : Seen{r.json, now};
    if (now - s.since >= lease_) {
      if (!s.gone)
        log->warn("replica {} is gone: its record did not change for {} s; not waiting for it",
                  r.key, std::chrono::duration_cast<std::chrono::seconds>(lease_).count());
      s.gone = true;
      if (now - s.since >= 2 * lease_) (void)store_.remove(kReplicaKind, r.key);
      continue;
    }
    auto j = nlohmann::json::parse(r.json, nullptr, false);
    ReplicaAcks acks;
    if (j.is_object() && j.contains("acks") && j["acks"].is_object())
      for (const auto& [split, token] : j["acks"].items())
        if (token.is_string()) acks[split] = token.get<std::string>();
    out[r.key] = std::move(acks);
  }
  for (const auto& [key, s] : seen_)
    if (!seen.count(key) && !s.gone) log->info("replica {} stopped forwarding", key);
  seen_ = std::move(seen);
  return out;
}

void Replicas::observe() {
  if (auto r = live(); !r)
    logger("replicas")->warn("reading the other replicas' records: {}", r.error().message());
}

Result<void> Replicas::confirm(const std::string& split, const std::string& token,
                               std::chrono::milliseconds within) {
  auto deadline = clock_.now() + within;
  for (;;) {
    QSPLIT_ASSIGN_OR_RETURN(auto replicas, live());
    std::vector<std::string> waiting;
    for (const auto& [name, acks] : replicas) {
      auto it = acks.find(split);
      if (it == acks.end() || it->second != token) waiting.push_back(name);
    }
    if (waiting.empty()) return ok();
    if (clock_.now() >= deadline) {
      std::string names;
      for (const auto& w : waiting) names += (names.empty() ? "" : ", ") + w;
      return fail(ErrorCode::kUnavailable,
                  "replica " + names + " did not confirm the routes of " + split +
                      " (it still beats, so it is not counted as gone)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace qsplit::control
