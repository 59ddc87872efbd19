// The jq worker's wire format, on a stream socket between qsplitd and its worker: frames of
// a 4-byte little-endian length, then a 1-byte kind, then the kind's fields. Integers are
// 4-byte little-endian; a string is its length then its bytes.
//
// qsplitd -> worker:
//   'C' id program descriptor message_type   compile, with the protobuf schema payloads
//                          decode by (empty strings: none); answered by 'O' id or 'E' id
//                          message, whose message starts with the field it is about
//   'F' id                 forget; no answer
//   'Q' n (id steal)* tape body_field body payload   one message (a Document, jq_matcher.h),
//                          with its payload's bytes when a candidate decodes it (else empty);
//                          answered by 'R' k id*: the candidates that matched, in order,
//                          stopping at the first steal match.
// worker -> qsplitd, then the worker exits:
//   'T' id                 program id ran past the time limit
//   'M' id                 program id went past the memory limit (or jq ran out of memory)
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace qsplit::jq::wire {

inline void putU32(std::string& out, uint32_t v) {
  char bytes[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                   static_cast<char>(v >> 24)};
  out.append(bytes, 4);
}

inline void putString(std::string& out, std::string_view s) {
  putU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Starts a frame of `kind` in `out`; finish() writes its length.
inline std::size_t begin(std::string& out, char kind) {
  std::size_t at = out.size();
  putU32(out, 0);
  out.push_back(kind);
  return at;
}

inline void finish(std::string& out, std::size_t at) {
  uint32_t length = static_cast<uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>(length >> (8 * i));
}

// Reads the fields of one frame's body; every read checks the bounds.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  std::optional<uint32_t> u32() {
    if (data_.size() < 4) return std::nullopt;
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(data_[i]);
    data_.remove_prefix(4);
    return v;
  }
  std::optional<uint8_t> u8() {
    if (data_.empty()) return std::nullopt;
    uint8_t v = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return v;
  }
  std::optional<double> f64() {
    if (data_.size() < sizeof(double)) return std::nullopt;
    double v;
    std::memcpy(&v, data_.data(), sizeof v);
    data_.remove_prefix(sizeof v);
    return v;
  }
  // The next byte, not consumed; -1 at the end.
  int peek() const { return data_.empty() ? -1 : static_cast<uint8_t>(data_[0]); }
  bool empty() const { return data_.empty(); }
  std::optional<std::string_view> string() {
    auto n = u32();
    if (!n || data_.size() < *n) return std::nullopt;
    std::string_view s = data_.substr(0, *n);
    data_.remove_prefix(*n);
    return s;
  }

 private:
  std::string_view data_;
};

// Bytes read from the socket, cut into frames.
class Frames {
 public:
  // The next whole frame's body, if one has arrived.
  bool next(std::string& frame) {
    std::string_view unread = std::string_view(buffer_).substr(read_);
    if (unread.size() < 4) return false;
    uint32_t length = *Reader(unread).u32();
    if (unread.size() < 4 + std::size_t{length}) return false;
    frame.assign(unread.substr(4, length));
    read_ += 4 + std::size_t{length};
    return true;
  }
  void append(const char* data, std::size_t size) {
    buffer_.erase(0, read_);  // only what is left of a frame moves
    read_ = 0;
    buffer_.append(data, size);
  }
  void clear() { buffer_.clear(), read_ = 0; }

 private:
  std::string buffer_;
  std::size_t read_ = 0;  // where the next frame starts
};

}  // namespace qsplit::jq::wire
