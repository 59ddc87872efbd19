#include "jq/documents.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "core/filter.h"

namespace qsplit::jq {
namespace {

using nlohmann::json;

// A string, or its base64 when it is not valid UTF-8 (JSON strings are text).
json text(const std::string& bytes) { return isUtf8(bytes) ? json(bytes) : json(base64Encode(bytes)); }

// `doc` with the message's body under `field`: separately when it is text, else as base64.
void finish(json& doc, const std::string& field, const std::string& body, Document& out) {
  out.body_field.clear();
  out.body.clear();
  if (isUtf8(body)) {
    out.body_field = field;
    out.body = body;
  } else {
    doc[field] = base64Encode(body);
  }
  out.json = doc.dump();
}

// An AMQP header or property value as JSON: numbers and booleans typed, the rest text.
json amqpValue(const core::Attribute& a) {
  static const std::string kNumbers = "bBsuIilLfd";
  bool number = a.type.size() == 1 && kNumbers.find(a.type[0]) != std::string::npos;
  if (number || a.name == "delivery_mode" || a.name == "priority" || a.name == "timestamp") {
    json parsed = json::parse(a.value, nullptr, false);
    if (parsed.is_number()) return parsed;
  }
  if (a.type == "t") return a.value == "true";
  return text(a.value);
}

}  // namespace

bool isUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;  // continuation bytes
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
    else return false;
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

DocumentBuilder sqsDocument(bool s3_event) {
  return [s3_event](const core::Message& m, Document& out) {
    json doc = {{"MessageId", m.id}, {"ReceiptHandle", m.receipt}};
    if (!m.body_md5.empty()) doc["MD5OfBody"] = m.body_md5;
    if (!m.attributes_md5.empty()) doc["MD5OfMessageAttributes"] = m.attributes_md5;
    json system = json::object();
    for (const auto& [name, value] : m.system_attributes) system[name] = value;
    doc["Attributes"] = std::move(system);
    json attributes = json::object();
    for (const auto& a : m.attributes) {
      std::string type = a.type.empty() ? "String" : a.type;
      if (type.starts_with("Binary"))
        attributes[a.name] = {{"DataType", type}, {"BinaryValue", base64Encode(a.value)}};
      else
        attributes[a.name] = {{"DataType", type}, {"StringValue", text(a.value)}};
    }
    doc["MessageAttributes"] = std::move(attributes);
    if (s3_event) {
      json metadata = json::object();
      for (const auto& a : m.s3_metadata) metadata[core::asciiLower(a.name)] = text(a.value);
      doc["S3Metadata"] = std::move(metadata);
    }
    finish(doc, "Body", m.body, out);
  };
}

DocumentBuilder kafkaDocument(std::string topic) {
  return [topic = std::move(topic)](const core::Message& m, Document& out) {
    json doc = {{"topic", topic}, {"partition", m.partition}, {"offset", m.offset}};
    if (m.timestamp_ms) doc["timestamp"] = *m.timestamp_ms;
    if (m.key) doc["key"] = text(*m.key);
    json headers = json::object();
    for (const auto& a : m.attributes) headers[a.name] = text(a.value);
    doc["headers"] = std::move(headers);
    // The engine reads a null payload as an empty one: both show as no payload.
    if (m.body.empty()) {
      out = {doc.dump(), "", ""};
      return;
    }
    finish(doc, "payload", m.body, out);
  };
}

DocumentBuilder rabbitDocument() {
  return [](const core::Message& m, Document& out) {
    json headers = json::object(), properties = json::object();
    for (const auto& a : m.attributes)
      (a.type == "property" ? properties : headers)[a.name] = amqpValue(a);
    json doc = {{"headers", std::move(headers)}, {"routing_key", m.routing_key},
                {"exchange", m.exchange}, {"properties", std::move(properties)}};
    finish(doc, "payload", m.body, out);
  };
}

}  // namespace qsplit::jq
