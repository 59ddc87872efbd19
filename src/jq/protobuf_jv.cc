#include "jq/protobuf_jv.h"

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <string>

#include "common/base64.h"
#include "jq/protobuf_schema.h"

namespace qsplit::jq {
namespace {

namespace pb = google::protobuf;
using Field = pb::FieldDescriptor;

jv text(const std::string& s) { return jv_string_sized(s.data(), static_cast<int>(s.size())); }

jv message(const pb::Message& m);

// One value of `field`: element `index` of a repeated field, or the field itself (index -1).
jv value(const pb::Message& m, const Field* field, int index) {
  const pb::Reflection* r = m.GetReflection();
  bool one = index < 0;
  switch (field->cpp_type()) {
    case Field::CPPTYPE_INT32: return jv_number(one ? r->GetInt32(m, field) : r->GetRepeatedInt32(m, field, index));
    case Field::CPPTYPE_INT64:
      return jv_number(static_cast<double>(one ? r->GetInt64(m, field) : r->GetRepeatedInt64(m, field, index)));
    case Field::CPPTYPE_UINT32: return jv_number(one ? r->GetUInt32(m, field) : r->GetRepeatedUInt32(m, field, index));
    case Field::CPPTYPE_UINT64:
      return jv_number(static_cast<double>(one ? r->GetUInt64(m, field) : r->GetRepeatedUInt64(m, field, index)));
    case Field::CPPTYPE_DOUBLE: return jv_number(one ? r->GetDouble(m, field) : r->GetRepeatedDouble(m, field, index));
    case Field::CPPTYPE_FLOAT: return jv_number(one ? r->GetFloat(m, field) : r->GetRepeatedFloat(m, field, index));
    case Field::CPPTYPE_BOOL: return jv_bool(one ? r->GetBool(m, field) : r->GetRepeatedBool(m, field, index));
    case Field::CPPTYPE_ENUM: {
      int number = one ? r->GetEnumValue(m, field) : r->GetRepeatedEnumValue(m, field, index);
      const pb::EnumValueDescriptor* named = field->enum_type()->FindValueByNumber(number);
      return named ? text(named->name()) : jv_number(number);
    }
    case Field::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = one ? r->GetStringReference(m, field, &scratch)
                                 : r->GetRepeatedStringReference(m, field, index, &scratch);
      return field->type() == Field::TYPE_BYTES ? text(base64Encode(s)) : text(s);
    }
    case Field::CPPTYPE_MESSAGE:
      return message(one ? r->GetMessage(m, field) : r->GetRepeatedMessage(m, field, index));
  }
  return jv_null();
}

// A map entry's key as an object key (JSON keys are strings).
jv mapKey(const pb::Message& entry) {
  const Field* key = entry.GetDescriptor()->map_key();
  jv k = value(entry, key, -1);
  if (jv_get_kind(k) == JV_KIND_STRING) return k;
  jv dumped = jv_dump_string(k, 0);
  return dumped;
}

jv wellKnown(const pb::Message& m, const std::string& name) {
  const pb::Descriptor* d = m.GetDescriptor();
  const pb::Reflection* r = m.GetReflection();
  if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration") {
    int64_t seconds = r->GetInt64(m, d->FindFieldByName("seconds"));
    int32_t nanos = r->GetInt32(m, d->FindFieldByName("nanos"));
    if (name == "google.protobuf.Duration") {
      pb::Duration duration;
      duration.set_seconds(seconds);
      duration.set_nanos(nanos);
      return text(pb::util::TimeUtil::ToString(duration));
    }
    pb::Timestamp stamp;
    stamp.set_seconds(seconds);
    stamp.set_nanos(nanos);
    return text(pb::util::TimeUtil::ToString(stamp));
  }
  return jv_invalid();
}

jv message(const pb::Message& m) {
  const pb::Descriptor* d = m.GetDescriptor();
  const std::string& name = d->full_name();
  if (name.rfind("google.protobuf.", 0) == 0) {
    if (jv known = wellKnown(m, name); jv_is_valid(known)) return known;
    // The wrappers (Int64Value, StringValue, ...): their one field `value`.
    if (name.size() > 5 && name.compare(name.size() - 5, 5, "Value") == 0 && d->field_count() == 1 &&
        d->field(0)->name() == "value")
      return value(m, d->field(0), -1);
  }
  const pb::Reflection* r = m.GetReflection();
  jv out = jv_object();
  for (int i = 0; i < d->field_count(); ++i) {
    const Field* field = d->field(i);
    jv v;
    if (field->is_map()) {
      v = jv_object();
      for (int k = 0, n = r->FieldSize(m, field); k < n; ++k) {
        const pb::Message& entry = r->GetRepeatedMessage(m, field, k);
        v = jv_object_set(v, mapKey(entry), value(entry, entry.GetDescriptor()->map_value(), -1));
      }
    } else if (field->is_repeated()) {
      v = jv_array();
      for (int k = 0, n = r->FieldSize(m, field); k < n; ++k) v = jv_array_append(v, value(m, field, k));
    } else if (field->real_containing_oneof() && !r->HasField(m, field)) {
      continue;  // the oneof's member that is set is the one to show
    } else if (field->cpp_type() == Field::CPPTYPE_MESSAGE && !r->HasField(m, field)) {
      v = jv_null();
    } else {
      v = value(m, field, -1);
    }
    out = jv_object_set(out, text(field->name()), v);
  }
  return out;
}

}  // namespace

jv protobufToJv(const pb::Message& m) { return message(m); }

Result<std::string> protobufToJson(ProtobufSchema& schema, std::string_view payload) {
  const pb::Message* decoded = schema.parse(payload);
  if (!decoded) return fail(ErrorCode::kInvalidArgument, "the payload does not decode as " + schema.type().full_name());
  jv dumped = jv_dump_string(protobufToJv(*decoded), JV_PRINT_SORTED);
  std::string out = jv_string_value(dumped);
  jv_free(dumped);
  return out;
}

}  // namespace qsplit::jq
