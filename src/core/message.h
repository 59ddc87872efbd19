// Message: one record of any broker, as the engine sees it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qsplit::core {

// An SQS message attribute, a Kafka header or an AMQP header. Names may repeat (Kafka).
struct Attribute {
  std::string name;
  std::string value;
  std::string type;  // SQS DataType ("String", "Number", "Binary", ...); empty elsewhere
};

struct Message {
  std::string body;
  std::vector<Attribute> attributes;
  std::optional<std::string> key;  // Kafka record key
  int32_t partition = -1;          // Kafka partition index; -1 when the broker has none
  int64_t offset = -1;             // position in the partition, where the broker has one
  std::optional<int64_t> timestamp_ms;
  std::string group_id;           // SQS FIFO MessageGroupId
  std::string deduplication_id;   // SQS FIFO MessageDeduplicationId
  std::string id;                 // the broker's message id
  std::string receipt;            // opaque acknowledgement handle of the source that delivered it
  // What content filters (jq) see besides the fields above; only routing reads these.
  std::vector<std::pair<std::string, std::string>> system_attributes;  // SQS `Attributes`
  std::string body_md5, attributes_md5;  // SQS MD5OfBody, MD5OfMessageAttributes
  std::vector<Attribute> s3_metadata;    // SQS `s3_event`: the named objects' user metadata
  std::string exchange, routing_key;     // AMQP: where the message was published
  // What filters match instead of `attributes`, when set: the SNS message attributes inside an
  // SQS body (registry `sns: true`). Only routing reads it; no sink sends it.
  std::optional<std::vector<Attribute>> filter_attributes;

  const std::vector<Attribute>& routingAttributes() const {
    return filter_attributes ? *filter_attributes : attributes;
  }

  // The first attribute whose name equals `name` (exact case), or nullptr.
  const Attribute* findAttribute(const std::string& name) const {
    for (const auto& a : attributes)
      if (a.name == name) return &a;
    return nullptr;
  }
};

}  // namespace qsplit::core
