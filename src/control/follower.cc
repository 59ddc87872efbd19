#include "control/follower.h"

#include <nlohmann/json.hpp>

#include <optional>

#include "common/log.h"

namespace qsplit::control {
namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kPeriod = std::chrono::milliseconds(500);

// A stored split's route table, as the leader shared it.
struct StoredRoutes {
  std::string original;
  std::string token;
  bool forwarding = false;
  std::string fallback;
  std::vector<core::SessionRoute> sessions;
  std::string problem;  // why these routes cannot be followed (then not forwarding)
};

// A record that is not JSON of the expected shape is an error. A session's filter or mode
// that does not parse leaves the routes readable, not forwarding, with the problem named: the
// follower must still confirm the token, or the leader would wait for it.
Result<StoredRoutes> routesFromJson(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    StoredRoutes r;
    r.original = j.at("original");
    if (!j.contains("routes")) return r;  // written before the leader shared its routes
    const auto& routes = j.at("routes");
    r.token = routes.at("token");
    r.forwarding = routes.at("forwarding");
    r.fallback = routes.at("fallback");
    for (const auto& s : routes.at("sessions")) {
      auto filter = core::Filter::compile(s.at("filter").get<std::map<std::string, std::string>>());
      auto mode = core::queueModeFromName(s.at("mode"));
      if (filter && s.contains("jq_filter"))
        filter = filter->withContent({s.at("jq_filter"), s.value("protobuf_descriptor", ""),
                                      s.value("protobuf_message", "")});
      if (!filter || !mode) {
        r.problem = "session " + s.at("session").get<std::string>() + ": " +
                    (filter ? mode.error() : filter.error()).message();
        r.forwarding = false;
        r.sessions.clear();
        break;
      }
      r.sessions.push_back({s.at("session"), std::move(filter).value(), *mode, s.at("queue")});
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::kInternal, std::string("a stored split's routes: ") + e.what());
  }
}

}  // namespace

nlohmann::json routesToJson(const engine::SharedRoutes& routes) {
  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& s : routes.sessions) {
    nlohmann::json filter = nlohmann::json::object();
    for (const auto& rule : s.filter.rules()) filter[rule.name] = rule.pattern;
    sessions.push_back({{"session", s.session_id}, {"queue", s.destination},
                        {"mode", core::queueModeName(s.mode)}, {"filter", filter}});
    if (const auto& content = s.filter.content(); !content.empty()) {
      sessions.back()["jq_filter"] = content.program;
      if (!content.protobuf_message.empty()) {
        sessions.back()["protobuf_descriptor"] = content.protobuf_descriptor;
        sessions.back()["protobuf_message"] = content.protobuf_message;
      }
    }
  }
  return {{"token", routes.token}, {"forwarding", routes.forwarding},
          {"fallback", routes.fallback}, {"sessions", sessions}};
}

struct Follower::Followed {
  std::string token;
  std::string original;
  std::string fallback;
  std::vector<core::SessionRoute> sessions;
  uint64_t generation = 0;
  std::unique_ptr<core::Router> router;
  std::unique_ptr<engine::Forwarder> forwarder;     // none: not forwarding
  std::shared_ptr<core::ContentMatcher> content;  // made with the first content filter
};

namespace {

bool hasContent(const std::vector<core::SessionRoute>& sessions) {
  for (const auto& s : sessions)
    if (!s.filter.content().empty()) return true;
  return false;
}

// Forgets the programs of the sessions that are in `before` and not in `now`.
void releaseEnded(core::ContentMatcher& content, const std::vector<core::SessionRoute>& before,
                  const std::vector<core::SessionRoute>& now) {
  for (const auto& old : before) {
    bool kept = false;
    for (const auto& s : now) kept = kept || s.session_id == old.session_id;
    if (!kept) content.release(old.session_id);
  }
}

}  // namespace

Follower::Follower(Store& store, Resolve resolve, std::string identity, Duration lease,
                   engine::ForwarderOptions options)
    : store_(store), resolve_(std::move(resolve)), identity_(std::move(identity)),
      fence_after_(lease / 2), options_(std::move(options)),
      written_(Steady::now().time_since_epoch().count()),
      listed_(Steady::now().time_since_epoch().count()) {
  options_.instance = identity_;
  runner_ = std::thread([this] { run(); });
  beater_ = std::thread([this] { beat(); });
  watchdog_ = std::thread([this] { watch(); });
}

Follower::~Follower() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  runner_.join();
  beater_.join();
  watchdog_.join();
  stopAll(nullptr);
  (void)store_.remove(kReplicaKind, identity_);
}

Result<void> Follower::writeRecord(const ReplicaAcks* acks) {
  std::lock_guard lock(record_mutex_);
  if (acks) acks_ = *acks;
  QSPLIT_TRY(store_.put(kReplicaKind, identity_, replicaRecord(acks_, ++beat_)));
  written_ = Steady::now().time_since_epoch().count();
  return {};
}

void Follower::run() {
  auto log = logger("follower");
  std::string last_error;
  std::optional<ReplicaAcks> written;  // what the record says
  while (!stopping_) {
    auto splits = store_.list(kSplitKind);
    std::string error = splits ? "" : splits.error().message();
    if (splits) {
      listed_ = Steady::now().time_since_epoch().count();
      auto acks = apply(*splits);
      // Written when it changed; beat() keeps it live in between.
      if (acks != written) {
        if (auto put = writeRecord(&acks); put)
          written = acks;
        else
          error = put.error().message();
      }
    }
    if (!error.empty() && error != last_error)
      log->warn("reading the leader's splits or writing this replica's record: {}", error);
    last_error = error;
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, kPeriod, [this] { return stopping_.load(); });
  }
}

Duration Follower::since(const std::atomic<Steady::rep>& ticks) {
  return Steady::now() - Steady::time_point(Steady::duration(ticks.load()));
}

void Follower::beat() {
  // Often enough to stay live (a third of the time after which it would stop forwarding),
  // and only while the runner reads the leader's splits: a replica that cannot read them
  // might route by a table the leader has replaced, so it must let its record go stale.
  while (!stopping_) {
    if (since(written_) >= fence_after_ / 3 && since(listed_) < fence_after_)
      (void)writeRecord(nullptr);  // a failure shows as a stale record; run() logs it
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_.load(); });
  }
}

void Follower::watch() {
  while (!stopping_) {
    if (since(written_) > fence_after_) stopAll("this replica's record could not be written in time");
    std::unique_lock lock(wake_mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_.load(); });
  }
}

void Follower::stopAll(const char* why) {
  std::map<std::string, std::unique_ptr<Followed>> stopped;
  {
    std::lock_guard lock(mutex_);
    bool any = false;
    for (auto& [key, f] : followed_) any = any || f->forwarder;
    if (!any) return;
    stopped.swap(followed_);
  }
  if (why) logger("follower")->error("stopped forwarding: {}", why);
  for (auto& [key, f] : stopped)
    if (f->forwarder) f->forwarder->stop();
}

ReplicaAcks Follower::apply(const std::vector<StoredRecord>& splits) {
  auto log = logger("follower");
  bool fenced = since(written_) > fence_after_;
  ReplicaAcks acks;
  std::lock_guard lock(mutex_);
  std::map<std::string, std::unique_ptr<Followed>> kept;
  for (const auto& record : splits) {
    auto routes = routesFromJson(record.json);
    if (!routes) {
      log->error("split {}: {}", record.key, routes.error().message());
      continue;
    }
    if (routes->token.empty()) continue;
    auto& f = kept[record.key];
    if (auto it = followed_.find(record.key); it != followed_.end()) f = std::move(it->second);
    if (!f) f = std::make_unique<Followed>();
    if (!routes->problem.empty() && f->token != routes->token)
      log->error("queue={} cannot follow the leader's routes: {}", routes->original,
                 routes->problem);
    bool forward = routes->forwarding && !fenced;
    if (f->forwarder && (!forward || f->fallback != routes->fallback)) {
      f->forwarder->stop();  // settles the batch in hand
      f->forwarder.reset();
      log->info("queue={} no longer forwarded here", routes->original);
    }
    std::optional<Result<ForwardSource>> source;  // resolved once, when needed
    auto resolved = [&]() -> Result<ForwardSource>& {
      if (!source) source = resolve_(record.json);
      return *source;
    };
    if (forward && (f->token != routes->token || !f->router)) {
      if (!f->content && hasContent(routes->sessions))
        if (auto& s = resolved(); s && s->content) f->content = s->content();
      auto table = core::RouteTable::build(routes->sessions, routes->fallback, ++f->generation, f->content);
      if (table) {
        if (!f->router) f->router = std::make_unique<core::Router>(*table);
        f->router->publish(std::move(table).value());
        if (f->forwarder) f->forwarder->waitForGeneration(f->generation);
      } else {
        // Routing on by the older table could fill a queue about to go: stop instead.
        if (f->token != routes->token)
          log->error("queue={} cannot follow the leader's routes: {}", routes->original,
                     table.error().message());
        if (f->forwarder) f->forwarder->stop();
        f->forwarder.reset();
        f->router.reset();
        forward = false;
      }
    }
    if (forward && !f->forwarder) {
      auto& source = resolved();
      auto forwarder = source ? std::make_unique<engine::Forwarder>(
                                    *source->broker, routes->original, source->group, *f->router,
                                    [&] {
                                      auto o = options_;
                                      o.view = source->view;
                                      return o;
                                    }())
                              : nullptr;
      auto started = source ? forwarder->start() : Result<void>(fail(source.error()));
      if (started) {
        f->forwarder = std::move(forwarder);
        log->info("queue={} forwarded here too, by the leader's routes ({} sessions)",
                  routes->original, routes->sessions.size());
      } else if (f->token != routes->token) {
        log->error("queue={} cannot be forwarded here: {}", routes->original,
                   started.error().message());
      }
    }
    if (f->content) releaseEnded(*f->content, f->sessions, routes->sessions);
    f->token = routes->token;
    f->original = routes->original;
    f->fallback = routes->fallback;
    f->sessions = routes->sessions;
    acks[record.key] = routes->token;  // routed by it, or not forwarded at all
  }
  for (auto& [key, f] : followed_)
    if (f && f->forwarder) {
      f->forwarder->stop();
      log->info("queue={} restored: no longer forwarded here", f->original);
    }
  followed_ = std::move(kept);
  return acks;
}

std::vector<engine::SplitStatus> Follower::status() const {
  std::lock_guard lock(mutex_);
  std::vector<engine::SplitStatus> out;
  for (const auto& [key, f] : followed_) {
    if (!f->forwarder) continue;
    engine::SplitStatus s{f->original, f->fallback, core::SplitState::kSplitting, {},
                          f->forwarder->counts(), 0};
    for (const auto& r : f->sessions) s.sessions.push_back({r.session_id, r.destination, r.mode});
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace qsplit::control
