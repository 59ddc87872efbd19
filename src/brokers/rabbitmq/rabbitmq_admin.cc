#include "brokers/rabbitmq/rabbitmq_admin.h"

#include "core/naming.h"

#include <amqp_framing.h>

#include <charconv>
#include <thread>
#include <nlohmann/json.hpp>
#include <vector>

namespace qsplit::rabbitmq {
namespace {

amqp_bytes_t bytesOf(const std::string& s) { return {s.size(), const_cast<char*>(s.data())}; }

Result<bool> flag(const std::string& name, const std::string& value) {
  if (value == "true") return true;
  if (value == "false") return false;
  return fail(ErrorCode::kInvalidArgument,
              "queue property " + name + ": '" + value + "' is not true or false");
}

// The arguments as an AMQP table; points into `arguments`.
struct ArgumentTable {
  explicit ArgumentTable(const std::map<std::string, std::string>& arguments) {
    for (const auto& [name, value] : arguments) {
      amqp_field_value_t v{};
      int64_t number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (!value.empty() && ec == std::errc() && end == value.data() + value.size()) {
        v.kind = AMQP_FIELD_KIND_I64;
        v.value.i64 = number;
      } else if (value == "true" || value == "false") {
        v.kind = AMQP_FIELD_KIND_BOOLEAN;
        v.value.boolean = value == "true";
      } else {
        v.kind = AMQP_FIELD_KIND_UTF8;
        v.value.bytes = bytesOf(value);
      }
      entries.push_back({bytesOf(name), v});
    }
  }
  amqp_table_t table() { return {static_cast<int>(entries.size()), entries.data()}; }
  std::vector<amqp_table_entry_t> entries;
};

std::string urlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

}  // namespace

Result<QueueDeclare> QueueDeclare::fromProperties(const std::map<std::string, std::string>& properties) {
  QueueDeclare d;
  for (const auto& [name, value] : properties) {
    if (name == "durable") {
      QSPLIT_ASSIGN_OR_RETURN(d.durable, flag(name, value));
    } else if (name == "exclusive") {
      QSPLIT_ASSIGN_OR_RETURN(d.exclusive, flag(name, value));
    } else if (name == "auto_delete") {
      QSPLIT_ASSIGN_OR_RETURN(d.auto_delete, flag(name, value));
    } else if (name.starts_with("arguments.") && name.size() > 10) {
      d.arguments[name.substr(10)] = value;
    } else {
      return fail(ErrorCode::kInvalidArgument,
                  "unknown queue property '" + name +
                      "'; expected durable, exclusive, auto_delete or arguments.<name>");
    }
  }
  return d;
}

Result<RabbitConnection*> RabbitAdmin::connection() {
  if (!connection_ || connection_->broken()) {
    connection_.reset();
    QSPLIT_ASSIGN_OR_RETURN(connection_, RabbitConnection::open(settings_));
  }
  amqp_maybe_release_buffers(connection_->state());  // the previous call's reply
  return connection_.get();
}

Result<RabbitAdmin::Counts> RabbitAdmin::counts(const std::string& name) {
  std::lock_guard lock(mutex_);
  QSPLIT_ASSIGN_OR_RETURN(RabbitConnection * c, connection());
  amqp_queue_declare_ok_t* declared =
      amqp_queue_declare(c->state(), RabbitConnection::kChannel, bytesOf(name), /*passive=*/1, 0,
                         0, 0, amqp_empty_table);
  QSPLIT_TRY(c->check("looking up queue " + name + " on " + settings_.describe()));
  Counts counts{declared->message_count, declared->consumer_count};
  amqp_maybe_release_buffers(c->state());  // `declared` lived in them
  return counts;
}

Result<core::QueueInfo> RabbitAdmin::describe(const std::string& name) {
  auto found = counts(name);
  if (!found) {
    if (found.error().code() == ErrorCode::kNotFound)
      return fail(ErrorCode::kNotFound, "RabbitMQ queue " + name + " does not exist in vhost " +
                                            settings_.vhost + " at " + settings_.host);
    return fail(found.error());
  }
  return core::QueueInfo{name, core::QueueKind::kQueue, 1};
}

Result<RabbitAdmin::Reported> RabbitAdmin::reported(const std::string& name) {
  Reported r;
  if (!management_) return r;
  http::Request request;
  request.method = "GET";
  request.url = settings_.management_url + "/api/queues/" + urlEncode(settings_.vhost) + "/" +
                urlEncode(name);
  request.user_password = settings_.user + ":" + settings_.password;
  QSPLIT_ASSIGN_OR_RETURN(auto response, management_->call(request));
  if (response.status != 200)
    return fail(ErrorCode::kUnavailable, "RabbitMQ management API answered " +
                                             std::to_string(response.status) + " for queue " + name);
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (!json.is_object())
    return fail(ErrorCode::kUnavailable, "RabbitMQ management API: queue " + name + " is not JSON");
  r.declare.durable = json.value("durable", true);
  nlohmann::json arguments = json.value("arguments", nlohmann::json::object());
  for (const auto& [key, value] : arguments.items()) {
    if (value.is_string())
      r.declare.arguments[key] = value.get<std::string>();
    else if (value.is_boolean() || value.is_number_integer())
      r.declare.arguments[key] = value.dump();
  }
  // The management API's statistics lag by a few seconds; ready messages come from AMQP.
  r.unacknowledged = json.value("messages_unacknowledged", uint64_t{0});
  return r;
}

Result<void> RabbitAdmin::createLike(const std::string& original, const std::string& name) {
  QSPLIT_TRY(describe(original));
  QSPLIT_ASSIGN_OR_RETURN(Reported r, reported(original));
  QueueDeclare& d = r.declare;
  std::lock_guard lock(mutex_);
  if (auto configured = declares_.find(original); configured != declares_.end()) {
    const QueueDeclare& c = configured->second;
    if (c.durable) d.durable = c.durable;
    if (c.exclusive) d.exclusive = c.exclusive;
    if (c.auto_delete) d.auto_delete = c.auto_delete;
    for (const auto& [key, value] : c.arguments) d.arguments[key] = value;
  }
  QSPLIT_ASSIGN_OR_RETURN(RabbitConnection * c, connection());
  ArgumentTable arguments(d.arguments);
  amqp_queue_declare(c->state(), RabbitConnection::kChannel, bytesOf(name), 0,
                     d.durable.value_or(true), d.exclusive.value_or(false),
                     d.auto_delete.value_or(false), arguments.table());
  return c->check("declaring queue " + name + " like " + original);
}

Result<void> RabbitAdmin::remove(const std::string& name) {
  auto found = counts(name);
  // A quorum queue counts a consumer that just left for a moment longer (its removal goes
  // through the queue's log): give a closing consumer a few seconds.
  for (int i = 0; i < 50 && found && found->consumers > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    found = counts(name);
  }
  if (!found && found.error().code() == ErrorCode::kNotFound) return ok();
  if (!found) return fail(found.error());
  if (found->consumers > 0)
    return fail(ErrorCode::kFailedPrecondition,
                "queue " + name + " still has " + std::to_string(found->consumers) +
                    " consumers; deleting it would lose what they hold unacknowledged");
  std::lock_guard lock(mutex_);
  QSPLIT_ASSIGN_OR_RETURN(RabbitConnection * c, connection());
  amqp_queue_delete(c->state(), RabbitConnection::kChannel, bytesOf(name), 0, 0);
  QSPLIT_TRY(c->check("deleting queue " + name));
  // The dummy exchange an app reading this queue was given (exchangeSource), if it declared one.
  std::string exchange = core::dummyExchangeName(name);
  amqp_exchange_delete(c->state(), RabbitConnection::kChannel, bytesOf(exchange), 0);
  auto deleted = c->check("deleting exchange " + exchange);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) return deleted;
  return ok();
}

Result<uint64_t> RabbitAdmin::backlog(const std::string& name, const std::string& group) {
  (void)group;
  QSPLIT_ASSIGN_OR_RETURN(Counts found, counts(name));
  QSPLIT_ASSIGN_OR_RETURN(Reported r, reported(name));
  return found.messages + r.unacknowledged;
}

void RabbitAdmin::setDeclare(const std::string& original, QueueDeclare declare) {
  std::lock_guard lock(mutex_);
  declares_[original] = std::move(declare);
}

}  // namespace qsplit::rabbitmq
