// qsplitd's configuration: one YAML file, then the reference operator's environment
// variables where they exist, then flags (applied by the app). Validated once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "control/sessions.h"

namespace qsplit::control {

struct DaemonConfig {
  std::string listen_host = "127.0.0.1";
  int listen_port = 7460;           // 0: any free port
  std::string data_dir = "qsplit-data";  // the SQLite store lives here (not in the cluster)
  std::string resources_dir;        // custom resources as YAML files (local mode)
  std::string tokens_file;          // empty: no authentication (every caller is admin)
  std::string tls_cert, tls_key;
  std::string log_level = "info";   // a level or RUST_LOG-style "info,sessions=debug"

  bool sqs_enabled = false;         // OPERATOR_SQS_SPLITTING
  std::string sqs_endpoint;         // empty: AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, AWS
  std::string sqs_region;
  std::string s3_endpoint;          // s3Event objects; empty: AWS_ENDPOINT_URL_S3, ..., AWS
  std::size_t sqs_pollers = 4;
  // The embedded broker in place of SQS (demos, benchmarks): its queues are made at start.
  std::vector<std::string> memory_queues;

  // Kafka: client configs come from MirrordKafkaClientConfig resources (local mode: YAML
  // files in `resources`, looked up in `operator_namespace`).
  bool kafka_enabled = false;       // OPERATOR_KAFKA_SPLITTING
  std::string operator_namespace = "mirrord";
  // RabbitMQ: connections come from the MirrordPropertyList each registry queue names in
  // clusterProperties (looked up in the registry's namespace, then `operator_namespace`).
  bool rabbitmq_enabled = false;    // OPERATOR_RABBITMQ_SPLITTING
  // Redis streams: connections come from the MirrordPropertyList a MirrordSplitConfig's
  // redisStream queue names in clientConfig (or spec.clientConfigs.redisStream).
  bool redis_enabled = false;       // OPERATOR_REDIS_SPLITTING
  // Redis Pub/Sub (redisPubSub queues, queue_type RedisPubSub): `redis.pubsub`, on with
  // `redis.enabled` unless set.
  bool redis_pubsub_enabled = false;  // OPERATOR_REDIS_PUBSUB_SPLITTING
  // BullMQ (bullMq queues, queue_type BullMQ): `redis.bullmq`, on with `redis.enabled` unless set.
  bool bullmq_enabled = false;  // OPERATOR_BULLMQ_SPLITTING
  // Google Cloud Pub/Sub (googlePubSub queues, queue_type GCPPubSub): the `pubsub` section's
  // `enabled`. qsplit reaches it through an emulator only for now: PUBSUB_EMULATOR_HOST of
  // qsplitd's environment, as Google's libraries read it, or a clientConfig's emulator_host.
  bool pubsub_enabled = false;  // OPERATOR_GCP_PUBSUB_SPLITTING
  std::string pubsub_emulator_host;  // PUBSUB_EMULATOR_HOST
  // Any of the three Redis kinds.
  bool anyRedis() const { return redis_enabled || redis_pubsub_enabled || bullmq_enabled; }
  // How long an entry stays pending under a silent consumer (a crashed qsplitd, a workload
  // moved away) before qsplit claims it and forwards it.
  Duration redis_claim_idle = std::chrono::seconds(30);

  // Kubernetes mode: resources and workloads come from a cluster instead of `resources` and
  // `qsplit exec`. The workloads (and their registries) live in `kube_namespace`; empty
  // means the kubeconfig context's (or the pod's) namespace.
  bool kube_enabled = false;
  std::string kubeconfig;  // empty: $KUBECONFIG, the pod's service account, ~/.kube/config
  std::string kube_namespace;
  bool kube_sessions = true;  // record each session as a QsplitSession resource
  // One replica leads (does lifecycle work and serves sessions) through a Lease in the
  // workloads' namespace; the others stand by until it stops renewing.
  bool leader_election = true;
  std::string lease_name = "qsplit-leader";
  Duration lease_duration = std::chrono::seconds(15);
  // Where the store is: ConfigMaps in the workloads' namespace (any replica that takes the
  // lease reads it; no volume needed), or SQLite in `data_dir` (`kubernetes.store: file`).
  bool kube_store_in_cluster = true;

  Duration linger_timeout = std::chrono::seconds(60);  // OPERATOR_SQS_SPLITTING_LINGER_TIMEOUT (ms)
  std::string name_template;        // empty: the default; OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT for Kafka
  std::string kafka_topic_format;
  bool return_unread = true;
  SessionLimits limits;
  jq::JqLimits jq;  // `filters`: jq_time_limit, jq_memory_limit_mb
  std::size_t jq_workers = 2;  // `filters.jq_workers`: worker processes per split queue
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The file (optional: empty path means defaults), then the environment. Errors name the file
// and the field, or the variable.
Result<DaemonConfig> loadDaemonConfig(const std::string& path, const EnvLookup& env);
EnvLookup processEnv();

}  // namespace qsplit::control
