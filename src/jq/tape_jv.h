// TapeToJv: jq values from tapes (doc_tape.h), in the jq worker. Object keys repeat from one
// message to the next (`topic`, `headers`, a header's name), so the reader keeps the first
// few hundred it meets as ready jq strings, hashed once, instead of making and hashing each
// key anew for every message.
#pragma once

extern "C" {
#include <jv.h>
}

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "jq/jq_wire.h"

namespace qsplit::jq {

class TapeToJv {
 public:
  TapeToJv() = default;
  TapeToJv(const TapeToJv&) = delete;
  TapeToJv& operator=(const TapeToJv&) = delete;
  ~TapeToJv();

  // The value `in` holds next; jv_invalid when it is not a whole value.
  jv read(wire::Reader& in) { return value(in, 0); }

 private:
  jv value(wire::Reader& in, int depth);
  jv key(std::string_view name);

  std::map<std::string, jv, std::less<>> keys_;
};

// A jq value this owns: freed when it goes (jv values are reference-counted by hand).
class OwnedJv {
 public:
  OwnedJv() = default;
  explicit OwnedJv(jv value) : value_(value) {}
  OwnedJv(OwnedJv&& other) noexcept : value_(other.value_) { other.value_ = jv_invalid(); }
  OwnedJv& operator=(OwnedJv&& other) noexcept {
    std::swap(value_, other.value_);
    return *this;
  }
  ~OwnedJv() { jv_free(value_); }
  jv copy() const { return jv_copy(value_); }

 private:
  jv value_ = jv_invalid();
};

// A jq string of `text`, which the caller has checked is valid UTF-8 by jq's own rules
// (isUtf8, documents.h): libjq 1.6 checks it again byte by byte, which for a message's body
// costs more than all else the worker does with it, so this copies it in directly when the
// libjq it runs with lays strings out as 1.6 does (checked once, on first use).
jv checkedUtf8String(std::string_view text);

}  // namespace qsplit::jq
