// SessionManager: the developers' sessions of qsplitd. Starting one resolves the target's
// queues from the custom resources, starts a split per original queue (the first session
// patches the workload), and stores everything before any broker resource is created, so
// a restarted qsplitd resumes every live session and reclaims whatever no session owns.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "config/kafka_client_config.h"
#include "config/resources.h"
#include "config/sqs_target.h"
#include "config/user_config.h"
#include "control/follower.h"
#include "control/replicas.h"
#include "control/store.h"
#include "control/workloads.h"
#include "core/broker.h"
#include "jq/jq_matcher.h"
#include "engine/queue_splitter.h"

namespace qsplit::control {

struct SessionLimits {
  Duration setup_deadline = std::chrono::seconds(180);  // started -> first heartbeat
  Duration unused_ttl = std::chrono::seconds(30);       // since the last heartbeat
  std::optional<Duration> max_time;                     // since started; none: no limit
};

struct ManagerOptions {
  std::map<config::QueueType, core::Broker*> brokers;  // the enabled ones (not owned)
  engine::SplitOptions split;                           // names, linger, forwarder, ...
  SessionLimits limits;
  // Opens (or reuses) the Kafka broker for a resolved client config; empty when Kafka
  // splitting is off. The broker must outlive the manager.
  std::function<Result<core::Broker*>(const config::ResolvedKafkaConfig&)> kafka;
  std::string operator_namespace = "mirrord";  // where MirrordKafkaClientConfigs are looked up
  // Kubernetes mode: the one namespace whose workloads this qsplitd patches; a target naming
  // another is refused. Empty (local mode): a target's namespace is not checked.
  std::string workloads_namespace;
  std::optional<core::NameTemplate> kafka_names;  // OPERATOR_KAFKA_SPLITTING_TOPIC_FORMAT
  // Opens (or reuses) the RabbitMQ broker for a connection (the registry's clusterProperties
  // list, resolved) and sets how temporaries of `original` are declared (its queueProperties);
  // empty when RabbitMQ splitting is off. The broker must outlive the manager.
  std::function<Result<core::Broker*>(const std::map<std::string, std::string>& connection,
                                      const std::string& original,
                                      const std::map<std::string, std::string>& queue_properties)>
      rabbitmq;
  // Opens (or reuses) the Redis broker for a connection (a redisStream queue's clientConfig
  // list, resolved), and checks that stream `original` has consumer group `group`, so a start
  // that could not read it fails before the workload is touched; empty when Redis splitting is
  // off. The broker must outlive the manager.
  std::function<Result<core::Broker*>(const std::map<std::string, std::string>& connection,
                                      const std::string& original, const std::string& group)>
      redis;
  // Opens (or reuses) the Redis Pub/Sub broker for a connection that subscribes as `mode`
  // says ("channel", "channelPattern" or "shardChannel"); empty when Redis Pub/Sub splitting
  // is off. The broker must outlive the manager.
  std::function<Result<core::Broker*>(const std::map<std::string, std::string>& connection,
                                      const std::string& mode)>
      redis_channels;
  // Opens (or reuses) the BullMQ broker for a connection whose waits for a job last at most
  // `dequeue_timeout`, and checks that queue `original` exists, so a start that could not read
  // it fails before the workload is touched; empty when BullMQ splitting is off. The broker must
  // outlive the manager.
  std::function<Result<core::Broker*>(const std::map<std::string, std::string>& connection,
                                      const std::string& original, std::chrono::seconds dequeue_timeout)>
      bullmq;
  // Opens (or reuses) the Google Cloud Pub/Sub broker for a connection (a googlePubSub queue's
  // clientConfig list) whose temporaries take `queue_properties` (its queueConfig list), and
  // checks that subscription `original` exists; empty when Pub/Sub splitting is off. The
  // broker must outlive the manager.
  std::function<Result<core::Broker*>(const std::map<std::string, std::string>& connection,
                                      const std::map<std::string, std::string>& queue_properties,
                                      const std::string& original)>
      pubsub;
  // Called before an SQS queue's first split with the registry's tags for its temporaries.
  std::function<void(const std::string& original, const std::map<std::string, std::string>&)>
      sqs_tags;
  // The views that make filters of an SQS queue match the SNS attributes in each body
  // (`sns: true`) and the user metadata of the S3 objects its events name (`s3Event: true`);
  // see engine::ForwarderOptions::view. Empty: such queues are refused.
  std::function<void(core::Message&)> sns_view;
  std::function<void(std::vector<core::Message>&)> s3_view;
  // With leader election: this replica's identity and the lease's duration. Every replica
  // forwards (follow()), so the leader, before it deletes a session's queue or restores a
  // workload, waits until each other live replica confirmed the new routes (replicas.h).
  // Empty: no other replica forwards.
  std::string replica;
  Duration lease = std::chrono::seconds(15);
  // The executable that runs jq filters (`--jq-worker`, jq/jq_worker.h) and its bounds.
  // Empty: a config with a jq_filter is refused.
  std::string jq_worker;
  jq::JqLimits jq_limits;
  std::size_t jq_workers = 2;  // worker processes per split queue, sharing large batches
};

// Who is asking: the user a bearer token names.
struct Caller {
  std::string user;
  bool admin = false;
};

struct SessionQueue {
  std::string queue_id;
  config::QueueType type = config::QueueType::kSqs;
  std::string original;
  std::string temporary;
  core::QueueMode mode = core::QueueMode::kSteal;
  // Why this session's jq_filter on this queue was switched off (it then matches nothing);
  // empty while it works.
  std::string filter_error;
  // Once the session ended: what qsplit forwarded to its queue (this replica's forwarder), and
  // how many of those were still unread and went back to be routed again.
  uint64_t forwarded = 0;
  uint64_t given_back = 0;
};

struct Session {
  std::string id;
  std::string owner;
  std::string target;       // "deployment/NAME"
  std::string config_json;  // the user's mirrord.json as sent
  std::string state;        // "starting", "ready" (no heartbeat yet), "connected"
  std::vector<SessionQueue> queues;
  std::map<std::string, std::string> env;  // variables for the developer's process
  int64_t started_unix_ms = 0;
  TimePoint started{};
  TimePoint last_heartbeat{};
};

struct QueueStatus {
  config::QueueType type = config::QueueType::kSqs;
  std::string workload;
  engine::SplitStatus split;
  double rate = 0;  // messages read per second over the last tick
  // Messages waiting (visible and in flight), when asked for; none if the broker did not say.
  std::optional<uint64_t> original_backlog;
  std::optional<uint64_t> fallback_backlog;
};

// The variables a workload reads queue names from, per its registry: what `qsplit exec`
// reports to qsplitd (and nothing else of its environment).
struct QueueVariables {
  std::string container;  // the registry's consumer container; empty: any
  std::vector<std::string> names;
  std::vector<std::string> patterns;  // regexPattern sources
};

// Thread-safe. start() and end() of different sessions run one at a time; heartbeats,
// lists and status never wait for them.
class SessionManager {
 public:
  using Resources = std::function<std::shared_ptr<const config::ResourceSet>()>;
  SessionManager(Store& store, Workloads& workloads, Resources resources, Clock& clock,
                 Random& random, ManagerOptions options);
  ~SessionManager();

  // After a restart: resumes the stored splits and sessions, then reclaims every temporary
  // queue no live split owns. Run once, before serving.
  Result<void> resume();

  // A refused start is logged (with its caller) as well as returned.
  Result<Session> start(const Caller& caller, const std::string& target,
                        const std::string& config_json);
  Result<Session> heartbeat(const Caller& caller, const std::string& id);
  // Returns the ended session, each queue with what was forwarded to it and given back.
  Result<Session> end(const Caller& caller, const std::string& id, const std::string& reason);
  Result<Session> get(const std::string& id) const;
  std::vector<Session> list() const;
  // Every split; `backlog` also asks each broker how many messages wait (network calls).
  std::vector<QueueStatus> queues(bool backlog = false) const;
  std::string metrics() const;
  Result<QueueVariables> queueVariables(const std::string& workload) const;
  Duration heartbeatInterval() const { return options_.limits.unused_ttl / 3; }

  // Once a second: ends expired sessions, advances drains, updates rates.
  void tick();

  // qsplitd is stopping: from now on starts, heartbeats and ends are refused (kUnavailable),
  // a tick does nothing, and an end or a drain under way stops between two steps, leaving
  // what is unfinished stored for the next start. Safe from any thread.
  void stop() { stopping_ = true; }

  // While another replica leads: forwards every stored split by the leader's routes
  // (follower.h) until stopFollowing(), which taking the lead calls before resume().
  void follow();
  void stopFollowing();

 private:
  Result<Session> startUnlogged(const Caller& caller, const std::string& target,
                                const std::string& config_json);
  struct Split;
  struct Plan;
  struct StoredSplit;
  static Result<StoredSplit> parseStoredSplit(const std::string& key, const std::string& json);
  Result<std::vector<Plan>> plan(const config::UserConfig& user, const std::string& workload,
                                 const config::ContainerEnv& env);
  Result<void> planSqs(const config::ResourceSet& resources, const config::WorkloadQueueRegistry& registry,
                       const config::UserConfig& user, const config::ContainerEnv& env,
                       std::vector<Plan>& plans);
  Result<void> planKafka(const config::ResourceSet& resources, const config::KafkaTopicsConsumer& consumer,
                         const config::UserConfig& user, const config::ContainerEnv& env,
                         std::vector<Plan>& plans);
  // A plan for one original of registry queue `q`, with the registry's restart, drain and TTL.
  static Plan registryPlan(const config::WorkloadQueueRegistry& registry, const config::RegistryQueue& q,
                           config::QueueType type, core::Broker* broker, std::string journal,
                           config::SqsOriginal original);
  // The plans of one RabbitMQ queue id of `registry`: one per original queue it names.
  Result<std::vector<Plan>> rmqPlans(const config::ResourceSet& resources,
                                     const config::WorkloadQueueRegistry& registry,
                                     const config::RegistryQueue& queue, const config::ContainerEnv& env);
  // The plans of one Redis queue id of `registry` (a MirrordSplitConfig's redisStream,
  // redisPubSub or bullMq).
  Result<std::vector<Plan>> redisPlans(const config::ResourceSet& resources,
                                       const config::WorkloadQueueRegistry& registry,
                                       const config::RegistryQueue& queue, const config::ContainerEnv& env);
  // The plans of one googlePubSub queue id of `registry`: one per subscription it names.
  Result<std::vector<Plan>> pubsubPlans(const config::ResourceSet& resources,
                                        const config::WorkloadQueueRegistry& registry,
                                        const config::RegistryQueue& queue, const config::ContainerEnv& env);
  Result<Plan> kafkaPlan(const config::ResourceSet& resources, const std::string& workload,
                         const std::string& topic_id, const config::ContainerEnv& env);
  Result<Split*> splitFor(const Plan& plan, const std::string& workload);
  // Starts session `s` on every plan's queue, with one change of the workload for the
  // queues not split yet (workload_transitions.cc). On success s.queues has one queue per
  // plan; on an error everything prepared is undone, and s.queues holds those that began.
  Result<std::vector<Split*>> startQueues(Session& s, const std::string& workload,
                                          const std::vector<Plan>& plans);
  // Restores each workload whose draining queues may all be restored, with one change.
  void restoreWhenDrained();
  void restoreWorkload(const std::string& workload, const std::vector<Split*>& splits);
  Result<std::function<void(std::vector<core::Message>&)>> bodyView(const Plan& plan);
  std::vector<std::string> propertyNamespaces(const config::WorkloadQueueRegistry& registry) const;
  // The current resources, plus the legacy form of the workload's MirrordSplitConfig when
  // no legacy resource names the workload.
  Result<std::shared_ptr<const config::ResourceSet>> resourcesFor(const std::string& workload,
                                                                  const config::ContainerEnv& env);
  Result<Session> endLocked(const std::string& id, const std::string& reason);
  Result<void> saveSession(const Session& s);
  Result<void> saveSplit(const Split& split);
  Result<void> putSplit(const Split& split, core::SplitState state, const std::string& fallback);
  // SplitOptions::share_routes: stores the table in the split's record, then waits for the
  // other replicas to confirm it.
  Result<void> shareRoutes(Split& split, const engine::SharedRoutes& routes);
  // What evaluates a split's content filters (null: this qsplitd runs no jq worker); a switched
  // off filter is logged, and shown in the session's status when `leading`.
  std::function<std::shared_ptr<core::ContentMatcher>()> contentFor(const Plan& plan, bool leading);
  // Where another replica reads a stored split from (Follower::Resolve).
  Result<ForwardSource> forwardSource(const std::string& split_json);
  // Resumes the stored splits; returns the fallback of every stored split, resumed or not.
  Result<std::set<std::string>> resumeSplits(const std::vector<Session>& sessions);
  Result<void> brokerFor(Plan& plan, const std::string& workload);
  std::optional<std::string> expired(const Session& s, TimePoint now) const;

  Store& store_;
  Workloads& workloads_;
  Resources resources_;
  Clock& clock_;
  Random& random_;
  ManagerOptions options_;

  std::atomic<bool> stopping_{false};
  std::mutex lifecycle_mutex_;  // start, end, tick, resume: one at a time
  // Content filters switched off, (session, original) -> why. Its own lock, taken alone: the
  // forwarding threads report here while they hold their matcher's.
  mutable std::mutex off_mutex_;
  std::map<std::pair<std::string, std::string>, std::string> filters_off_;
  void markFiltersOff(Session& s) const;
  // Compiles a config's jq filters in a worker of their own, before anything starts.
  Result<void> checkContent(const config::UserConfig& user);
  // Whether one content filter compiles and its schema loads, in the checker's worker; errors
  // start with the field ("jq_filter: ...").
  Result<void> checkFilter(const core::ContentFilter& filter);
  std::mutex checker_mutex_;
  std::unique_ptr<jq::JqMatcher> checker_;  // under checker_mutex_
  mutable std::mutex mutex_;    // guards the maps below
  std::map<std::string, Session> sessions_;
  std::map<std::string, std::unique_ptr<Split>> splits_;  // "SQS:original"
  std::unique_ptr<Replicas> replicas_;  // none: no other replica forwards
  std::unique_ptr<Follower> follower_;  // while another replica leads
  mutable std::mutex follower_mutex_;   // guards follower_
};

}  // namespace qsplit::control
