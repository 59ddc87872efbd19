// Converting between SQS's JSON messages and core::Message, and batching SQS's way.
#pragma once

#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/message.h"

namespace qsplit::sqs {

// How attributes of each data type match: String and Number (and their ".custom" kinds)
// by their text value; Binary (and "Binary.custom") by the decoded bytes.
core::Message fromSqs(const nlohmann::json& message);

// One SendMessageBatch entry. FIFO destinations keep the MessageGroupId and get a
// deduplication id derived from the source message's id, so a resend of the same received
// message (after a crash) is deduplicated while a message moved back later is not.
nlohmann::json sendEntry(const core::Message& message, const std::string& entry_id, bool fifo);

// Splits `count` items into runs that respect SQS's batch limits: 10 entries, 256 KiB.
// `size(i)` is item i's payload size.
template <class SizeOf>
std::vector<std::pair<std::size_t, std::size_t>> batches(std::size_t count, SizeOf size) {
  constexpr std::size_t kMaxEntries = 10, kMaxBytes = 256 * 1024;
  std::vector<std::pair<std::size_t, std::size_t>> out;  // [begin, end)
  std::size_t begin = 0, bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t s = size(i);
    if (i > begin && (i - begin == kMaxEntries || bytes + s > kMaxBytes)) {
      out.emplace_back(begin, i);
      begin = i;
      bytes = 0;
    }
    bytes += s;
  }
  if (begin < count) out.emplace_back(begin, count);
  return out;
}

std::size_t payloadSize(const core::Message& message);

inline bool isFifoName(const std::string& name) { return name.ends_with(".fifo"); }

}  // namespace qsplit::sqs
