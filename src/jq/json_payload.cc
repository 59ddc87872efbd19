#include "jq/json_payload.h"

#include <nlohmann/json.hpp>

#include "jq/doc_tape.h"

namespace qsplit::jq {
namespace {

void write(const nlohmann::json& v, TapeWriter& doc) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      doc.beginObject();
      for (const auto& [key, item] : v.items()) write(item, doc.key(key));
      doc.endObject();
      break;
    case nlohmann::json::value_t::array:
      doc.beginArray();
      for (const auto& item : v) write(item, doc);
      doc.endArray();
      break;
    case nlohmann::json::value_t::string: doc.string(v.get_ref<const std::string&>()); break;
    case nlohmann::json::value_t::boolean: doc.boolean(v.get<bool>()); break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: doc.number(v.get<double>()); break;
    default: doc.null(); break;
  }
}

}  // namespace

void useJsonPayloadFields(std::vector<core::Message>& batch) {
  for (auto& m : batch) {
    auto& fields = m.filter_attributes.emplace();
    auto payload = nlohmann::json::parse(m.body, nullptr, false);
    if (!payload.is_object()) continue;
    for (const auto& [key, value] : payload.items())
      fields.push_back({key, value.is_string() ? value.get<std::string>() : value.dump(), ""});
  }
}

DocumentBuilder jsonPayloadDocument() {
  return [](const core::Message& m, Document& out) {
    out.tape.clear();
    out.body_field.clear();
    out.body.clear();
    auto payload = nlohmann::json::parse(m.body, nullptr, false);
    if (payload.is_discarded()) return;  // no document: matches nothing
    TapeWriter doc(out.tape);
    write(payload, doc);
  };
}

}  // namespace qsplit::jq
