// qsplitd: the queue-splitting operator daemon. Local mode: custom resources from a
// directory, deployed consumers run under `qsplit exec`, sessions from `qsplit run`.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "brokers/memory/memory_broker.h"
#include "brokers/sqs/sns_body.h"
#include "brokers/sqs/sqs_broker.h"
#include "common/log.h"
#include "control/api/server.h"
#include "control/daemon/daemon_config.h"
#include "control/workloads/local_workloads.h"
#include "control/sessions.h"
#include "control/kube_store.h"
#include "control/sqlite_store.h"
#include "control/workloads/kube_workloads.h"
#include "jq/jq_worker.h"
#include "kube/leadership.h"
#include "cluster_resources.h"
#include "kafka_brokers.h"
#include "rabbitmq_brokers.h"
#include "pubsub_brokers.h"
#include "redis_brokers.h"
#include "registry_status.h"
#include "resources_watch.h"
#include "session_resources.h"
#include "stop_watch.h"

namespace {

using namespace qsplit;

std::atomic<bool> g_stop{false};
extern "C" void onSignal(int) { g_stop = true; }

// How long a stop may take before qsplitd exits anyway (stop_watch.h): well inside the 30 s
// Kubernetes gives a pod.
constexpr auto kStopGrace = std::chrono::seconds(10);

struct Flags {
  std::string config, listen, data_dir, resources, tokens, log_level, port_file;
  std::string kubeconfig, kube_namespace;
};

Result<void> applyFlags(control::DaemonConfig& c, const Flags& f) {
  if (!f.listen.empty()) {
    auto colon = f.listen.rfind(':');
    if (colon == std::string::npos)
      return fail(ErrorCode::kInvalidArgument, "--listen: expected HOST:PORT, got " + f.listen);
    c.listen_host = f.listen.substr(0, colon);
    c.listen_port = std::atoi(f.listen.c_str() + colon + 1);
  }
  if (!f.data_dir.empty()) c.data_dir = f.data_dir;
  if (!f.resources.empty()) c.resources_dir = f.resources;
  if (!f.tokens.empty()) c.tokens_file = f.tokens;
  if (!f.log_level.empty()) c.log_level = f.log_level;
  if (!f.kubeconfig.empty()) c.kube_enabled = true, c.kubeconfig = f.kubeconfig;
  if (!f.kube_namespace.empty()) c.kube_namespace = f.kube_namespace;
  if (c.resources_dir.empty() && !c.kube_enabled)
    return fail(ErrorCode::kInvalidArgument,
                "resources: pass --resources DIR (local mode) or --kubeconfig FILE (Kubernetes "
                "mode), or set `resources` or `kubernetes` in the config");
  return ok();
}

struct Brokers {
  std::unique_ptr<sqs::SqsBroker> sqs;
  std::unique_ptr<memory::MemoryBroker> memory;
  std::map<config::QueueType, core::Broker*> enabled;
  std::unique_ptr<daemon::KafkaBrokers> kafka;  // one broker per client config
  std::unique_ptr<daemon::RabbitBrokers> rabbitmq;  // one broker per connection
  std::unique_ptr<daemon::RedisBrokers> redis;      // one broker per connection
  std::unique_ptr<daemon::PubsubBrokers> pubsub;    // one broker per connection and queueConfig
};

Result<Brokers> openBrokers(const control::DaemonConfig& c) {
  Brokers b;
  if (c.sqs_enabled) {
    sqs::SqsOptions options;
    options.endpoint = c.sqs_endpoint;
    options.region = c.sqs_region;
    options.s3_endpoint = c.s3_endpoint;
    options.pollers = c.sqs_pollers;
    QSPLIT_ASSIGN_OR_RETURN(b.sqs, sqs::SqsBroker::create(options));
    b.enabled[config::QueueType::kSqs] = b.sqs.get();
  } else if (!c.memory_queues.empty()) {
    b.memory = std::make_unique<memory::MemoryBroker>();
    for (const auto& q : c.memory_queues) QSPLIT_TRY(b.memory->createQueue(q));
    b.enabled[config::QueueType::kSqs] = b.memory.get();
  }
  if (c.kafka_enabled) b.kafka = std::make_unique<daemon::KafkaBrokers>();
  if (c.rabbitmq_enabled) b.rabbitmq = std::make_unique<daemon::RabbitBrokers>();
  if (c.anyRedis())
    b.redis = std::make_unique<daemon::RedisBrokers>(
        std::chrono::duration_cast<std::chrono::milliseconds>(c.redis_claim_idle));
  if (c.pubsub_enabled) b.pubsub = std::make_unique<daemon::PubsubBrokers>(c.pubsub_emulator_host);
  return b;
}

// Where the custom resources and the deployed workloads are: a directory and `qsplit exec`
// (local mode), or a Kubernetes cluster.
struct Sources {
  std::unique_ptr<daemon::ResourcesWatch> dir;
  std::unique_ptr<kube::KubeClient> kube;
  std::unique_ptr<daemon::ClusterResources> cluster;
  std::unique_ptr<control::KubeWorkloads> kube_workloads;

  std::shared_ptr<const config::ResourceSet> current() const {
    return cluster ? cluster->current() : dir->current();
  }
  void poll() { cluster ? cluster->poll() : dir->poll(); }
};

Result<Sources> openSources(const control::DaemonConfig& c) {
  Sources s;
  if (!c.kube_enabled) {
    QSPLIT_ASSIGN_OR_RETURN(s.dir, daemon::ResourcesWatch::load(c.resources_dir));
    return s;
  }
  auto kube_config = kube::defaultKubeConfig(c.kubeconfig);
  if (!kube_config) return fail(kube_config.error().withContext("kubernetes"));
  std::string ns = c.kube_namespace.empty() ? kube_config->namespace_ : c.kube_namespace;
  QSPLIT_ASSIGN_OR_RETURN(s.kube, kube::KubeClient::create(*kube_config));
  if (auto version = s.kube->get("/version"); !version)
    return fail(version.error().withContext("kubernetes: the API server at " + kube_config->server));
  daemon::ClusterResources::Kinds kinds{c.sqs_enabled || !c.memory_queues.empty(), c.kafka_enabled,
                                        c.rabbitmq_enabled, c.anyRedis() || c.pubsub_enabled};
  s.cluster = std::make_unique<daemon::ClusterResources>(*s.kube, ns, c.operator_namespace, kinds);
  s.cluster->waitSynced(std::chrono::seconds(10));
  s.kube_workloads = std::make_unique<control::KubeWorkloads>(*s.kube, ns, &g_stop);
  logger("qsplitd")->info("Kubernetes mode: {} namespace {}", kube_config->server, ns);
  return s;
}

// In the cluster when qsplitd serves one (a standby that takes the lease reads it there),
// else SQLite in data_dir.
Result<std::unique_ptr<control::Store>> openStore(const control::DaemonConfig& c, const Sources& s) {
  if (s.kube && c.kube_store_in_cluster) {
    QSPLIT_ASSIGN_OR_RETURN(auto store, control::KubeStore::open(*s.kube, s.kube_workloads->namespace_name(),
                                                                 c.lease_name));
    return std::unique_ptr<control::Store>(std::move(store));
  }
  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  QSPLIT_ASSIGN_OR_RETURN(auto store, control::SqliteStore::open(c.data_dir + "/qsplit.db"));
  return std::unique_ptr<control::Store>(std::move(store));
}

int run(const Flags& flags) {
  auto log = logger("qsplitd");
  daemon::StopWatch stop_watch(g_stop, kStopGrace);  // first: it outlives all below
  auto loaded = control::loadDaemonConfig(flags.config, control::processEnv());
  if (!loaded) return fmt::print(stderr, "qsplitd: {}\n", loaded.error().message()), 2;
  control::DaemonConfig config = std::move(loaded).value();
  if (auto r = applyFlags(config, flags); !r) return fmt::print(stderr, "qsplitd: {}\n", r.error().message()), 2;
  std::string error;
  if (!setLogLevels(config.log_level, &error)) return fmt::print(stderr, "qsplitd: log level: {}\n", error), 2;

  auto tokens = config.tokens_file.empty() ? control::api::Tokens::disabled()
                                           : control::api::Tokens::load(config.tokens_file);
  if (!tokens) return fmt::print(stderr, "qsplitd: tokens_file: {}\n", tokens.error().message()), 2;
  if (!tokens->enabled())
    log->warn("no tokens_file: the API is open to anyone who reaches {}:{}", config.listen_host,
              config.listen_port);
  auto sources = openSources(config);
  if (!sources) return fmt::print(stderr, "qsplitd: {}\n", sources.error().message()), 2;
  auto brokers = openBrokers(config);
  if (!brokers) return fmt::print(stderr, "qsplitd: {}\n", brokers.error().message()), 2;
  std::error_code ec;
  auto store = openStore(config, *sources);
  if (!store) return fmt::print(stderr, "qsplitd: {}\n", store.error().message()), 2;

  control::ManagerOptions options;
  options.brokers = brokers->enabled;
  options.limits = config.limits;
  options.split.linger_timeout = config.linger_timeout;
  options.split.return_unread = config.return_unread;
  options.split.forwarder.wait = std::chrono::milliseconds(1000);
  options.jq_worker = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  options.jq_limits = config.jq;
  options.jq_workers = config.jq_workers;
  if (!config.name_template.empty()) options.split.names = *core::NameTemplate::parse(config.name_template);
  options.operator_namespace = config.operator_namespace;
  if (sources->kube_workloads) options.workloads_namespace = sources->kube_workloads->namespace_name();
  if (!config.kafka_topic_format.empty())
    options.kafka_names = *core::NameTemplate::parse(config.kafka_topic_format);
  if (brokers->kafka)
    options.kafka = [kafka = brokers->kafka.get()](const config::ResolvedKafkaConfig& client) {
      return kafka->open(client);
    };
  if (brokers->rabbitmq)
    options.rabbitmq = [rabbitmq = brokers->rabbitmq.get()](const auto& connection,
                                                            const std::string& original,
                                                            const auto& queue_properties) {
      return rabbitmq->open(connection, original, queue_properties);
    };
  if (brokers->redis && config.redis_enabled)
    options.redis = [redis = brokers->redis.get()](const auto& connection, const std::string& original,
                                                   const std::string& group) {
      return redis->open(connection, original, group);
    };
  if (brokers->redis && config.redis_pubsub_enabled)
    options.redis_channels = [redis = brokers->redis.get()](const auto& connection, const std::string& mode) {
      return redis->openChannels(connection, mode);
    };
  if (brokers->redis && config.bullmq_enabled)
    options.bullmq = [redis = brokers->redis.get()](const auto& connection, const std::string& original,
                                                    std::chrono::seconds dequeue_timeout) {
      return redis->openBullmq(connection, original, dequeue_timeout);
    };
  if (brokers->pubsub)
    options.pubsub = [pubsub = brokers->pubsub.get()](const auto& connection, const auto& queue_properties,
                                                      const std::string& original) {
      return pubsub->open(connection, queue_properties, original);
    };
  if (brokers->sqs) {
    options.sqs_tags = [sqs = brokers->sqs.get()](const std::string& original, const auto& tags) {
      sqs->sqsAdmin().setExtraTags(original, tags);
    };
    options.sns_view = sqs::useSnsAttributes;
    options.s3_view = [s3 = &brokers->sqs->s3()](std::vector<core::Message>& batch) {
      s3->view(batch);
    };
  }
  std::string identity;  // this replica's, with leader election
  if (sources->kube && config.leader_election) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    identity = std::string(host) + "-" + std::to_string(getpid());
    options.replica = identity;
    options.lease = config.lease_duration;
  }
  control::LocalWorkloads workloads(**store, SystemClock::instance());
  // Closing the local workloads ends a restore that waits for `qsplit exec` to restart its
  // command (which, stopped first, never will): it ends cancelled and resumes at the next start.
  auto close_workloads = stop_watch.onStop([&workloads] { workloads.close(); });
  control::Workloads& deployed = sources->kube_workloads
                                     ? static_cast<control::Workloads&>(*sources->kube_workloads)
                                     : workloads;
  control::SessionManager sessions(**store, deployed, [s = &*sources] { return s->current(); },
                                   SystemClock::instance(), SecureRandom::instance(), options);
  auto stop_sessions = stop_watch.onStop([&sessions] { sessions.stop(); });
  std::atomic<bool> ready{false};
  auto server = control::api::ApiServer::create(
      {config.listen_host, config.listen_port, config.tls_cert, config.tls_key},
      {sessions, workloads, *tokens, ready});
  if (!server) return fmt::print(stderr, "qsplitd: {}\n", server.error().message()), 2;
  std::string scheme = config.tls_cert.empty() ? "http" : "https";
  fmt::print("qsplitd listening on {}://{}:{}\n", scheme, config.listen_host, (*server)->port());
  std::fflush(stdout);
  if (!flags.port_file.empty()) {
    std::ofstream(flags.port_file + ".tmp") << (*server)->port() << "\n";
    std::filesystem::rename(flags.port_file + ".tmp", flags.port_file, ec);
  }
  std::unique_ptr<kube::Leadership> leadership;
  if (!identity.empty()) {
    leadership = std::make_unique<kube::Leadership>(std::make_unique<kube::LeaseLock>(
        *sources->kube, sources->kube_workloads->namespace_name(), config.lease_name, identity,
        std::chrono::duration_cast<std::chrono::seconds>(config.lease_duration)));
    // Standing by, it forwards by the leader's routes, as every replica does.
    bool leads = leadership->await(g_stop, [&] {
      sources->poll();
      sessions.follow();
    });
    sessions.stopFollowing();
    if (!leads) {
      (*server)->stop();
      return 0;
    }
    leadership->keepRenewing([] {
      // Another replica may lead now: stop at once, not after the work in hand (a start or
      // an end may be patching). Every session is stored, for the leader to resume; the
      // supervisor restarts this one as a standby.
      spdlog::apply_all([](const auto& l) { l->flush(); });
      std::_Exit(1);
    });
  }
  if (auto r = sessions.resume(); !r) {
    log->critical("resuming the stored sessions: {}", r.error().message());
    return 1;
  }
  std::vector<std::unique_ptr<daemon::SessionResources>> session_resources;
  std::unique_ptr<daemon::RegistryStatus> registry_status;
  if (sources->kube && config.kube_sessions) {
    const std::string& ns = sources->kube_workloads->namespace_name();
    std::vector<daemon::SessionKind> kinds = {daemon::qsplitSessionKind(ns)};
    if (config.sqs_enabled) kinds.push_back(daemon::sqsSessionKind(ns));  // its CRD is installed
    for (auto& kind : kinds)
      session_resources.push_back(
          std::make_unique<daemon::SessionResources>(*sources->kube, std::move(kind), sessions));
  }
  if (sources->kube) registry_status = std::make_unique<daemon::RegistryStatus>(*sources->kube);
  ready = true;
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    sources->poll();
    sessions.tick();
    for (auto& resources : session_resources) resources->sync();
    if (registry_status) registry_status->sync(*sources->current(), sessions);
  }
  log->info("stopping: sessions stay stored and resume when qsplitd starts again");
  (*server)->stop();  // CloseOnStop closed the local workloads when the signal came
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // qsplitd runs users' jq filters in a child of its own (jq/jq_worker.h): itself, so the
  // worker ships with it.
  if (argc > 1 && std::string_view(argv[1]) == "--jq-worker") {
    int fd = -1;
    jq::JqLimits limits;
    if (!jq::parseJqWorkerArgs(argc, argv, fd, limits)) return 2;
    return jq::runJqWorker(fd, limits);
  }
  CLI::App app{"qsplitd: the queue-splitting operator daemon"};
  Flags flags;
  app.add_option("-c,--config", flags.config, "the operator config file (YAML)")->check(CLI::ExistingFile);
  app.add_option("--listen", flags.listen, "HOST:PORT for the API (port 0: any free port)");
  app.add_option("--data-dir", flags.data_dir, "where the session store lives");
  app.add_option("--resources", flags.resources, "the directory of custom resources (YAML)");
  app.add_option("--tokens", flags.tokens, "the bearer tokens file (YAML)");
  app.add_option("--log-level", flags.log_level, "a level, or RUST_LOG-style info,sessions=debug");
  app.add_option("--port-file", flags.port_file, "write the port listened on to this file");
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "Kubernetes mode: the cluster's kubeconfig (resources and workloads from it)");
  app.add_option("--namespace", flags.kube_namespace,
                 "Kubernetes mode: the workloads' namespace (default: the kubeconfig context's)");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  return run(flags);
}
