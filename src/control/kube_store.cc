#include "control/kube_store.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "common/log.h"

namespace qsplit::control {
namespace {

using nlohmann::json;

// A record's object name: stable and valid whatever the key holds (an SQS queue URL, a
// Kafka bootstrap list). 64-bit FNV-1a of owner, kind and key: the few records a cluster
// holds do not collide.
std::string objectName(const std::string& owner, const std::string& kind, const std::string& key) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : owner + '\0' + kind + '\0' + key) hash = (hash ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return std::string("qsplit-") + hex;
}

// A kind or an owner as a label value (letters, digits and '-', at most 63); records are
// matched on their exact kind afterwards, so two kinds that read alike here stay apart.
std::string labelValue(const std::string& text) {
  std::string label;
  for (char c : text.substr(0, 63)) label += std::isalnum(static_cast<unsigned char>(c))
                                                ? static_cast<char>(std::tolower(c)) : '-';
  while (!label.empty() && label.back() == '-') label.pop_back();
  label.erase(0, label.find_first_not_of('-'));  // a label starts and ends alphanumeric
  return label.empty() ? "none" : label;
}

}  // namespace

// A journal kept as records of its own kind: the name is the key.
class KubeStore::Journal final : public core::TemporaryJournal {
 public:
  Journal(Store& store, std::string broker)
      : store_(store), broker_(std::move(broker)), kind_("temporary:" + broker_) {}
  const std::string& broker() const { return broker_; }

  Result<void> record(const core::JournalEntry& e) override {
    return store_.put(kind_, e.name, json{{"original", e.original}, {"group", e.group}}.dump());
  }
  Result<void> forget(const std::string& name) override { return store_.remove(kind_, name); }
  Result<std::vector<core::JournalEntry>> entries() override {
    QSPLIT_ASSIGN_OR_RETURN(auto records, store_.list(kind_));
    std::vector<core::JournalEntry> out;
    for (const auto& r : records) {
      json j = json::parse(r.json, nullptr, false);
      if (!j.is_object()) {  // edited by hand: the queue it named can't be told apart now
        logger("store")->warn("the QsplitRecord of temporary queue {} ({}) holds no JSON object; "
                              "skipped", r.key, broker_);
        continue;
      }
      out.push_back({j.value("original", ""), r.key, j.value("group", "")});
    }
    return out;
  }

 private:
  Store& store_;
  std::string broker_;
  std::string kind_;
};

Result<std::unique_ptr<KubeStore>> KubeStore::open(kube::KubeClient& client, std::string ns,
                                                   std::string owner) {
  std::unique_ptr<KubeStore> store(new KubeStore(client, std::move(ns), std::move(owner)));
  QSPLIT_TRY(store->list("session"));
  return store;
}

KubeStore::KubeStore(kube::KubeClient& client, std::string ns, std::string owner)
    : client_(client), namespace_(std::move(ns)), owner_(std::move(owner)) {}
KubeStore::~KubeStore() = default;

std::string KubeStore::selector(const std::string& kind) const {
  auto term = [](std::string label, const std::string& value) {  // label=value, URL-encoded
    return label.replace(label.find('/'), 1, "%2F") + "%3D" + labelValue(value);
  };
  return term(kKindLabel, kind) + "," + term(kOwnerLabel, owner_);
}

std::string KubeStore::collection() const {
  return "/apis/qsplit.dev/v1alpha1/namespaces/" + namespace_ + "/qsplitrecords";
}

Result<void> KubeStore::put(const std::string& kind, const std::string& key, const std::string& json_text) {
  std::lock_guard lock(mutex_);
  std::string path = collection() + "/" + objectName(owner_, kind, key);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto patched = client_.patch(path, json{{"spec", {{"json", json_text}}}});
    if (patched) return ok();
    if (patched.error().code() != ErrorCode::kNotFound)
      return fail(patched.error().withContext("the store in the cluster: writing " + kind + " " + key));
    auto created = create(kind, key, json_text);
    // Created meanwhile (an earlier create whose answer was lost): update it.
    if (created || created.error().code() != ErrorCode::kAlreadyExists) return created;
  }
  return fail(ErrorCode::kUnavailable, "the store in the cluster: writing " + kind + " " + key +
                                           ": its QsplitRecord keeps appearing and vanishing");
}

Result<void> KubeStore::create(const std::string& kind, const std::string& key, const std::string& json_text) {
  // The order of first insert, as the file store keeps it: one past the kind's last record.
  // Only the leader writes and puts are serialized, so the number is not taken twice.
  QSPLIT_ASSIGN_OR_RETURN(auto records, list(kind));
  int64_t seq = records.empty() ? 1 : records.back().seq + 1;
  json object = {
      {"apiVersion", "qsplit.dev/v1alpha1"}, {"kind", "QsplitRecord"},
      {"metadata", {{"name", objectName(owner_, kind, key)}, {"namespace", namespace_},
                    {"labels", {{kKindLabel, labelValue(kind)}, {kOwnerLabel, labelValue(owner_)}}}}},
      {"spec", {{"kind", kind}, {"key", key}, {"seq", seq}, {"json", json_text}}}};
  auto created = client_.create(collection(), object);
  if (created) return ok();
  if (created.error().code() == ErrorCode::kAlreadyExists) return fail(created.error());
  return fail(created.error().withContext("the store in the cluster: writing " + kind + " " + key));
}

Result<void> KubeStore::remove(const std::string& kind, const std::string& key) {
  auto removed = client_.remove(collection() + "/" + objectName(owner_, kind, key));
  if (removed || removed.error().code() == ErrorCode::kNotFound) return ok();
  return fail(removed.error().withContext("the store in the cluster: removing " + kind + " " + key));
}

Result<std::vector<StoredRecord>> KubeStore::list(const std::string& kind) {
  auto listed = client_.get(collection() + "?labelSelector=" + selector(kind));
  if (!listed)
    return fail(listed.error().withContext("the store in the cluster: listing qsplitrecords.qsplit.dev in "
                                           "namespace " + namespace_));
  std::vector<StoredRecord> out;
  for (const auto& item : (*listed)["items"]) {
    json spec = item.value("spec", json::object());
    if (spec.value("kind", "") != kind) continue;
    out.push_back({spec.value("seq", int64_t{0}), spec.value("key", ""), spec.value("json", "")});
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.seq < b.seq; });
  return out;
}

core::TemporaryJournal& KubeStore::journal(const std::string& broker) {
  std::lock_guard lock(mutex_);
  for (const auto& j : journals_)
    if (j->broker() == broker) return *j;
  journals_.push_back(std::make_unique<Journal>(*this, broker));
  return *journals_.back();
}

}  // namespace qsplit::control
