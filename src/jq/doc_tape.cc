#include "jq/doc_tape.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <optional>

#include "common/base64.h"
#include "jq/documents.h"
#include "jq/jq_wire.h"

namespace qsplit::jq {

TapeWriter& TapeWriter::key(std::string_view name) {
  wire::putString(out_, name);
  return *this;
}

TapeWriter& TapeWriter::string(std::string_view value) {
  put('s');
  wire::putString(out_, value);
  return *this;
}

TapeWriter& TapeWriter::number(double value) {
  put('n');
  char bytes[sizeof value];
  std::memcpy(bytes, &value, sizeof value);
  out_.append(bytes, sizeof value);
  return *this;
}

TapeWriter& TapeWriter::text(std::string_view bytes) {
  return isUtf8(bytes) ? string(bytes) : string(base64Encode(bytes));
}

namespace {

std::optional<nlohmann::json> value(wire::Reader& in) {
  auto kind = in.u8();
  if (!kind) return std::nullopt;
  switch (*kind) {
    case '{': {
      nlohmann::json object = nlohmann::json::object();
      for (;;) {
        if (in.peek() == '}') return in.u8(), object;
        auto name = in.string();
        auto v = name ? value(in) : std::nullopt;
        if (!v) return std::nullopt;
        object[std::string(*name)] = std::move(*v);
      }
    }
    case '[': {
      nlohmann::json array = nlohmann::json::array();
      for (;;) {
        if (in.peek() == ']') return in.u8(), array;
        auto v = value(in);
        if (!v) return std::nullopt;
        array.push_back(std::move(*v));
      }
    }
    case 's': {
      auto s = in.string();
      if (!s) return std::nullopt;
      return nlohmann::json(std::string(*s));
    }
    case 'n': {
      auto d = in.f64();
      if (!d) return std::nullopt;
      double whole = 0;
      // Whole numbers print as integers, as jq prints them.
      if (std::modf(*d, &whole) == 0.0 && std::abs(*d) < 9.007199254740992e15)
        return nlohmann::json(static_cast<int64_t>(*d));
      return nlohmann::json(*d);
    }
    case 't': return nlohmann::json(true);
    case 'f': return nlohmann::json(false);
    case 'z': return nlohmann::json(nullptr);
  }
  return std::nullopt;
}

}  // namespace

std::string tapeToJson(std::string_view tape) {
  wire::Reader in(tape);
  auto v = value(in);
  return v && in.empty() ? v->dump() : "";
}

}  // namespace qsplit::jq
