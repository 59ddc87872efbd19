#include "brokers/rabbitmq/rabbitmq_message.h"

#include <charconv>
#include <cstring>
#include <string_view>
#include <vector>

namespace qsplit::rabbitmq {
namespace {

std::string text(amqp_bytes_t bytes) {
  return bytes.len ? std::string(static_cast<const char*>(bytes.bytes), bytes.len) : std::string();
}

amqp_bytes_t bytesOf(const std::string& s) {
  return {s.size(), const_cast<char*>(s.data())};  // librabbitmq only reads it
}

template <class T>
std::string number(T value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

template <class T>
bool parse(const std::string& s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// A value readers can't use as text, kept as the encoding of the table {"v": value}.
std::string encodeRaw(const amqp_field_value_t& value) {
  amqp_table_entry_t entry{amqp_cstring_bytes("v"), value};
  amqp_table_t table{1, &entry};
  for (std::size_t size = 4096; size <= (64u << 20); size *= 4) {
    std::string buffer(size, '\0');
    std::size_t offset = 0;
    if (amqp_encode_table(bytesOf(buffer), &table, &offset) == AMQP_STATUS_OK) {
      buffer.resize(offset);
      return buffer;
    }
  }
  return {};
}

core::Attribute header(const amqp_table_entry_t& entry) {
  const amqp_field_value_t& v = entry.value;
  core::Attribute a{text(entry.key), "", std::string(1, static_cast<char>(v.kind))};
  switch (v.kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: a.value = text(v.value.bytes); break;
    case AMQP_FIELD_KIND_BOOLEAN: a.value = v.value.boolean ? "true" : "false"; break;
    case AMQP_FIELD_KIND_I8: a.value = number(v.value.i8); break;
    case AMQP_FIELD_KIND_U8: a.value = number(v.value.u8); break;
    case AMQP_FIELD_KIND_I16: a.value = number(v.value.i16); break;
    case AMQP_FIELD_KIND_U16: a.value = number(v.value.u16); break;
    case AMQP_FIELD_KIND_I32: a.value = number(v.value.i32); break;
    case AMQP_FIELD_KIND_U32: a.value = number(v.value.u32); break;
    case AMQP_FIELD_KIND_I64: a.value = number(v.value.i64); break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP: a.value = number(v.value.u64); break;
    case AMQP_FIELD_KIND_F32: a.value = number(v.value.f32); break;
    case AMQP_FIELD_KIND_F64: a.value = number(v.value.f64); break;
    default:
      a.value = encodeRaw(v);
      a.type += "raw";
  }
  return a;
}

// The field value an attribute made by header() came from.
amqp_field_value_t fieldValue(const core::Attribute& a, amqp_pool_t& pool) {
  amqp_field_value_t v{};
  v.kind = static_cast<uint8_t>(a.type.empty() ? 'S' : a.type[0]);  // 'S': AMQP_FIELD_KIND_UTF8
  bool parsed = true;
  switch (v.kind) {
    case AMQP_FIELD_KIND_UTF8:
    case AMQP_FIELD_KIND_BYTES: v.value.bytes = bytesOf(a.value); break;
    case AMQP_FIELD_KIND_BOOLEAN: v.value.boolean = a.value == "true"; break;
    case AMQP_FIELD_KIND_I8: parsed = parse(a.value, v.value.i8); break;
    case AMQP_FIELD_KIND_U8: parsed = parse(a.value, v.value.u8); break;
    case AMQP_FIELD_KIND_I16: parsed = parse(a.value, v.value.i16); break;
    case AMQP_FIELD_KIND_U16: parsed = parse(a.value, v.value.u16); break;
    case AMQP_FIELD_KIND_I32: parsed = parse(a.value, v.value.i32); break;
    case AMQP_FIELD_KIND_U32: parsed = parse(a.value, v.value.u32); break;
    case AMQP_FIELD_KIND_I64: parsed = parse(a.value, v.value.i64); break;
    case AMQP_FIELD_KIND_U64:
    case AMQP_FIELD_KIND_TIMESTAMP: parsed = parse(a.value, v.value.u64); break;
    case AMQP_FIELD_KIND_F32: parsed = parse(a.value, v.value.f32); break;
    case AMQP_FIELD_KIND_F64: parsed = parse(a.value, v.value.f64); break;
    default: {
      amqp_table_t table{};
      std::size_t offset = 0;
      parsed = a.type.ends_with("raw") &&
               amqp_decode_table(bytesOf(a.value), &pool, &table, &offset) == AMQP_STATUS_OK &&
               table.num_entries == 1;
      if (parsed) v = table.entries[0].value;
    }
  }
  if (!parsed) {  // not from header(): send the text as it is
    v.kind = AMQP_FIELD_KIND_UTF8;
    v.value.bytes = bytesOf(a.value);
  }
  return v;
}

struct PropertyField {
  const char* name;
  amqp_flags_t flag;
  amqp_bytes_t amqp_basic_properties_t::*field;  // null: a number (delivery_mode, ...)
};

constexpr PropertyField kProperties[] = {
    {"content_type", AMQP_BASIC_CONTENT_TYPE_FLAG, &amqp_basic_properties_t::content_type},
    {"content_encoding", AMQP_BASIC_CONTENT_ENCODING_FLAG, &amqp_basic_properties_t::content_encoding},
    {"delivery_mode", AMQP_BASIC_DELIVERY_MODE_FLAG, nullptr},
    {"priority", AMQP_BASIC_PRIORITY_FLAG, nullptr},
    {"correlation_id", AMQP_BASIC_CORRELATION_ID_FLAG, &amqp_basic_properties_t::correlation_id},
    {"reply_to", AMQP_BASIC_REPLY_TO_FLAG, &amqp_basic_properties_t::reply_to},
    {"expiration", AMQP_BASIC_EXPIRATION_FLAG, &amqp_basic_properties_t::expiration},
    {"message_id", AMQP_BASIC_MESSAGE_ID_FLAG, &amqp_basic_properties_t::message_id},
    {"timestamp", AMQP_BASIC_TIMESTAMP_FLAG, nullptr},
    {"type", AMQP_BASIC_TYPE_FLAG, &amqp_basic_properties_t::type},
    {"user_id", AMQP_BASIC_USER_ID_FLAG, &amqp_basic_properties_t::user_id},
    {"app_id", AMQP_BASIC_APP_ID_FLAG, &amqp_basic_properties_t::app_id},
    {"cluster_id", AMQP_BASIC_CLUSTER_ID_FLAG, &amqp_basic_properties_t::cluster_id},
};

std::string numberProperty(const amqp_basic_properties_t& p, amqp_flags_t flag) {
  if (flag == AMQP_BASIC_DELIVERY_MODE_FLAG) return number(p.delivery_mode);
  if (flag == AMQP_BASIC_PRIORITY_FLAG) return number(p.priority);
  return number(p.timestamp);
}

}  // namespace

core::Message fromEnvelope(const amqp_envelope_t& envelope) {
  const amqp_basic_properties_t& p = envelope.message.properties;
  core::Message m;
  m.body = text(envelope.message.body);
  if (p._flags & AMQP_BASIC_HEADERS_FLAG)
    for (int i = 0; i < p.headers.num_entries; ++i) m.attributes.push_back(header(p.headers.entries[i]));
  for (const auto& f : kProperties) {
    if (!(p._flags & f.flag)) continue;
    m.attributes.push_back({f.name, f.field ? text(p.*f.field) : numberProperty(p, f.flag), kPropertyType});
  }
  if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) m.id = text(p.message_id);
  m.exchange = text(envelope.exchange);
  m.routing_key = text(envelope.routing_key);
  return m;
}

PublishProperties::PublishProperties(const core::Message& message, amqp_pool_t& pool) {
  std::size_t headers = 0;
  for (const auto& a : message.attributes)
    if (a.type != kPropertyType) ++headers;
  if (headers > 0) {
    headers_ = std::make_unique<amqp_table_entry_t[]>(headers);
    int n = 0;
    for (const auto& a : message.attributes)
      if (a.type != kPropertyType) headers_[n++] = {bytesOf(a.name), fieldValue(a, pool)};
    properties_._flags |= AMQP_BASIC_HEADERS_FLAG;
    properties_.headers = {n, headers_.get()};
  }
  for (const auto& a : message.attributes)
    if (a.type == kPropertyType) setProperty(a);
}

void PublishProperties::setProperty(const core::Attribute& a) {
  for (const auto& f : kProperties) {
    if (a.name != f.name) continue;
    bool parsed = true;
    if (f.field) {
      properties_.*f.field = bytesOf(a.value);
    } else if (f.flag == AMQP_BASIC_DELIVERY_MODE_FLAG) {
      parsed = parse(a.value, properties_.delivery_mode);
    } else if (f.flag == AMQP_BASIC_PRIORITY_FLAG) {
      parsed = parse(a.value, properties_.priority);
    } else {
      parsed = parse(a.value, properties_.timestamp);
    }
    if (parsed) properties_._flags |= f.flag;
    return;
  }
}

}  // namespace qsplit::rabbitmq
