#include "brokers/redis/redis_connection.h"

#include "brokers/redis/redis_tls.h"

#include <hiredis/hiredis.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include <tuple>
#include <utility>

namespace qsplit::redis {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::kString; break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::kStatus; break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::kError; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::kInteger; break;
    case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::kArray; break;
    default: out.type = RedisReply::Type::kNil; break;
  }
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    out.text.assign(r->str, r->len);
  out.integer = r->integer;
  for (std::size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i)
    out.elements.push_back(convert(r->element[i]));
  return out;
}

}  // namespace

// `url` for messages: a password in it is shown as ***.
static std::string redacted(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  return url.substr(0, scheme + 3) + "***" + url.substr(at);
}

Result<RedisAddress> RedisAddress::parse(const std::string& text) {
  RedisAddress a;
  std::string rest = text;
  const std::string url = redacted(text);
  a.tls = rest.starts_with("rediss://");
  if (!a.tls && !rest.starts_with("redis://"))
    return fail(ErrorCode::kInvalidArgument, url + ": expected redis:// or rediss://[[user]:password@]host:port[/db]");
  rest = rest.substr(a.tls ? 9 : 8);
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = credentials.find(':');
    if (colon == std::string::npos) {
      a.password = credentials;
    } else {
      a.user = credentials.substr(0, colon);
      a.password = credentials.substr(colon + 1);
    }
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    std::string db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      char* end = nullptr;
      long n = std::strtol(db.c_str(), &end, 10);
      if (*end || n < 0) return fail(ErrorCode::kInvalidArgument, url + ": the database must be a number, not " + db);
      a.db = static_cast<int>(n);
    }
  }
  auto colon = rest.rfind(':');
  a.host = rest.substr(0, colon);
  if (colon != std::string::npos) {
    char* end = nullptr;
    long port = std::strtol(rest.c_str() + colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
      return fail(ErrorCode::kInvalidArgument, url + ": the port must be 1 to 65535");
    a.port = static_cast<int>(port);
  }
  if (a.host.empty()) return fail(ErrorCode::kInvalidArgument, url + ": no host");
  return a;
}

Result<RedisAddress> RedisAddress::fromProperties(const std::map<std::string, std::string>& properties) {
  for (const auto& [key, value] : properties)
    if (key != "url" && key != "host" && key != "port" && key != "password" && key != "tls" && key != "db" &&
        key != "username" && key != "tls_ca")
      return fail(ErrorCode::kInvalidArgument,
                  "property " + key + ": unknown; expected url, host, port, username, password, tls, tls_ca or db");
  auto get = [&](const std::string& key, const std::string& otherwise) {
    auto it = properties.find(key);
    return it == properties.end() ? otherwise : it->second;
  };
  std::string tls = get("tls", "false");
  if (tls != "true" && tls != "false") return fail(ErrorCode::kInvalidArgument, "property tls: expected true or false");
  std::string tls_ca = get("tls_ca", "");
  if (properties.count("url")) {
    auto parsed = parse(properties.at("url"));
    if (!parsed) return fail(ErrorCode::kInvalidArgument, "property url: " + parsed.error().message());
    parsed->tls = parsed->tls || tls == "true";
    parsed->tls_ca = tls_ca;
    if (!parsed->tls && !tls_ca.empty())
      return fail(ErrorCode::kInvalidArgument, "property tls_ca: set, and the connection is not TLS (tls: true)");
    return parsed;
  }
  if (tls != "true" && !tls_ca.empty())
    return fail(ErrorCode::kInvalidArgument, "property tls_ca: set, and the connection is not TLS (tls: true)");
  if (!properties.count("host")) return fail(ErrorCode::kInvalidArgument, "property host: url or host is required");
  RedisAddress a;
  a.host = properties.at("host");
  for (auto [key, field, limit] : {std::tuple{"port", &a.port, 65535}, std::tuple{"db", &a.db, 1 << 20}}) {
    std::string text = get(key, key == std::string("port") ? "6379" : "0");
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || n < 0 || n > limit || (key == std::string("port") && n == 0))
      return fail(ErrorCode::kInvalidArgument, std::string("property ") + key + ": expected a number, not " + text);
    *field = static_cast<int>(n);
  }
  a.user = get("username", "");
  a.password = get("password", "");
  a.tls = tls == "true";
  a.tls_ca = tls_ca;
  return a;
}

std::string RedisAddress::describe() const {
  return host + ":" + std::to_string(port) + (db ? "/" + std::to_string(db) : "");
}

Result<RedisConnection> RedisConnection::connect(const RedisAddress& address) {
  timeval timeout = toTimeval(address.timeout);
  redisContext* context = nullptr;
  if (address.tls) {
    QSPLIT_ASSIGN_OR_RETURN(int fd, openTlsRelay(address.host, address.port, address.timeout, address.tls_ca));
    context = redisConnectFd(fd);
  } else {
    context = redisConnectWithTimeout(address.host.c_str(), address.port, timeout);
  }
  if (!context) return fail(ErrorCode::kUnavailable, "redis " + address.describe() + ": cannot allocate a connection");
  RedisConnection connection(context, address);
  if (context->err)
    return fail(ErrorCode::kUnavailable, "redis " + address.describe() + ": cannot connect: " + context->errstr);
  redisSetTimeout(context, timeout);
  // Not inherited by the processes qsplitd starts (jq workers): a subscriber's connection must
  // close when its owner closes it.
  ::fcntl(context->fd, F_SETFD, FD_CLOEXEC);
  if (!address.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!address.user.empty()) auth.push_back(address.user);
    auth.push_back(address.password);
    QSPLIT_ASSIGN_OR_RETURN(auto reply, connection.command(auth));
    if (reply.isError())
      return fail(ErrorCode::kPermissionDenied, "redis " + address.describe() + ": AUTH refused: " + reply.text);
  }
  if (address.db != 0) {
    QSPLIT_ASSIGN_OR_RETURN(auto reply, connection.command({"SELECT", std::to_string(address.db)}));
    if (reply.isError())
      return fail(ErrorCode::kInvalidArgument, "redis " + address.describe() + ": SELECT refused: " + reply.text);
  }
  return connection;
}

RedisConnection::RedisConnection(RedisConnection&& other) noexcept
    : context_(std::exchange(other.context_, nullptr)), address_(std::move(other.address_)) {}

RedisConnection& RedisConnection::operator=(RedisConnection&& other) noexcept {
  std::swap(context_, other.context_);
  std::swap(address_, other.address_);
  return *this;
}

RedisConnection::~RedisConnection() {
  if (context_) redisFree(context_);
}

Error RedisConnection::broken(const std::string& doing) const {
  return Error(ErrorCode::kUnavailable, "redis " + address_.describe() + ": " + doing + ": " +
                                            (context_ && context_->err ? context_->errstr : "no reply"));
}

void RedisConnection::append(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  redisAppendCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data());
}

Result<RedisReply> RedisConnection::read() {
  if (context_->err) return fail(broken("connection lost"));
  void* raw = nullptr;
  if (redisGetReply(context_, &raw) != REDIS_OK || !raw) return fail(broken("reading a reply"));
  auto* reply = static_cast<redisReply*>(raw);
  RedisReply out = convert(reply);
  freeReplyObject(reply);
  return out;
}

Result<std::optional<RedisReply>> RedisConnection::next(std::chrono::milliseconds wait) {
  if (context_->err) return fail(broken("connection lost"));
  void* raw = nullptr;
  if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) return fail(broken("reading a reply"));
  if (!raw) {
    pollfd ready{context_->fd, POLLIN, 0};
    int n = ::poll(&ready, 1, static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR) return fail(broken(std::string("waiting for a reply: ") + std::strerror(errno)));
    if (n <= 0) return std::optional<RedisReply>();
    if (redisBufferRead(context_) != REDIS_OK) return fail(broken("reading a reply"));
    if (redisGetReplyFromReader(context_, &raw) != REDIS_OK) return fail(broken("reading a reply"));
    if (!raw) return std::optional<RedisReply>();
  }
  auto* reply = static_cast<redisReply*>(raw);
  RedisReply out = convert(reply);
  freeReplyObject(reply);
  return std::optional<RedisReply>(std::move(out));
}

Result<void> RedisConnection::flush() {
  int done = 0;
  while (!done)
    if (redisBufferWrite(context_, &done) != REDIS_OK) return fail(broken("writing a command"));
  return {};
}

Result<RedisReply> RedisConnection::command(const std::vector<std::string>& argv) {
  append(argv);
  return read();
}

void RedisConnection::setReadTimeout(std::chrono::milliseconds timeout) {
  redisSetTimeout(context_, toTimeval(timeout));
}

Result<RedisReply> SharedConnection::run(const std::vector<std::string>& argv) {
  std::lock_guard lock(mutex_);
  if (!connection_) {
    QSPLIT_ASSIGN_OR_RETURN(auto connection, RedisConnection::connect(address_));
    connection_.emplace(std::move(connection));
  }
  auto reply = connection_->command(argv);
  if (!reply) connection_.reset();
  return reply;
}

std::string replyError(const RedisReply& reply) { return reply.isError() ? reply.text : ""; }

}  // namespace qsplit::redis
