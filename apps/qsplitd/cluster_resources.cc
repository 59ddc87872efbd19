#include "cluster_resources.h"

#include <fmt/format.h>

#include <set>

#include "common/log.h"

namespace qsplit::daemon {
namespace {

constexpr char kGroup[] = "/apis/queues.mirrord.metalbear.co/";
constexpr char kPropertyLists[] = "/apis/mirrord.metalbear.co/v1/namespaces/";
constexpr auto kReread = std::chrono::seconds(30);  // Secrets and ConfigMaps are not watched

std::string collection(const char* version, const std::string& ns, const char* plural) {
  return std::string(kGroup) + version + "/namespaces/" + ns + "/" + plural;
}

std::string nameOf(const nlohmann::json& item) {
  const auto& meta = item["metadata"];
  return item.value("kind", "?") + " " + meta.value("namespace", "") + "/" + meta.value("name", "");
}

}  // namespace

ClusterResources::ClusterResources(kube::KubeClient& client, const std::string& workload_namespace,
                                   const std::string& operator_namespace, Kinds kinds)
    : client_(client), set_(std::make_shared<const config::ResourceSet>()) {
  std::vector<std::string> paths;
  if (kinds.sqs || kinds.rabbitmq)
    paths.push_back(collection("v1alpha", workload_namespace, "mirrordworkloadqueueregistries"));
  if (kinds.sqs || kinds.rabbitmq || kinds.listed) {
    // Property lists: a RabbitMQ, Redis or Pub/Sub connection, an SQS queueConfig.
    paths.push_back(std::string(kPropertyLists) + workload_namespace + "/mirrordpropertylists");
    if (operator_namespace != workload_namespace)
      paths.push_back(std::string(kPropertyLists) + operator_namespace + "/mirrordpropertylists");
  }
  if (kinds.kafka) {
    paths.push_back(collection("v1alpha", workload_namespace, "mirrordkafkatopicsconsumers"));
    paths.push_back(collection("v1alpha", operator_namespace, "mirrordkafkaclientconfigs"));
  }
  if (kinds.sqs || kinds.kafka || kinds.rabbitmq || kinds.listed)
    paths.push_back(collection("v1", workload_namespace, "mirrordsplitconfigs"));
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
  bool reread = has_references_ && std::chrono::steady_clock::now() - rebuilt_ >= kReread;
  if (!dirty_.exchange(false) && !reread) return;
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
  addReferenced(set, errors);
  for (const auto& [name, error] : errors)
    if (errors_[name] != error) log->error("{} is left out: {}", name, error);
  errors_ = errors;
  auto summary = fmt::format(
      "cluster: {} queue registries, {} Kafka topics consumers, {} split configs, {} Kafka client "
      "configs, {} property lists", set.registries.size(), set.topics_consumers.size(),
      set.split_configs.size(), set.kafka_client_configs.size(), set.property_lists.size());
  if (summary != summary_) log->info("{}", summary_ = summary);
  rebuilt_ = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  set_ = std::make_shared<const config::ResourceSet>(std::move(set));
}

void ClusterResources::addReferenced(config::ResourceSet& set,
                                     std::map<std::string, std::string>& errors) {
  std::set<std::pair<std::string, std::string>> paths;  // (what, path)
  for (const auto& c : set.kafka_client_configs) {
    if (!c.load_from_secret) continue;
    auto slash = c.load_from_secret->find('/');
    paths.emplace("Secret " + *c.load_from_secret,
                  "/api/v1/namespaces/" + c.load_from_secret->substr(0, slash) + "/secrets/" +
                      c.load_from_secret->substr(slash + 1));
  }
  auto add = [&](const config::PropertyRef& ref, const std::string& ns) {
    std::string plural = ref.secret ? "secrets" : "configmaps";
    paths.emplace(std::string(ref.secret ? "Secret " : "ConfigMap ") + ns + "/" + ref.name,
                  "/api/v1/namespaces/" + ns + "/" + plural + "/" + ref.name);
  };
  for (const auto& list : set.property_lists) {
    for (const auto& p : list.properties)
      if (p.value_from) add(*p.value_from, list.meta.namespace_);
    for (const auto& from : list.properties_from) add(from.from, list.meta.namespace_);
  }
  has_references_ = !paths.empty();
  config::ResourceSet read;
  for (const auto& [what, path] : paths) {
    auto object = client_.get(path);
    // A missing one is named when a session needs it (unless it is optional).
    if (!object && object.error().code() == ErrorCode::kNotFound) continue;
    if (!object) {
      errors[what] = object.error().message();
      continue;
    }
    object->erase("status");
    auto parsed = config::parseResources(object->dump(), "cluster");
    if (!parsed) {
      errors[what] = parsed.error().message();
      continue;
    }
    read.append(std::move(parsed).value());
  }
  set.append(std::move(read));
}

}  // namespace qsplit::daemon
