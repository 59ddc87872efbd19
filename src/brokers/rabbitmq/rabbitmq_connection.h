// One AMQP 0-9-1 connection with one channel, over librabbitmq: the connection settings,
// login, and the library's and the server's errors turned into Results that name the cause.
#pragma once

#include <amqp.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "common/c_handle.h"
#include "common/result.h"

namespace qsplit::rabbitmq {

struct RabbitSettings {
  std::string host = "127.0.0.1";
  int port = 5672;
  std::string vhost = "/";
  std::string user = "guest";
  std::string password = "guest";  // never logged
  bool tls = false;
  std::string ca_file;   // TLS: PEM certificates to trust instead of the system's
  bool verify = true;    // TLS: check the server's certificate and host name
  // The management HTTP API (http://host:15672), optional: with it, temporary queues copy the
  // original's declare arguments and a queue's backlog includes unacknowledged messages.
  std::string management_url;
  std::chrono::milliseconds timeout{10000};  // connecting, and each call to the server

  // amqp://user:password@host:port/vhost or amqps://... (the vhost percent-encoded, "%2f"
  // for "/"), as RabbitMQ's URI spec has it.
  static Result<RabbitSettings> fromUrl(const std::string& url);
  // From a MirrordPropertyList's settings: url (as fromUrl), or host, port, vhost, username
  // (or user), password; tls ("true"), tls_ca_file, tls_verify ("false" to skip checks);
  // management_url. Entries after url override it. Errors name the property.
  static Result<RabbitSettings> fromProperties(const std::map<std::string, std::string>& properties);
  // "host:port vhost / as user" (no password), for messages and logs.
  std::string describe() const;
};

using ConnectionHandle = CHandle<amqp_connection_state_t_, amqp_destroy_connection>;

// Not thread-safe: one owner at a time.
class RabbitConnection {
 public:
  static constexpr amqp_channel_t kChannel = 1;

  // Connects, logs in and opens channel 1. Errors: kUnavailable (unreachable), kPermissionDenied
  // (credentials or vhost refused), kTimeout.
  static Result<std::unique_ptr<RabbitConnection>> open(const RabbitSettings& settings);
  ~RabbitConnection();  // closes the channel and the connection politely

  amqp_connection_state_t state() { return connection_.get(); }
  const RabbitSettings& settings() const { return settings_; }

  // The outcome of the last synchronous call, with `what` naming it. A channel error from the
  // server (404 not found, 406 precondition failed, 403 access refused) reopens the channel, so
  // the connection stays usable; anything else marks the connection broken.
  Result<void> check(const std::string& what);
  Result<void> checkReply(const amqp_rpc_reply_t& reply, const std::string& what);
  // A status code of a call that has no reply (publish, ack): 0 is fine.
  Result<void> checkStatus(int status, const std::string& what);
  // Answers a channel.close or connection.close the server sent outside a call, and returns it
  // as an error. `frame` is the method frame that carried it.
  Error closedByServer(const amqp_frame_t& frame, const std::string& what);
  bool broken() const { return broken_; }

 private:
  RabbitConnection(ConnectionHandle connection, RabbitSettings settings)
      : connection_(std::move(connection)), settings_(std::move(settings)) {}
  Error serverError(const amqp_method_t& method, const std::string& what);

  ConnectionHandle connection_;
  RabbitSettings settings_;
  bool broken_ = false;
};

timeval toTimeval(std::chrono::milliseconds ms);

// AMQP's reply codes as qsplit's error codes (404 -> kNotFound, 403 -> kPermissionDenied, ...).
ErrorCode errorCodeOfReply(uint16_t reply_code);

}  // namespace qsplit::rabbitmq
