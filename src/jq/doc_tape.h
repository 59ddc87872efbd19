// Tape: a document as the worker receives it, the values of a JSON tree in order, so the
// worker builds jq's values directly instead of parsing JSON text (libjq 1.6 parses a small
// document five times slower than it builds it).
//
// Values: '{' (key value)* '}' an object (a repeated key keeps its last value), '[' value* ']'
// an array, 's' string, 'n' number (8 bytes, a double), 't' true, 'f' false, 'z' null. A
// key or a string is its u32 length and its bytes (jq_wire.h).
#pragma once

#include <string>
#include <string_view>

namespace qsplit::jq {

class TapeWriter {
 public:
  explicit TapeWriter(std::string& out) : out_(out) {}
  TapeWriter& beginObject() { return put('{'); }
  TapeWriter& endObject() { return put('}'); }
  TapeWriter& beginArray() { return put('['); }
  TapeWriter& endArray() { return put(']'); }
  TapeWriter& key(std::string_view name);  // inside an object, before each value
  TapeWriter& string(std::string_view value);
  TapeWriter& number(double value);
  TapeWriter& boolean(bool value) { return put(value ? 't' : 'f'); }
  TapeWriter& null() { return put('z'); }
  // A string when `bytes` is valid UTF-8, else its base64 (JSON strings are text).
  TapeWriter& text(std::string_view bytes);

 private:
  TapeWriter& put(char c) {
    out_.push_back(c);
    return *this;
  }
  std::string& out_;
};

// The tape as JSON text, for tests and the benchmark's plain loop; empty when it is not a
// whole tape.
std::string tapeToJson(std::string_view tape);

}  // namespace qsplit::jq
