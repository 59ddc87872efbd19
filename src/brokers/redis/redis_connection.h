// RedisConnection: one connection to a Redis server over hiredis, speaking commands as
// argument lists and answering with RedisReply values, so nothing outside this folder sees
// hiredis. Commands can be pipelined: append() several, then read() each reply in order.
// Not thread-safe: one owner at a time (the admin guards its own with a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

struct redisContext;

namespace qsplit::redis {

// Where the server is: `redis://[[user]:password@]host:port[/db]`, or `rediss://` for TLS
// (hiredis 0.14 has none: qsplit runs it under a TLS relay of its own, redis_tls.h).
struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;
  std::string password;
  int db = 0;
  bool tls = false;
  std::string tls_ca;  // PEM certificates the server's must chain to; empty: the system's CAs
  std::chrono::milliseconds timeout{5000};  // connecting, and each reply (beyond a BLOCK)

  static Result<RedisAddress> parse(const std::string& url);
  // From a MirrordPropertyList, as the reference reads one: `url` (used as it is), else `host`
  // with `port` (6379), `password`, `tls` and `db` (0); and qsplit's `username` and `tls_ca`
  // (the CA's PEM, for a server whose certificate the system does not trust). Any other
  // property is an error that names it.
  static Result<RedisAddress> fromProperties(const std::map<std::string, std::string>& properties);
  std::string describe() const;  // host:port/db, no password
};

struct RedisReply {
  enum class Type { kString, kStatus, kInteger, kArray, kNil, kError };
  Type type = Type::kNil;
  std::string text;  // a string, a status or an error
  long long integer = 0;
  std::vector<RedisReply> elements;

  bool isError() const { return type == Type::kError; }
  bool isNil() const { return type == Type::kNil; }
};

class RedisConnection {
 public:
  // Connects, authenticates and selects the database; errors name the server.
  static Result<RedisConnection> connect(const RedisAddress& address);

  RedisConnection(RedisConnection&& other) noexcept;
  RedisConnection& operator=(RedisConnection&& other) noexcept;
  ~RedisConnection();

  // One command and its reply. A reply of type kError is a value, not a failed Result: the
  // caller decides what the server's refusal means. A failed Result is a broken connection.
  Result<RedisReply> command(const std::vector<std::string>& argv);
  // Pipelining: append() queues a command, read() writes what is queued and returns the
  // next reply.
  void append(const std::vector<std::string>& argv);
  Result<RedisReply> read();
  // A reply the server pushed (a subscriber's message) or one already read, waiting at most
  // `wait` for it; none when nothing arrived in time.
  Result<std::optional<RedisReply>> next(std::chrono::milliseconds wait);
  // Writes what append() queued without reading a reply (it comes later, through next()).
  Result<void> flush();
  // How long a read may wait: a blocking command (XREADGROUP BLOCK) needs its block time more.
  void setReadTimeout(std::chrono::milliseconds timeout);

  const RedisAddress& address() const { return address_; }

 private:
  RedisConnection(redisContext* context, RedisAddress address) : context_(context), address_(std::move(address)) {}
  Error broken(const std::string& doing) const;

  redisContext* context_ = nullptr;
  RedisAddress address_;
};

// One connection for several threads (a mutex), made on first use and again after a failure.
class SharedConnection {
 public:
  explicit SharedConnection(RedisAddress address) : address_(std::move(address)) {}
  Result<RedisReply> run(const std::vector<std::string>& argv);
  const RedisAddress& address() const { return address_; }

 private:
  RedisAddress address_;
  std::mutex mutex_;
  std::optional<RedisConnection> connection_;
};

// The reply's text when it is an error, else "": for messages.
std::string replyError(const RedisReply& reply);

}  // namespace qsplit::redis
