// SessionManager::pubsubPlans: a googlePubSub queue of a MirrordSplitConfig, planned.

#include "config/property_list.h"
#include "control/sessions_internal.h"

namespace qsplit::control {

Result<std::vector<SessionManager::Plan>> SessionManager::pubsubPlans(const config::ResourceSet& resources,
                                                                      const config::WorkloadQueueRegistry& registry,
                                                                      const config::RegistryQueue& q,
                                                                      const config::ContainerEnv& env) {
  if (!options_.pubsub)
    return fail(ErrorCode::kFailedPrecondition,
                "queue id '" + q.id + "' is GCPPubSub, and Google Cloud Pub/Sub splitting is not enabled in qsplitd");
  std::string where = registry.meta.source + ": MirrordSplitConfig " + registry.meta.name + ": queue " + q.id + ": ";
  std::map<std::string, std::string> queue_properties;
  if (q.queue_properties) {
    auto properties = config::resolvePropertyList(resources, *q.queue_properties, propertyNamespaces(registry));
    if (!properties) return fail(properties.error().withContext(where + "queueConfig"));
    queue_properties = std::move(properties).value();
  }
  auto connection = config::resolvePropertyList(resources, q.cluster_properties, propertyNamespaces(registry));
  if (!connection) return fail(connection.error().withContext(where + "clientConfig"));
  if (q.project_env) {  // the workload's project, over the shared list's
    QSPLIT_ASSIGN_OR_RETURN((*connection)["project_id"],
                            oneValueOf(*q.project_env, "appConfig.projectId", "one project ID",
                                       registry.consumer.container, env, where));
  }
  QSPLIT_ASSIGN_OR_RETURN(auto target, config::resolveRegistryTarget(resources, registry.consumer.target(), q.id,
                                                                     env, q.queue_type));
  std::vector<Plan> plans;
  for (auto& original : target.queues) {
    auto broker = options_.pubsub(*connection, queue_properties, original.name);
    if (!broker)
      return fail(broker.error().withContext(where + "clientConfig " + q.cluster_properties +
                                             (q.queue_properties ? ", queueConfig " + *q.queue_properties : "")));
    plans.push_back(registryPlan(registry, q, config::QueueType::kGcpPubSub, *broker,
                                 "GCPPubSub:" + q.cluster_properties, std::move(original)));
  }
  return plans;
}

}  // namespace qsplit::control
