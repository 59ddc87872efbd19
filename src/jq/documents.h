// The documents jq filters read, one per broker, built once per message.
//
// SQS: the Message object as the AWS API returns it (Body, MessageId, ReceiptHandle,
//   MD5OfBody, MD5OfMessageAttributes, Attributes, MessageAttributes with DataType and
//   StringValue or base64 BinaryValue), plus S3Metadata for a queue with `s3_event`.
// Kafka: {topic, partition, offset, timestamp?, key?, payload?, headers}; timestamp in ms when
//   the record has one; key and payload absent when null; a repeated header keeps its last
//   value. Keys, payloads and header values are strings, or base64 when not valid UTF-8.
// RabbitMQ: {payload, headers, routing_key, exchange, properties}: the properties that are set;
//   numeric and boolean headers and properties as JSON numbers and booleans.
#pragma once

#include <string>
#include <string_view>

#include "core/message.h"
#include "jq/jq_matcher.h"

namespace qsplit::jq {

bool isUtf8(std::string_view text);

DocumentBuilder sqsDocument(bool s3_event);
DocumentBuilder kafkaDocument(std::string topic);
DocumentBuilder rabbitDocument();
// A Redis stream entry (qsplit's own): {stream, id, fields}, `fields` an object of the entry's
// fields (a repeated name keeps its last value), each a string, or base64 when not UTF-8.
DocumentBuilder redisStreamDocument(std::string stream);
// A Google Cloud Pub/Sub message as the API's JSON form writes a PubsubMessage: {data (base64,
// always), attributes, messageId, publishTime (RFC 3339, UTC, in milliseconds), orderingKey}.
DocumentBuilder pubsubDocument();

}  // namespace qsplit::jq
