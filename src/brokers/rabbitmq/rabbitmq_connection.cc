#include "brokers/rabbitmq/rabbitmq_connection.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>

#include <charconv>
#include <vector>

namespace qsplit::rabbitmq {
namespace {

std::string text(amqp_bytes_t bytes) {
  return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

Result<amqp_socket_t*> newSocket(amqp_connection_state_t connection, const RabbitSettings& s) {
  if (!s.tls) {
    amqp_socket_t* socket = amqp_tcp_socket_new(connection);
    if (!socket) return fail(ErrorCode::kInternal, "librabbitmq could not make a TCP socket");
    return socket;
  }
  amqp_socket_t* socket = amqp_ssl_socket_new(connection);
  if (!socket) return fail(ErrorCode::kInternal, "librabbitmq could not make a TLS socket");
  amqp_ssl_socket_set_verify_peer(socket, s.verify ? 1 : 0);
  amqp_ssl_socket_set_verify_hostname(socket, s.verify ? 1 : 0);
  if (!s.ca_file.empty() && amqp_ssl_socket_set_cacert(socket, s.ca_file.c_str()) != AMQP_STATUS_OK)
    return fail(ErrorCode::kInvalidArgument, "RabbitMQ TLS: cannot read CA file " + s.ca_file);
  return socket;
}

}  // namespace

timeval toTimeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

Result<RabbitSettings> RabbitSettings::fromUrl(const std::string& url) {
  std::vector<char> buffer(url.begin(), url.end());
  buffer.push_back('\0');
  amqp_connection_info info;
  amqp_default_connection_info(&info);
  if (amqp_parse_url(buffer.data(), &info) != AMQP_STATUS_OK)
    return fail(ErrorCode::kInvalidArgument,  // not echoed: it may hold a password
                "the RabbitMQ URL is malformed; expected amqp://user:password@host:port/vhost");
  RabbitSettings s;
  s.host = info.host;
  s.port = info.port;
  s.vhost = info.vhost;
  s.user = info.user;
  s.password = info.password;
  s.tls = info.ssl != 0;
  return s;
}

Result<RabbitSettings> RabbitSettings::fromProperties(
    const std::map<std::string, std::string>& properties) {
  RabbitSettings s;
  if (auto url = properties.find("url"); url != properties.end()) {
    QSPLIT_ASSIGN_OR_RETURN(s, fromUrl(url->second));
  }
  auto flag = [](const std::string& name, const std::string& value) -> Result<bool> {
    if (value == "true" || value == "false") return value == "true";
    return fail(ErrorCode::kInvalidArgument, "property " + name + ": '" + value + "' is not true or false");
  };
  for (const auto& [name, value] : properties) {
    if (name == "url") continue;
    if (name == "host") {
      s.host = value;
    } else if (name == "port") {
      int port = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), port);
      if (ec != std::errc() || end != value.data() + value.size() || port < 1 || port > 65535)
        return fail(ErrorCode::kInvalidArgument, "property port: '" + value + "' is not a port number");
      s.port = port;
    } else if (name == "vhost") {
      s.vhost = value;
    } else if (name == "username" || name == "user") {
      s.user = value;
    } else if (name == "password") {
      s.password = value;
    } else if (name == "tls") {
      QSPLIT_ASSIGN_OR_RETURN(s.tls, flag(name, value));
    } else if (name == "tls_verify") {
      QSPLIT_ASSIGN_OR_RETURN(s.verify, flag(name, value));
    } else if (name == "tls_ca_file") {
      s.ca_file = value;
    } else if (name == "management_url") {
      s.management_url = value;
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  "unknown property '" + name + "'; expected url, host, port, vhost, username, "
                  "password, tls, tls_ca_file, tls_verify or management_url");
    }
  }
  return s;
}

std::string RabbitSettings::describe() const {
  return host + ":" + std::to_string(port) + " vhost " + vhost + " as " + user;
}

Result<std::unique_ptr<RabbitConnection>> RabbitConnection::open(const RabbitSettings& settings) {
  ConnectionHandle handle(amqp_new_connection());
  if (!handle) return fail(ErrorCode::kInternal, "librabbitmq could not allocate a connection");
  QSPLIT_ASSIGN_OR_RETURN(amqp_socket_t * socket, newSocket(handle.get(), settings));
  timeval timeout = toTimeval(settings.timeout);
  int status = amqp_socket_open_noblock(socket, settings.host.c_str(), settings.port, &timeout);
  std::string at = settings.host + ":" + std::to_string(settings.port);
  bool tls_failed = status == AMQP_STATUS_SSL_ERROR || status == AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED ||
                    status == AMQP_STATUS_SSL_PEER_VERIFY_FAILED || status == AMQP_STATUS_SSL_CONNECTION_FAILED;
  if (tls_failed)
    return fail(ErrorCode::kUnavailable, "TLS with RabbitMQ at " + at + " failed: " +
                                             amqp_error_string2(status) +
                                             " (does tls_ca_file hold the CA that signed the "
                                             "server's certificate?)");
  if (status != AMQP_STATUS_OK)
    return fail(status == AMQP_STATUS_TIMEOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                "RabbitMQ at " + at + " is unreachable: " + amqp_error_string2(status));
  amqp_set_rpc_timeout(handle.get(), &timeout);
  std::unique_ptr<RabbitConnection> connection(new RabbitConnection(std::move(handle), settings));
  amqp_rpc_reply_t login =
      amqp_login(connection->state(), settings.vhost.c_str(), 0, 131072, 0,
                 AMQP_SASL_METHOD_PLAIN, settings.user.c_str(), settings.password.c_str());
  if (login.reply_type != AMQP_RESPONSE_NORMAL) {
    auto checked = connection->checkReply(login, "logging in to RabbitMQ at " + settings.describe());
    Error e = checked.error();
    // RabbitMQ refuses bad credentials by closing the socket during the handshake.
    if (login.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        login.library_error != AMQP_STATUS_TIMEOUT)
      e = Error{ErrorCode::kPermissionDenied,
                e.message() + " (the server closed the connection: wrong user or password?)"};
    return fail(e);
  }
  amqp_channel_open(connection->state(), kChannel);
  QSPLIT_TRY(connection->check("opening a channel on " + settings.describe()));
  return connection;
}

RabbitConnection::~RabbitConnection() {
  if (!broken_) {
    (void)amqp_channel_close(state(), kChannel, AMQP_REPLY_SUCCESS);
    (void)amqp_connection_close(state(), AMQP_REPLY_SUCCESS);
  }
}

Result<void> RabbitConnection::check(const std::string& what) {
  return checkReply(amqp_get_rpc_reply(state()), what);
}

Result<void> RabbitConnection::checkReply(const amqp_rpc_reply_t& reply, const std::string& what) {
  switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return ok();
    case AMQP_RESPONSE_NONE:
      broken_ = true;
      return fail(ErrorCode::kInternal, what + ": librabbitmq gave no reply");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      broken_ = true;
      return fail(reply.library_error == AMQP_STATUS_TIMEOUT ? ErrorCode::kTimeout
                                                             : ErrorCode::kUnavailable,
                  what + ": " + amqp_error_string2(reply.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      return fail(serverError(reply.reply, what));
  }
  broken_ = true;
  return fail(ErrorCode::kInternal, what + ": unknown librabbitmq reply type");
}

Result<void> RabbitConnection::checkStatus(int status, const std::string& what) {
  if (status == AMQP_STATUS_OK) return ok();
  broken_ = true;
  return fail(status == AMQP_STATUS_TIMEOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
              what + ": " + amqp_error_string2(status));
}

Error RabbitConnection::closedByServer(const amqp_frame_t& frame, const std::string& what) {
  return serverError(frame.payload.method, what);
}

Error RabbitConnection::serverError(const amqp_method_t& method, const std::string& what) {
  if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
    auto* close = static_cast<amqp_channel_close_t*>(method.decoded);
    Error e{errorCodeOfReply(close->reply_code), what + ": " + text(close->reply_text)};
    amqp_channel_close_ok_t close_ok{};
    if (amqp_send_method(state(), kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok) != 0) {
      broken_ = true;
      return e;
    }
    // The channel is gone; a fresh one keeps this connection usable.
    amqp_channel_open(state(), kChannel);
    if (amqp_get_rpc_reply(state()).reply_type != AMQP_RESPONSE_NORMAL) broken_ = true;
    return e;
  }
  broken_ = true;
  if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
    auto* close = static_cast<amqp_connection_close_t*>(method.decoded);
    amqp_connection_close_ok_t close_ok{};
    (void)amqp_send_method(state(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
    return {errorCodeOfReply(close->reply_code), what + ": " + text(close->reply_text)};
  }
  return {ErrorCode::kInternal, what + ": unexpected AMQP method " + std::to_string(method.id)};
}

ErrorCode errorCodeOfReply(uint16_t reply_code) {
  switch (reply_code) {
    case AMQP_NOT_FOUND:
      return ErrorCode::kNotFound;
    case AMQP_ACCESS_REFUSED:
    case AMQP_NOT_ALLOWED:
      return ErrorCode::kPermissionDenied;
    case AMQP_PRECONDITION_FAILED:
    case AMQP_RESOURCE_LOCKED:
      return ErrorCode::kFailedPrecondition;
    case AMQP_CONNECTION_FORCED:
    case AMQP_RESOURCE_ERROR:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace qsplit::rabbitmq
