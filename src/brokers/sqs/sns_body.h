// SNS notifications delivered to an SQS queue: with the registry's `sns: true`, filters match
// the SNS message attributes inside the body instead of the SQS message's own.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/message.h"

namespace qsplit::sqs {

// Whether a parsed body is an SNS notification: `"Type": "Notification"` and a `TopicArn`.
bool isSnsNotification(const nlohmann::json& body);

// The message attributes of an SNS notification body (`"Type": "Notification"`), with the
// values as SNS gives them (Binary ones decoded from base64); nullopt when `body` is not a
// notification (for example with raw message delivery, where SNS sets SQS attributes).
std::optional<std::vector<core::Attribute>> snsAttributes(std::string_view body);

// A forwarder view (engine::ForwarderOptions::view): filters of a notification match its SNS
// attributes; any other body keeps matching the message's own attributes.
void useSnsAttributes(core::Message& message);

}  // namespace qsplit::sqs
