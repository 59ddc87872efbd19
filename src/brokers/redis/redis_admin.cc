#include "brokers/redis/redis_admin.h"

namespace qsplit::redis {
namespace {

// The value of `field` in an XINFO reply's flat [name, value, ...] list, or nil.
RedisReply field(const std::vector<RedisReply>& info, const std::string& name) {
  for (std::size_t i = 0; i + 1 < info.size(); i += 2)
    if (info[i].text == name) return info[i + 1];
  return {};
}

// The error for a stream without the consumer group a split reads it in.
Error noGroup(const std::string& stream, const std::string& group) {
  return Error(ErrorCode::kNotFound, "redis stream " + stream + " has no consumer group " + group +
                                         " (the workload creates it: XGROUP CREATE " + stream + " " + group + " $)");
}

}  // namespace

Result<RedisReply> RedisAdmin::run(const std::vector<std::string>& argv) { return connection_.run(argv); }

Result<core::QueueInfo> RedisAdmin::describe(const std::string& name) {
  auto reply = run({"TYPE", name});
  if (!reply) return fail(reply.error());
  const std::string& type = reply->text;
  if (type == "none")
    return fail(ErrorCode::kNotFound, "redis stream " + name + " does not exist on " + connection_.address().describe());
  if (type != "stream")
    return fail(ErrorCode::kInvalidArgument, "redis key " + name + " is a " + type + ", not a stream");
  return core::QueueInfo{name, core::QueueKind::kQueue, 1};
}

Result<std::vector<std::vector<RedisReply>>> RedisAdmin::groups(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto reply, run({"XINFO", "GROUPS", name}));
  if (reply.isError()) return fail(ErrorCode::kNotFound, "redis stream " + name + ": " + reply.text);
  std::vector<std::vector<RedisReply>> out;
  for (auto& g : reply.elements) out.push_back(std::move(g.elements));
  return out;
}

Result<void> RedisAdmin::createLike(const std::string& original, const std::string& name) {
  QSPLIT_TRY(describe(original));
  QSPLIT_ASSIGN_OR_RETURN(auto groups, this->groups(original));
  std::vector<std::string> names;
  for (const auto& g : groups) names.push_back(field(g, "name").text);
  // A stream exists only with an entry or a group: one made for the creation, then dropped.
  if (names.empty()) names.push_back("qsplit-create");
  for (const auto& group : names) {
    QSPLIT_ASSIGN_OR_RETURN(auto created, run({"XGROUP", "CREATE", name, group, "0", "MKSTREAM"}));
    if (created.isError() && !created.text.starts_with("BUSYGROUP"))
      return fail(ErrorCode::kUnavailable, "creating redis stream " + name + " with group " + group + ": " + created.text);
  }
  if (groups.empty()) QSPLIT_TRY(run({"XGROUP", "DESTROY", name, "qsplit-create"}));
  return {};
}

Result<void> RedisAdmin::checkGroup(const std::string& name, const std::string& group) {
  QSPLIT_TRY(describe(name));
  QSPLIT_ASSIGN_OR_RETURN(auto groups, this->groups(name));
  for (const auto& g : groups)
    if (field(g, "name").text == group) return {};
  return fail(noGroup(name, group));
}

Result<void> RedisAdmin::remove(const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(auto reply, run({"DEL", name}));
  if (reply.isError()) return fail(ErrorCode::kUnavailable, "deleting redis stream " + name + ": " + reply.text);
  return {};
}

Result<uint64_t> RedisAdmin::backlog(const std::string& name, const std::string& group) {
  QSPLIT_TRY(describe(name));
  QSPLIT_ASSIGN_OR_RETURN(auto groups, this->groups(name));
  for (const auto& g : groups) {
    if (field(g, "name").text != group) continue;
    auto pending = static_cast<uint64_t>(field(g, "pending").integer);
    RedisReply lag = field(g, "lag");
    if (lag.type == RedisReply::Type::kInteger) return pending + static_cast<uint64_t>(lag.integer);
    // Redis cannot say the lag (entries were deleted): count what follows the group's place.
    QSPLIT_ASSIGN_OR_RETURN(auto after, run({"XRANGE", name, "(" + field(g, "last-delivered-id").text, "+"}));
    return pending + after.elements.size();
  }
  QSPLIT_ASSIGN_OR_RETURN(auto length, run({"XLEN", name}));
  return static_cast<uint64_t>(length.integer);
}

Result<std::vector<std::string>> RedisAdmin::streams() {
  std::vector<std::string> names;
  std::string cursor = "0";
  do {
    QSPLIT_ASSIGN_OR_RETURN(auto reply, run({"SCAN", cursor, "COUNT", "1000", "TYPE", "stream"}));
    if (reply.isError() || reply.elements.size() != 2)
      return fail(ErrorCode::kUnavailable, "listing redis streams: " + replyError(reply));
    cursor = reply.elements[0].text;
    for (const auto& n : reply.elements[1].elements) names.push_back(n.text);
  } while (cursor != "0");
  return names;
}

}  // namespace qsplit::redis
