#include "cluster_resources.h"

#include "common/log.h"

namespace qsplit::daemon {
namespace {

constexpr char kGroup[] = "/apis/queues.mirrord.metalbear.co/";

std::string collection(const char* version, const std::string& ns, const char* plural) {
  return std::string(kGroup) + version + "/namespaces/" + ns + "/" + plural;
}

std::string nameOf(const nlohmann::json& item) {
  const auto& meta = item["metadata"];
  return item.value("kind", "?") + " " + meta.value("namespace", "") + "/" + meta.value("name", "");
}

}  // namespace

ClusterResources::ClusterResources(kube::KubeClient& client, const std::string& workload_namespace,
                                   const std::string& operator_namespace, bool sqs, bool kafka)
    : client_(client), set_(std::make_shared<const config::ResourceSet>()) {
  std::vector<std::string> paths;
  if (sqs) paths.push_back(collection("v1alpha", workload_namespace, "mirrordworkloadqueueregistries"));
  if (kafka) {
    paths.push_back(collection("v1alpha", workload_namespace, "mirrordkafkatopicsconsumers"));
    paths.push_back(collection("v1alpha", operator_namespace, "mirrordkafkaclientconfigs"));
  }
  if (sqs || kafka) paths.push_back(collection("v1", workload_namespace, "mirrordsplitconfigs"));
  auto changed = [this] { dirty_ = true; };
  for (const auto& path : paths)
    reflectors_.push_back(std::make_unique<kube::Reflector>(client_, path, changed));
}

void ClusterResources::waitSynced(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto& r : reflectors_)
    if (auto synced = r->waitSynced(std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero())));
        !synced)
      logger("resources")->warn("{} (are the CRDs installed?)", synced.error().message());
  poll();
}

std::shared_ptr<const config::ResourceSet> ClusterResources::current() const {
  std::lock_guard lock(mutex_);
  return set_;
}

void ClusterResources::poll() {
  if (!dirty_.exchange(false)) return;
  rebuild();
}

void ClusterResources::rebuild() {
  auto log = logger("resources");
  config::ResourceSet set;
  std::map<std::string, std::string> errors;
  for (auto& r : reflectors_) {
    for (const auto& item : r->items()) {
      std::string name = nameOf(item);
      // JSON is YAML: the file parser validates a resource from the cluster unchanged.
      auto parsed = config::parseResources(item.dump(), "cluster");
      if (!parsed) {
        errors[name] = parsed.error().message();
        continue;
      }
      set.append(std::move(parsed).value());
    }
  }
  for (const auto& [name, error] : errors)
    if (errors_[name] != error) log->error("{} is left out: {}", name, error);
  errors_ = errors;
  // The Secrets that Kafka client configs load properties from.
  for (const auto& c : set.kafka_client_configs) {
    if (!c.load_from_secret) continue;
    auto slash = c.load_from_secret->find('/');
    std::string ns = c.load_from_secret->substr(0, slash), name = c.load_from_secret->substr(slash + 1);
    auto secret = client_.get("/api/v1/namespaces/" + ns + "/secrets/" + name);
    if (!secret) {
      log->error("MirrordKafkaClientConfig {}: loadFromSecret: {}", c.meta.name, secret.error().message());
      continue;
    }
    secret->erase("status");
    auto parsed = config::parseResources(secret->dump(), "cluster");
    if (parsed) set.append(std::move(parsed).value());
  }
  log->info("cluster: {} queue registries, {} Kafka topics consumers, {} split configs, {} Kafka "
            "client configs", set.registries.size(), set.topics_consumers.size(),
            set.split_configs.size(), set.kafka_client_configs.size());
  std::lock_guard lock(mutex_);
  set_ = std::make_shared<const config::ResourceSet>(std::move(set));
}

}  // namespace qsplit::daemon
