#include "brokers/redis/bullmq_broker.h"

#include "brokers/redis/bullmq_job.h"
#include "brokers/redis/bullmq_sink.h"
#include "brokers/redis/bullmq_source.h"

namespace qsplit::redis {
namespace {

// `text` with the glob characters of a SCAN MATCH pattern escaped.
std::string globEscaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Result<void> checkBullmqName(const std::string& name) {
  if (name.empty() || name.find(':') != std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "bullmq queue name '" + name + "': " +
                                                 (name.empty() ? "empty" : "BullMQ refuses ':' in a queue name"));
  return {};
}

Result<core::QueueInfo> BullmqAdmin::describe(const std::string& name) {
  QSPLIT_TRY(checkBullmqName(name));
  QSPLIT_ASSIGN_OR_RETURN(auto exists, connection_.run({"EXISTS", BullmqQueue(name).key("meta")}));
  if (exists.type != RedisReply::Type::kInteger)
    return fail(ErrorCode::kUnavailable, "looking up bullmq queue " + name + ": " + replyError(exists));
  if (exists.integer == 0)
    return fail(ErrorCode::kNotFound, "bullmq queue " + name + " does not exist on " + connection_.address().describe() +
                                          " (no Queue or Worker has opened it: there is no key " +
                                          BullmqQueue(name).key("meta") + ")");
  return core::QueueInfo{name, core::QueueKind::kQueue, 1};
}

Result<void> BullmqAdmin::createLike(const std::string& original, const std::string& name) {
  QSPLIT_TRY(describe(original));
  QSPLIT_TRY(checkBullmqName(name));
  // The queue's settings (events kept, global concurrency and rate limit), as a Queue opening
  // it would write them; a pause of the original is not copied.
  QSPLIT_ASSIGN_OR_RETURN(auto meta, connection_.run({"HGETALL", BullmqQueue(original).key("meta")}));
  std::vector<std::string> hset = {"HSET", BullmqQueue(name).key("meta")};
  for (std::size_t i = 0; i + 1 < meta.elements.size(); i += 2) {
    if (meta.elements[i].text == "paused") continue;
    hset.push_back(meta.elements[i].text);
    hset.push_back(meta.elements[i + 1].text);
  }
  if (hset.size() == 2) hset.insert(hset.end(), {"opts.maxLenEvents", "10000"});
  QSPLIT_ASSIGN_OR_RETURN(auto made, connection_.run(hset));
  if (made.isError()) return fail(ErrorCode::kUnavailable, "creating bullmq queue " + name + ": " + made.text);
  return {};
}

Result<void> BullmqAdmin::remove(const std::string& name) {
  QSPLIT_TRY(checkBullmqName(name));
  BullmqQueue queue(name);
  std::string cursor = "0";
  do {
    QSPLIT_ASSIGN_OR_RETURN(auto reply,
                            connection_.run({"SCAN", cursor, "MATCH", globEscaped(queue.prefix()) + "*", "COUNT", "1000"}));
    if (reply.isError() || reply.elements.size() != 2)
      return fail(ErrorCode::kUnavailable, "deleting bullmq queue " + name + ": " + replyError(reply));
    cursor = reply.elements[0].text;
    std::vector<std::string> del = {"UNLINK"};
    for (const auto& key : reply.elements[1].elements) del.push_back(key.text);
    if (del.size() == 1) continue;
    QSPLIT_ASSIGN_OR_RETURN(auto deleted, connection_.run(del));
    if (deleted.isError()) return fail(ErrorCode::kUnavailable, "deleting bullmq queue " + name + ": " + deleted.text);
  } while (cursor != "0");
  return {};
}

Result<uint64_t> BullmqAdmin::backlog(const std::string& name, const std::string& group) {
  (void)group;
  QSPLIT_TRY(checkBullmqName(name));
  BullmqQueue queue(name);
  using namespace std::chrono;
  // A delayed job's score is its due time in ms times 0x1000, plus a counter.
  auto due = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() + 1;
  uint64_t total = 0;
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"LLEN", queue.key("wait")},
           {"LLEN", queue.key("paused")},
           {"LLEN", queue.key("active")},
           {"ZCARD", queue.key("prioritized")},
           {"ZCOUNT", queue.key("delayed"), "-inf", "(" + std::to_string(due * 0x1000)}}) {
    QSPLIT_ASSIGN_OR_RETURN(auto reply, connection_.run(argv));
    if (reply.type != RedisReply::Type::kInteger)
      return fail(ErrorCode::kUnavailable, "counting the jobs of bullmq queue " + name + ": " + replyError(reply));
    total += static_cast<uint64_t>(reply.integer);
  }
  return total;
}

Result<std::unique_ptr<BullmqBroker>> BullmqBroker::create(BullmqOptions options) {
  const RedisAddress& address = options.address;
  QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(address));
  QSPLIT_ASSIGN_OR_RETURN(auto pong, connection.command({"PING"}));
  if (pong.isError())
    return fail(ErrorCode::kUnavailable, "redis " + address.describe() + ": PING refused: " + pong.text);
  return std::unique_ptr<BullmqBroker>(new BullmqBroker(std::move(options)));
}

Result<std::unique_ptr<core::Source>> BullmqBroker::openSource(const std::string& name, const std::string& group) {
  (void)group;
  QSPLIT_TRY(checkBullmqName(name));
  QSPLIT_ASSIGN_OR_RETURN(auto source, BullmqSource::open(options_.address, name, options_.lock, options_.dequeue_timeout));
  return std::unique_ptr<core::Source>(std::move(source));
}

Result<std::unique_ptr<core::Sink>> BullmqBroker::openSink(const std::string& name) {
  QSPLIT_TRY(checkBullmqName(name));
  return std::unique_ptr<core::Sink>(std::make_unique<BullmqSink>(options_.address, name));
}

}  // namespace qsplit::redis
