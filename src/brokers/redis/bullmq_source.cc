#include "brokers/redis/bullmq_source.h"

#include <nlohmann/json.hpp>

#include "common/random.h"

namespace qsplit::redis {
namespace {

// How many times a job may stall before the check fails it: BullMQ's default is 1, for a
// worker that crashed processing it; qsplit only moves jobs, so a job it held when it was
// killed is never failed for that.
constexpr const char* kMaxStalled = "1000";

std::string nowMs() {
  using namespace std::chrono;
  return std::to_string(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

BullmqSource::BullmqSource(RedisAddress address, std::string queue, std::chrono::milliseconds lock,
                           std::chrono::milliseconds longest_wait)
    : address_(std::move(address)), queue_(std::move(queue)),
      token_("qsplit-" + SecureRandom::instance().digits(12)), lock_(lock), longest_wait_(longest_wait) {
  // What moveToActive is told of this worker, the same for every call.
  auto bytes = nlohmann::json::to_msgpack({{"token", token_}, {"lockDuration", lock_.count()}, {"name", "qsplit"}});
  worker_opts_.assign(bytes.begin(), bytes.end());
}

Result<std::unique_ptr<BullmqSource>> BullmqSource::open(const RedisAddress& address, const std::string& queue,
                                                         std::chrono::milliseconds lock,
                                                         std::chrono::milliseconds longest_wait) {
  std::unique_ptr<BullmqSource> source(new BullmqSource(address, queue, lock, longest_wait));
  QSPLIT_TRY(source->connection());
  return source;
}

Result<RedisConnection*> BullmqSource::connection() {
  if (!connection_) {
    QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(address_));
    QSPLIT_TRY(scripts_.load(connection));
    connection_.emplace(std::move(connection));
  }
  return &*connection_;
}

Result<std::vector<RedisReply>> BullmqSource::pipeline(const std::vector<std::vector<std::string>>& commands) {
  QSPLIT_ASSIGN_OR_RETURN(auto* c, connection());
  for (const auto& argv : commands) c->append(argv);
  std::vector<RedisReply> replies;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    auto reply = c->read();
    if (!reply) {
      connection_.reset();
      return fail(reply.error());
    }
    // The server lost the scripts (a restart, SCRIPT FLUSH): they are loaded again next time.
    if (reply->isError() && reply->text.starts_with("NOSCRIPT")) connection_.reset();
    replies.push_back(std::move(reply).value());
  }
  return replies;
}

Result<void> BullmqSource::checkStalled() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_stalled_check_ < lock_) return {};
  last_stalled_check_ = now;
  QSPLIT_ASSIGN_OR_RETURN(
      auto replies,
      pipeline({scripts_.call(BullmqScripts::kStalled,
                              queue_.keys({"stalled", "wait", "active", "stalled-check", "meta", "paused",
                               "marker", "events", "repeat"}),
                              {kMaxStalled, queue_.prefix(), nowMs(), std::to_string(lock_.count())})}));
  if (replies[0].isError())
    return fail(ErrorCode::kUnavailable, "bullmq queue " + queue_.name() + ": checking stalled jobs: " + replies[0].text);
  return {};
}

Result<void> BullmqSource::promoteDelayed(std::size_t max) {
  QSPLIT_ASSIGN_OR_RETURN(auto* c, connection());
  auto ids = c->command({"ZRANGE", queue_.key("delayed"), "0", std::to_string(max - 1)});
  if (!ids) {
    connection_.reset();
    return fail(ids.error());
  }
  if (ids->elements.empty()) return {};
  std::vector<std::vector<std::string>> commands;
  for (const auto& id : ids->elements)
    commands.push_back(scripts_.call(BullmqScripts::kPromote,
                                     queue_.keys({"delayed", "wait", "paused", "meta", "prioritized", "active",
                                      "pc", "events", "marker"}),
                                     {queue_.prefix(), id.text}));
  QSPLIT_ASSIGN_OR_RETURN(auto replies, pipeline(commands));
  for (const auto& r : replies)  // -3: taken meanwhile by a worker, which is fine
    if (r.isError())
      return fail(ErrorCode::kUnavailable, "bullmq queue " + queue_.name() + ": promoting delayed jobs: " + r.text);
  return {};
}

Result<std::vector<core::Message>> BullmqSource::take(std::size_t max) {
  auto move = scripts_.call(BullmqScripts::kMoveToActive,
                            queue_.keys({"wait", "active", "prioritized", "events", "stalled", "limiter",
                             "delayed", "paused", "meta", "pc", "marker"}),
                            {queue_.prefix(), nowMs(), worker_opts_});
  std::vector<core::Message> jobs;
  // One first: an empty queue costs one call; a busy one gets the rest pipelined.
  for (std::size_t n = 1; jobs.size() < max; n = max - jobs.size()) {
    QSPLIT_ASSIGN_OR_RETURN(auto replies, pipeline(std::vector<std::vector<std::string>>(n, move)));
    std::size_t before = jobs.size();
    for (const auto& r : replies) {
      if (r.isError())
        return fail(ErrorCode::kUnavailable, "bullmq queue " + queue_.name() + ": taking a job: " + r.text);
      if (r.elements.size() < 2 || r.elements[1].type != RedisReply::Type::kString) continue;
      jobs.push_back(jobMessage(r.elements[1].text, r.elements[0]));
    }
    if (jobs.size() - before < n) break;
  }
  return jobs;
}

Result<std::vector<core::Message>> BullmqSource::receive(std::size_t max, std::chrono::milliseconds wait) {
  if (max == 0) return std::vector<core::Message>{};
  QSPLIT_TRY(checkStalled());
  QSPLIT_TRY(promoteDelayed(max));
  QSPLIT_ASSIGN_OR_RETURN(auto jobs, take(max));
  wait = std::min(wait, longest_wait_);
  if (!jobs.empty() || wait.count() <= 0) return jobs;
  // Wait as a Worker does: on the marker that an added job sets.
  QSPLIT_ASSIGN_OR_RETURN(auto* c, connection());
  c->setReadTimeout(wait + address_.timeout);
  auto marker = c->command({"BZPOPMIN", queue_.key("marker"), std::to_string(wait.count() / 1000.0)});
  if (connection_) connection_->setReadTimeout(address_.timeout);
  if (!marker) {
    connection_.reset();
    return fail(marker.error());
  }
  QSPLIT_TRY(promoteDelayed(max));
  return take(max);
}

Result<void> BullmqSource::ack(std::span<const core::Message> messages) {
  std::vector<std::vector<std::string>> commands;
  for (const auto& m : messages)
    commands.push_back(scripts_.call(BullmqScripts::kRemoveTaken,
                                     {queue_.key("active"), queue_.key("stalled"), queue_.key("events"), queue_.key(m.id)},
                                     {m.id, token_, queue_.prefix()}));
  QSPLIT_ASSIGN_OR_RETURN(auto replies, pipeline(commands));
  // A job no longer active (its lock expired and the stalled check put it back to wait) is
  // removed wherever it is, by the package's removeJob.
  std::vector<std::vector<std::string>> elsewhere;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& r = replies[i];
    if (r.isError())
      return fail(ErrorCode::kUnavailable, "bullmq queue " + queue_.name() + ": removing forwarded job " +
                                               messages[i].id + ": " + r.text);
    if (r.integer != -3) continue;
    elsewhere.push_back(scripts_.call(BullmqScripts::kRemove, {queue_.key(messages[i].id), queue_.key("repeat")},
                                      {messages[i].id, "0", queue_.prefix()}));
    ids.push_back(messages[i].id);
  }
  if (elsewhere.empty()) return {};
  QSPLIT_ASSIGN_OR_RETURN(auto removed, pipeline(elsewhere));
  for (std::size_t i = 0; i < removed.size(); ++i) {
    const auto& r = removed[i];
    if (r.isError() || (r.type == RedisReply::Type::kInteger && r.integer < 0))
      return fail(ErrorCode::kUnavailable,
                  "bullmq queue " + queue_.name() + ": removing forwarded job " + ids[i] + ": " +
                      (r.isError() ? r.text
                       : r.integer == -8 ? "it is a job scheduler's (repeatable) job, which qsplit does not split"
                                         : "code " + std::to_string(r.integer)));
  }
  return {};
}

Result<void> BullmqSource::release(std::span<const core::Message> messages) {
  auto back = [&](const core::Message& m, const std::string& token) {
    return scripts_.call(BullmqScripts::kActiveToWait,
                         queue_.keys({"active", "wait", "stalled", "paused", "meta", "limiter",
                          "prioritized", "marker", "events"}),
                         {m.id, token, queue_.key(m.id)});
  };
  std::vector<std::vector<std::string>> commands;
  for (const auto& m : messages) commands.push_back(back(m, token_));
  QSPLIT_ASSIGN_OR_RETURN(auto replies, pipeline(commands));
  // -2: the lock expired and nobody took the job since; it is still active, so it is moved
  // without a lock (token "0"), as the package does for a job that has none. -6 (another's
  // lock) and -1 (gone): it is not this source's any more.
  std::vector<std::vector<std::string>> unlocked;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].isError())
      return fail(ErrorCode::kUnavailable, "bullmq queue " + queue_.name() + ": giving back job " +
                                               messages[i].id + ": " + replies[i].text);
    if (replies[i].integer == -2) unlocked.push_back(back(messages[i], "0"));
  }
  if (unlocked.empty()) return {};
  QSPLIT_ASSIGN_OR_RETURN(auto again, pipeline(unlocked));
  for (const auto& r : again)
    if (r.isError())
      return fail(ErrorCode::kUnavailable, "bullmq queue " + queue_.name() + ": giving back a job: " + r.text);
  return {};
}

}  // namespace qsplit::redis
