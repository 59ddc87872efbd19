#include "brokers/redis/bullmq_job.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace qsplit::redis {
namespace {

#include "bullmq_scripts.inc"

// qsplit's one script of its own: removes a job it took (active, under its lock) as removeJob
// does (the job's keys, its deduplication key, a `removed` event), without removeJob's search
// of the wait list, which costs as much as the backlog is long. Answers 1 when removed, 0 when
// the lock is another's (it expired and the job was taken again: left alone), -3 when the job
// is not active (the caller then runs removeJob).
//   KEYS: active, stalled, events, job key; ARGV: job id, lock token, queue prefix
constexpr BullmqScript kRemoveTakenJob{"qsplit-removeTakenJob", 4, R"lua(
local rcall = redis.call
local jobId, token, prefix = ARGV[1], ARGV[2], ARGV[3]
local jobKey = KEYS[4]
local lock = rcall("GET", jobKey .. ":lock")
if lock and lock ~= token then return 0 end
if rcall("LREM", KEYS[1], 1, jobId) == 0 then return -3 end
rcall("SREM", KEYS[2], jobId)
local deduplicationId = rcall("HGET", jobKey, "deid")
if deduplicationId and rcall("GET", prefix .. "de:" .. deduplicationId) == jobId then
  rcall("DEL", prefix .. "de:" .. deduplicationId, prefix .. "dn:" .. deduplicationId)
end
rcall("DEL", jobKey, jobKey .. ":lock", jobKey .. ":logs", jobKey .. ":dependencies", jobKey .. ":processed",
      jobKey .. ":failed", jobKey .. ":unsuccessful")
rcall("XADD", KEYS[3], "*", "event", "removed", "jobId", jobId, "prev", "active")
return 1
)lua"};

constexpr BullmqScript kScripts[BullmqScripts::kCount] = {
    kAddStandardJob, kAddDelayedJob, kAddPrioritizedJob, kMoveToActive, kRemoveJob,
    kMoveJobFromActiveToWait, kMoveStalledJobsToWait, kPromote, kRemoveTakenJob};

// The message's job options (its `opts` attribute), "{}" when it has none.
const std::string& jobOptions(const core::Message& job) {
  static const std::string kNone = "{}";
  const auto* opts = job.findAttribute("opts");
  return opts ? opts->value : kNone;
}

std::string packed(const nlohmann::json& value) {
  auto bytes = nlohmann::json::to_msgpack(value);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

Result<void> BullmqScripts::load(RedisConnection& connection) {
  std::vector<std::string> sha;
  for (const auto& script : kScripts) {
    QSPLIT_ASSIGN_OR_RETURN(auto reply, connection.command({"SCRIPT", "LOAD", script.text}));
    if (reply.type != RedisReply::Type::kString)
      return fail(ErrorCode::kUnavailable, std::string("redis ") + connection.address().describe() +
                                               ": loading bullmq " + kBullmqVersion + " script " + script.name +
                                               ": " + replyError(reply));
    sha.push_back(reply.text);
  }
  sha_ = std::move(sha);
  return {};
}

std::vector<std::string> BullmqScripts::call(Id id, const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"EVALSHA", sha_.at(id), std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

core::Message jobMessage(const std::string& id, const RedisReply& fields) {
  core::Message m;
  m.id = id;
  m.receipt = id;
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& name = fields.elements[i].text;
    const std::string& value = fields.elements[i + 1].text;
    if (name == "data") m.body = value;
    else if (name == "name") m.key = value;
    else if (name == "opts") m.attributes.push_back({"opts", value, ""});
    else if (name == "timestamp") {
      int64_t t = 0;
      if (std::from_chars(value.data(), value.data() + value.size(), t).ec == std::errc()) m.timestamp_ms = t;
    }
  }
  return m;
}

Result<std::vector<std::string>> addJob(const BullmqScripts& scripts, const BullmqQueue& queue,
                                        const core::Message& job) {
  auto opts = nlohmann::json::parse(jobOptions(job), nullptr, false);
  if (!opts.is_object())
    return fail(ErrorCode::kInvalidArgument, "adding job " + job.id + " to bullmq queue " + queue.name() +
                                                 ": its opts are not a JSON object");
  // Deduplication (`de`) happened when the job was first added; the job keeps its id instead.
  opts.erase("de");
  nlohmann::json args = {queue.prefix(), job.id, job.key.value_or(""), job.timestamp_ms.value_or(0),
                         nullptr, nullptr, nullptr, nullptr, nullptr};
  std::vector<std::string> argv = {packed(args), job.body.empty() ? "{}" : job.body, packed(opts)};
  auto delay = opts.find("delay");
  auto priority = opts.find("priority");
  if (delay != opts.end() && delay->is_number() && delay->get<double>() > 0)
    return scripts.call(BullmqScripts::kAddDelayed,
                        queue.keys({"marker", "meta", "id", "delayed", "completed", "events"}), argv);
  if (priority != opts.end() && priority->is_number() && priority->get<double>() != 0)
    return scripts.call(BullmqScripts::kAddPrioritized,
                        queue.keys({"marker", "meta", "id", "prioritized", "delayed", "completed",
                         "active", "events", "pc"}),
                        argv);
  return scripts.call(BullmqScripts::kAddStandard,
                      queue.keys({"wait", "paused", "meta", "id", "completed", "delayed", "active",
                       "events", "marker"}),
                      argv);
}

}  // namespace qsplit::redis
