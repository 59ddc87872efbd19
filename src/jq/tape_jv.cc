#include "jq/tape_jv.h"

#include <cstdint>
#include <cstring>

namespace qsplit::jq {
namespace {

constexpr std::size_t kMaxKeys = 256;        // kept keys, so odd header names can't grow it
constexpr std::size_t kMaxKeyBytes = 64;

// libjq 1.6 keeps a string as {refcount, hash, length << 1 | hashed, capacity, bytes...}, and
// jv_string_empty(n) makes one with capacity n and length 0. What jv_string_value returns is
// the bytes; the two words before them are the length and the capacity.
uint32_t* lengthWord(jv s) { return reinterpret_cast<uint32_t*>(const_cast<char*>(jv_string_value(s))) - 2; }

// Whether this libjq's strings are laid out as above: an empty string of capacity 5 has
// those words where they are expected, and "h\xC3\xA9llo" written in directly is equal to,
// as long as, and hashed like jq's own.
bool layoutKnown() {
  const char text[] = "h\xC3\xA9llo";
  const uint32_t n = sizeof text - 1;
  jv direct = jv_string_empty(static_cast<int>(n));
  uint32_t* length = lengthWord(direct);
  if (reinterpret_cast<char*>(direct.u.ptr) + 16 != jv_string_value(direct) || length[0] != 0 ||
      length[1] != n) {
    jv_free(direct);
    return false;
  }
  std::memcpy(const_cast<char*>(jv_string_value(direct)), text, n + 1);
  length[0] = n << 1;
  jv own = jv_string_sized(text, static_cast<int>(n));
  bool same = jv_string_length_bytes(jv_copy(direct)) == static_cast<int>(n) &&
              jv_string_hash(jv_copy(direct)) == jv_string_hash(jv_copy(own)) &&
              jv_equal(jv_copy(direct), jv_copy(own));
  jv_free(direct);
  jv_free(own);
  return same;
}

}  // namespace

jv checkedUtf8String(std::string_view text) {
  static const bool direct = layoutKnown();
  if (!direct || text.size() >= (uint32_t{1} << 30))
    return jv_string_sized(text.data(), static_cast<int>(text.size()));
  jv s = jv_string_empty(static_cast<int>(text.size()));
  char* bytes = const_cast<char*>(jv_string_value(s));
  std::memcpy(bytes, text.data(), text.size());
  bytes[text.size()] = '\0';
  *lengthWord(s) = static_cast<uint32_t>(text.size()) << 1;  // not hashed yet
  return s;
}

TapeToJv::~TapeToJv() {
  for (auto& [name, key] : keys_) jv_free(key);
}

jv TapeToJv::key(std::string_view name) {
  if (auto it = keys_.find(name); it != keys_.end()) return jv_copy(it->second);
  jv key = jv_string_sized(name.data(), static_cast<int>(name.size()));
  if (keys_.size() >= kMaxKeys || name.size() > kMaxKeyBytes) return key;
  jv_string_hash(jv_copy(key));  // hashed once, here
  keys_.emplace(std::string(name), jv_copy(key));
  return key;
}

jv TapeToJv::value(wire::Reader& in, int depth) {
  auto kind = in.u8();
  if (!kind || depth > 64) return jv_invalid();
  switch (*kind) {
    case '{': {
      jv object = jv_object();
      while (in.peek() != '}') {
        auto name = in.string();
        jv value = name ? this->value(in, depth + 1) : jv_invalid();
        if (!jv_is_valid(value)) return jv_free(object), value;
        object = jv_object_set(object, key(*name), value);
      }
      in.u8();
      return object;
    }
    case '[': {
      jv array = jv_array();
      while (in.peek() != ']') {
        jv value = this->value(in, depth + 1);
        if (!jv_is_valid(value)) return jv_free(array), value;
        array = jv_array_append(array, value);
      }
      in.u8();
      return array;
    }
    case 's': {
      auto s = in.string();
      return s ? jv_string_sized(s->data(), static_cast<int>(s->size())) : jv_invalid();
    }
    case 'n': {
      auto d = in.f64();
      return d ? jv_number(*d) : jv_invalid();
    }
    case 't': return jv_true();
    case 'f': return jv_false();
    case 'z': return jv_null();
  }
  return jv_invalid();
}

}  // namespace qsplit::jq
