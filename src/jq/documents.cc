#include "jq/documents.h"

#include <cstdio>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "jq/doc_tape.h"
#include "core/filter.h"

namespace qsplit::jq {
namespace {

using nlohmann::json;

// Ends the document: the body goes beside the tape when it is text (the worker adds it as
// `field`), else into it as base64.
void finish(TapeWriter& doc, const std::string& field, const std::string& body, Document& out) {
  out.body_field.clear();
  out.body.clear();
  if (isUtf8(body)) {
    out.body_field = field;
    out.body = body;
  } else {
    doc.key(field).string(base64Encode(body));
  }
  doc.endObject();
}

// An AMQP header or property value: numbers and booleans typed, the rest text.
void amqpValue(TapeWriter& doc, const core::Attribute& a) {
  static const std::string kNumbers = "bBsuIilLfd";
  bool number = a.type.size() == 1 && kNumbers.find(a.type[0]) != std::string::npos;
  if (number || a.name == "delivery_mode" || a.name == "priority" || a.name == "timestamp") {
    json parsed = json::parse(a.value, nullptr, false);
    if (parsed.is_number()) {
      doc.number(parsed.get<double>());
      return;
    }
  }
  if (a.type == "t") {
    doc.boolean(a.value == "true");
    return;
  }
  doc.text(a.value);
}

}  // namespace

bool isUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    // Eight bytes at a time while they are ASCII, as most bodies are throughout.
    uint64_t eight;
    if (i + 8 <= s.size() && (std::memcpy(&eight, s.data() + i, 8), (eight & 0x8080808080808080ull) == 0)) {
      i += 8;
      continue;
    }
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
    out.tape.clear();
    TapeWriter doc(out.tape);
    doc.beginObject().key("MessageId").string(m.id).key("ReceiptHandle").string(m.receipt);
    if (!m.body_md5.empty()) doc.key("MD5OfBody").string(m.body_md5);
    if (!m.attributes_md5.empty()) doc.key("MD5OfMessageAttributes").string(m.attributes_md5);
    doc.key("Attributes").beginObject();
    for (const auto& [name, value] : m.system_attributes) doc.key(name).string(value);
    doc.endObject().key("MessageAttributes").beginObject();
    for (const auto& a : m.attributes) {
      std::string type = a.type.empty() ? "String" : a.type;
      doc.key(a.name).beginObject().key("DataType").string(type);
      if (type.starts_with("Binary"))
        doc.key("BinaryValue").string(base64Encode(a.value));
      else
        doc.key("StringValue").text(a.value);
      doc.endObject();
    }
    doc.endObject();
    if (s3_event) {
      doc.key("S3Metadata").beginObject();
      for (const auto& a : m.s3_metadata) doc.key(core::asciiLower(a.name)).text(a.value);
      doc.endObject();
    }
    finish(doc, "Body", m.body, out);
  };
}

DocumentBuilder kafkaDocument(std::string topic) {
  return [topic = std::move(topic)](const core::Message& m, Document& out) {
    out.tape.clear();
    TapeWriter doc(out.tape);
    doc.beginObject().key("topic").string(topic);
    doc.key("partition").number(m.partition).key("offset").number(static_cast<double>(m.offset));
    if (m.timestamp_ms) doc.key("timestamp").number(static_cast<double>(*m.timestamp_ms));
    if (m.key) doc.key("key").text(*m.key);
    doc.key("headers").beginObject();
    for (const auto& a : m.attributes) doc.key(a.name).text(a.value);
    doc.endObject();
    // The engine reads a null payload as an empty one: both show as no payload.
    if (m.body.empty()) {
      doc.endObject();
      out.body_field.clear();
      out.body.clear();
      return;
    }
    finish(doc, "payload", m.body, out);
  };
}

DocumentBuilder rabbitDocument() {
  return [](const core::Message& m, Document& out) {
    out.tape.clear();
    TapeWriter doc(out.tape);
    doc.beginObject();
    for (bool properties : {false, true}) {
      doc.key(properties ? "properties" : "headers").beginObject();
      for (const auto& a : m.attributes)
        if ((a.type == "property") == properties) amqpValue(doc.key(a.name), a);
      doc.endObject();
    }
    doc.key("routing_key").string(m.routing_key).key("exchange").string(m.exchange);
    finish(doc, "payload", m.body, out);
  };
}

DocumentBuilder redisStreamDocument(std::string stream) {
  return [stream = std::move(stream)](const core::Message& m, Document& out) {
    out.tape.clear();
    out.body_field.clear();
    out.body.clear();
    TapeWriter doc(out.tape);
    doc.beginObject().key("stream").string(stream).key("id").string(m.id).key("fields").beginObject();
    for (const auto& a : m.attributes) doc.key(a.name).text(a.value);
    doc.endObject().endObject();
  };
}

DocumentBuilder pubsubDocument() {
  return [](const core::Message& m, Document& out) {
    out.tape.clear();
    out.body_field.clear();
    out.body.clear();
    TapeWriter doc(out.tape);
    doc.beginObject().key("data").string(base64Encode(m.body)).key("attributes").beginObject();
    for (const auto& a : m.attributes) doc.key(a.name).text(a.value);
    doc.endObject().key("messageId").string(m.id);
    if (m.timestamp_ms) {
      std::time_t seconds = static_cast<std::time_t>(*m.timestamp_ms / 1000);
      std::tm utc{};
      gmtime_r(&seconds, &utc);
      char text[40];
      std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
      std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(*m.timestamp_ms % 1000));
      doc.key("publishTime").string(text);
    }
    doc.key("orderingKey").string(m.key.value_or("")).endObject();
  };
}

}  // namespace qsplit::jq
