#include "brokers/redis/redis_source.h"

#include "common/log.h"
#include "common/random.h"

namespace qsplit::redis {
namespace {

constexpr auto kClaimEvery = std::chrono::seconds(1);

}  // namespace

std::vector<core::Message> entriesToMessages(const RedisReply& entries) {
  std::vector<core::Message> out;
  for (const auto& entry : entries.elements) {
    if (entry.elements.size() != 2 || entry.elements[1].type != RedisReply::Type::kArray) continue;
    core::Message m;
    m.id = entry.elements[0].text;
    m.receipt = m.id;
    const auto& fields = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) m.attributes.push_back({fields[i].text, fields[i + 1].text, ""});
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::string> xadd(const std::string& stream, const core::Message& message) {
  std::vector<std::string> argv = {"XADD", stream, "*"};
  for (const auto& a : message.attributes) {
    argv.push_back(a.name);
    argv.push_back(a.value);
  }
  return argv;
}

RedisSource::RedisSource(RedisAddress address, std::string stream, std::string group,
                         std::chrono::milliseconds claim_idle)
    : address_(std::move(address)), stream_(std::move(stream)), group_(std::move(group)),
      consumer_("qsplit-" + SecureRandom::instance().digits(10)), claim_idle_(claim_idle) {}

Result<std::unique_ptr<RedisSource>> RedisSource::open(const RedisAddress& address, const std::string& stream,
                                                       const std::string& group,
                                                       std::chrono::milliseconds claim_idle) {
  std::unique_ptr<RedisSource> source(new RedisSource(address, stream, group, claim_idle));
  QSPLIT_TRY(source->connection());
  return source;
}

RedisSource::~RedisSource() {
  // A consumer with nothing pending is dropped, so consumers do not pile up in the group; one
  // with entries pending keeps them, for a later claim.
  if (!connection_) return;
  auto pending = connection_->command({"XPENDING", stream_, group_, "-", "+", "1", consumer_});
  if (pending && pending->type == RedisReply::Type::kArray && pending->elements.empty())
    (void)connection_->command({"XGROUP", "DELCONSUMER", stream_, group_, consumer_});
}

Result<RedisConnection*> RedisSource::connection() {
  if (!connection_) {
    QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(address_));
    connection_.emplace(std::move(connection));
    reread_own_ = connected_once_;
    connected_once_ = true;
  }
  return &*connection_;
}

Result<std::vector<core::Message>> RedisSource::claim(std::size_t max) {
  QSPLIT_ASSIGN_OR_RETURN(auto* connection, this->connection());
  QSPLIT_ASSIGN_OR_RETURN(auto reply, checked(connection->command(
      {"XAUTOCLAIM", stream_, group_, consumer_, std::to_string(claim_idle_.count()), claim_cursor_,
       "COUNT", std::to_string(max)})));
  if (reply.isError() || reply.elements.size() < 2)
    return fail(ErrorCode::kUnavailable, "claiming idle entries of redis stream " + stream_ + ": " + replyError(reply));
  claim_cursor_ = reply.elements[0].text;
  auto claimed = entriesToMessages(reply.elements[1]);
  if (!claimed.empty())
    logger("redis")->info("stream={} group={} claimed {} entries pending for over {} ms", stream_, group_,
                          claimed.size(), claim_idle_.count());
  return claimed;
}

Result<std::vector<core::Message>> RedisSource::receive(std::size_t max, std::chrono::milliseconds wait) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_claim_ >= kClaimEvery) {
    last_claim_ = now;
    QSPLIT_ASSIGN_OR_RETURN(auto claimed, claim(max));
    if (!claimed.empty()) return claimed;
  }
  if (reread_own_) {
    QSPLIT_ASSIGN_OR_RETURN(auto own, read(max, wait, "0"));
    if (!own.empty()) return own;
    reread_own_ = false;
  }
  return read(max, wait, ">");
}

Result<std::vector<core::Message>> RedisSource::read(std::size_t max, std::chrono::milliseconds wait,
                                                     const std::string& id) {
  QSPLIT_ASSIGN_OR_RETURN(auto* connection, this->connection());
  std::vector<std::string> argv = {"XREADGROUP", "GROUP", group_, consumer_, "COUNT", std::to_string(max)};
  if (id == ">") {
    argv.insert(argv.end(), {"BLOCK", std::to_string(std::max<long>(1, wait.count()))});
    connection->setReadTimeout(wait + address_.timeout);
  }
  argv.insert(argv.end(), {"STREAMS", stream_, id});
  auto reply = checked(connection->command(argv));
  if (connection_) connection_->setReadTimeout(address_.timeout);
  if (!reply) return fail(reply.error());
  if (reply->isError())
    return fail(ErrorCode::kUnavailable, "reading redis stream " + stream_ + " in group " + group_ + ": " + reply->text);
  if (reply->isNil() || reply->elements.empty() || reply->elements[0].elements.size() < 2)
    return std::vector<core::Message>{};
  return entriesToMessages(reply->elements[0].elements[1]);
}

Result<void> RedisSource::ack(std::span<const core::Message> messages) {
  if (messages.empty()) return {};
  std::vector<std::string> argv = {"XACK", stream_, group_};
  for (const auto& m : messages) argv.push_back(m.receipt);
  QSPLIT_ASSIGN_OR_RETURN(auto* connection, this->connection());
  QSPLIT_ASSIGN_OR_RETURN(auto reply, checked(connection->command(argv)));
  if (reply.isError()) return fail(ErrorCode::kUnavailable, "acknowledging on redis stream " + stream_ + ": " + reply.text);
  return {};
}

Result<void> RedisSource::release(std::span<const core::Message> messages) {
  if (messages.empty()) return {};
  QSPLIT_ASSIGN_OR_RETURN(auto* connection, this->connection());
  // Back at the stream's end and acknowledged, atomically: neither lost nor doubled.
  connection->append({"MULTI"});
  std::vector<std::string> ack = {"XACK", stream_, group_};
  for (const auto& m : messages) {
    connection->append(xadd(stream_, m));
    ack.push_back(m.receipt);
  }
  connection->append(ack);
  connection->append({"EXEC"});
  Result<RedisReply> last = RedisReply{};
  for (std::size_t i = 0; i < messages.size() + 3 && last; ++i) last = checked(connection->read());
  if (!last) return fail(last.error());
  if (last->type != RedisReply::Type::kArray)
    return fail(ErrorCode::kUnavailable, "giving entries back to redis stream " + stream_ + ": " + replyError(*last));
  return {};
}

}  // namespace qsplit::redis
