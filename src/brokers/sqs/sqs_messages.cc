#include "brokers/sqs/sqs_messages.h"

#include "common/base64.h"
#include "common/random.h"

namespace qsplit::sqs {

using nlohmann::json;

namespace {

bool isBinary(const std::string& type) { return type.starts_with("Binary"); }

}  // namespace

core::Message fromSqs(const json& m) {
  core::Message out;
  out.body = m.value("Body", "");
  out.id = m.value("MessageId", "");
  out.receipt = m.value("ReceiptHandle", "");
  out.body_md5 = m.value("MD5OfBody", "");
  out.attributes_md5 = m.value("MD5OfMessageAttributes", "");
  if (auto it = m.find("MessageAttributes"); it != m.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      core::Attribute a{name, "", value.value("DataType", "String")};
      if (isBinary(a.type))
        a.value = base64Decode(value.value("BinaryValue", "")).value_or("");
      else
        a.value = value.value("StringValue", "");
      out.attributes.push_back(std::move(a));
    }
  }
  if (auto it = m.find("Attributes"); it != m.end() && it->is_object()) {
    for (const auto& [name, value] : it->items())
      if (value.is_string()) out.system_attributes.emplace_back(name, value.get<std::string>());
    out.group_id = it->value("MessageGroupId", "");
    out.deduplication_id = it->value("MessageDeduplicationId", "");
    std::string sent = it->value("SentTimestamp", "");
    if (!sent.empty() && sent.find_first_not_of("0123456789") == std::string::npos)
      out.timestamp_ms = std::stoll(sent);
  }
  return out;
}

json sendEntry(const core::Message& m, const std::string& entry_id, bool fifo) {
  json entry = {{"Id", entry_id}, {"MessageBody", m.body}};
  if (!m.attributes.empty()) {
    json attributes = json::object();
    for (const auto& a : m.attributes) {
      // Kafka headers and AMQP headers carry no type: they travel as String.
      std::string type = a.type.empty() ? "String" : a.type;
      if (isBinary(type))
        attributes[a.name] = {{"DataType", type}, {"BinaryValue", base64Encode(a.value)}};
      else
        attributes[a.name] = {{"DataType", type}, {"StringValue", a.value}};
    }
    entry["MessageAttributes"] = std::move(attributes);
  }
  if (fifo) {
    entry["MessageGroupId"] = m.group_id.empty() ? "qsplit" : m.group_id;
    // A redelivered message keeps its MessageId, so a resend after a crash carries the same
    // id; the same message read again from another queue has a new one.
    entry["MessageDeduplicationId"] = m.id.empty() ? SecureRandom::instance().digits(32) : m.id;
  }
  return entry;
}

std::size_t payloadSize(const core::Message& m) {
  std::size_t size = m.body.size();
  for (const auto& a : m.attributes) size += a.name.size() + a.value.size() + a.type.size();
  return size;
}

}  // namespace qsplit::sqs
