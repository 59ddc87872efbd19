// Filters on a JSON payload, as the reference reads Redis Pub/Sub messages (and BullMQ job
// data): `message_filter` names top-level fields of the payload, and `jq_filter` runs on the
// parsed payload itself.
#pragma once

#include <vector>

#include "core/message.h"
#include "jq/jq_matcher.h"

namespace qsplit::jq {

// Sets what a message_filter matches (Message::filter_attributes) to the payload's top-level
// fields: a string as it is, any other value as its JSON text (`42`, `true`, `{"a":1}`). A
// payload that is not a JSON object has no fields, so it matches no filter.
void useJsonPayloadFields(std::vector<core::Message>& batch);

// The parsed payload; a payload that is not JSON gives no document, which matches no filter.
DocumentBuilder jsonPayloadDocument();

}  // namespace qsplit::jq
