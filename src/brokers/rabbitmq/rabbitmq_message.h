// AMQP messages as the engine sees them, and back: headers and the basic properties become
// attributes that filters match, and are published again exactly as they came.
//
// Headers come first, in their order, each typed by its AMQP field kind ("S" string, "l"
// 64-bit integer, "t" boolean, ...; value in text). Nested tables, arrays and decimals keep
// their exact encoding (type ending in "raw"), so they travel unchanged but are not readable
// to filters. Then the basic properties that are set, typed "property", named content_type,
// content_encoding, delivery_mode, priority, correlation_id, reply_to, expiration, message_id,
// timestamp, type, user_id, app_id, cluster_id. A filter rule names a header or a property;
// a header of the same name wins because it comes first.
#pragma once

#include <amqp.h>

#include <memory>
#include <string>

#include "core/message.h"

namespace qsplit::rabbitmq {

inline constexpr const char* kPropertyType = "property";

core::Message fromEnvelope(const amqp_envelope_t& envelope);

// The basic properties of `message` for amqp_basic_publish. Points into `message` and into
// `pool` (nested header values): both must outlive the publish.
class PublishProperties {
 public:
  PublishProperties(const core::Message& message, amqp_pool_t& pool);
  const amqp_basic_properties_t* get() const { return &properties_; }

 private:
  void setProperty(const core::Attribute& a);
  amqp_basic_properties_t properties_{};
  std::unique_ptr<amqp_table_entry_t[]> headers_;
};

}  // namespace qsplit::rabbitmq
