// The documents jq filters read: what each broker's message looks like to a program.
#include "jq/documents.h"
#include "jq/doc_tape.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace qsplit::jq {
namespace {

using nlohmann::json;

// The document as the worker assembles it.
json build(const DocumentBuilder& builder, const core::Message& m, std::string* body = nullptr) {
  Document d;
  builder(m, d);
  if (body) *body = d.body;
  json doc = json::parse(tapeToJson(d.tape));
  if (!d.body_field.empty()) doc[d.body_field] = d.body;
  return doc;
}

TEST(Documents, SqsIsTheMessageObjectOfTheApi) {
  core::Message m;
  m.id = "id-1";
  m.receipt = "r-1";
  m.body = R"({"important": true})";
  m.body_md5 = "md5";
  m.attributes = {{"client", "a", "String"}, {"blob", std::string("\xff\x00", 2), "Binary"},
                  {"n", "7", "Number"}};
  m.system_attributes = {{"SentTimestamp", "1700000000000"}, {"ApproximateReceiveCount", "1"}};
  std::string body;
  json doc = build(sqsDocument(false), m, &body);
  EXPECT_EQ(doc["MessageId"], "id-1");
  EXPECT_EQ(doc["ReceiptHandle"], "r-1");
  EXPECT_EQ(doc["Body"], m.body);
  EXPECT_EQ(doc["MD5OfBody"], "md5");
  EXPECT_EQ(doc["MessageAttributes"]["client"], (json{{"DataType", "String"}, {"StringValue", "a"}}));
  EXPECT_EQ(doc["MessageAttributes"]["blob"], (json{{"DataType", "Binary"}, {"BinaryValue", "/wA="}}));
  EXPECT_EQ(doc["MessageAttributes"]["n"]["StringValue"], "7");
  EXPECT_EQ(doc["Attributes"]["SentTimestamp"], "1700000000000");
  EXPECT_FALSE(doc.contains("S3Metadata"));
  EXPECT_EQ(body, m.body);
}

TEST(Documents, SqsWithS3EventsHasTheObjectsMetadataWithLowercaseNames) {
  core::Message m;
  m.s3_metadata = {{"Client", "a", ""}};
  json doc = build(sqsDocument(true), m);
  EXPECT_EQ(doc["S3Metadata"], (json{{"client", "a"}}));
}

TEST(Documents, KafkaRecord) {
  core::Message m;
  m.partition = 2;
  m.offset = 41;
  m.timestamp_ms = 1700000000123;
  m.key = "k";
  m.body = R"({"data": {"merchantId": 2137}})";
  m.attributes = {{"h", "first", ""}, {"h", "last", ""}, {"other", "x", ""}};
  json doc = build(kafkaDocument("orders"), m);
  EXPECT_EQ(doc, (json{{"topic", "orders"}, {"partition", 2}, {"offset", 41},
                       {"timestamp", 1700000000123}, {"key", "k"}, {"payload", m.body},
                       {"headers", {{"h", "last"}, {"other", "x"}}}}));
}

TEST(Documents, KafkaRecordWithoutTimestampKeyOrPayload) {
  core::Message m;
  m.partition = 0;
  m.offset = 0;
  json doc = build(kafkaDocument("t"), m);
  EXPECT_FALSE(doc.contains("timestamp"));
  EXPECT_FALSE(doc.contains("key"));
  EXPECT_FALSE(doc.contains("payload"));
  EXPECT_EQ(doc["headers"], json::object());
}

TEST(Documents, BytesThatAreNotUtf8AreBase64) {
  core::Message m;
  m.key = std::string("\xc3\x28", 2);  // an invalid two-byte sequence
  m.body = std::string("\xf0\x9f\x98", 3);  // a truncated four-byte sequence
  m.attributes = {{"h", std::string("\xed\xa0\x80", 3), ""}};  // a UTF-16 surrogate
  std::string body = "unset";
  json doc = build(kafkaDocument("t"), m, &body);
  EXPECT_EQ(doc["key"], "wyg=");
  EXPECT_EQ(doc["payload"], "8J+Y");
  EXPECT_EQ(doc["headers"]["h"], "7aCA");
  EXPECT_EQ(body, "");  // nothing for fromjson to parse once
  EXPECT_TRUE(isUtf8("plain ascii, caf\xc3\xa9, \xf0\x9f\x98\x80"));
}

TEST(Documents, RedisStreamEntryHasItsFields) {
  core::Message m;
  m.id = "1700000000000-0";
  m.attributes = {{"tenant", "a", ""}, {"tenant", "b", ""}, {"raw", std::string("\xff", 1), ""}};
  EXPECT_EQ(build(redisStreamDocument("orders"), m),
            (json{{"stream", "orders"}, {"id", "1700000000000-0"}, {"fields", {{"tenant", "b"}, {"raw", "/w=="}}}}));
}

TEST(Documents, PubsubMessageIsTheApisJsonForm) {
  core::Message m;
  m.id = "4711";
  m.body = R"({"user_id":"test-user"})";
  m.attributes = {{"tenant", "a", ""}, {"raw", std::string("\xff", 1), ""}};
  m.key = "customer-7";
  m.timestamp_ms = 1796670245123;  // 2026-12-07T19:04:05.123Z
  std::string body;
  EXPECT_EQ(build(pubsubDocument(), m, &body),
            (json{{"data", "eyJ1c2VyX2lkIjoidGVzdC11c2VyIn0="},
                  {"attributes", {{"tenant", "a"}, {"raw", "/w=="}}},
                  {"messageId", "4711"},
                  {"publishTime", "2026-12-07T19:04:05.123Z"},
                  {"orderingKey", "customer-7"}}));
  EXPECT_EQ(body, "") << "data is always base64, as the API writes it";
  m.key.reset();
  m.timestamp_ms.reset();
  json bare = build(pubsubDocument(), m);
  EXPECT_EQ(bare["orderingKey"], "");
  EXPECT_FALSE(bare.contains("publishTime"));
}

TEST(Documents, RabbitMessageHasHeadersPropertiesAndWhereItCameFrom) {
  core::Message m;
  m.body = "hello";
  m.exchange = "ex";
  m.routing_key = "orders.eu";
  m.attributes = {{"tenant", "a", "S"}, {"count", "3", "l"}, {"urgent", "true", "t"},
                  {"content_type", "application/json", "property"}, {"priority", "5", "property"}};
  json doc = build(rabbitDocument(), m);
  EXPECT_EQ(doc, (json{{"payload", "hello"}, {"exchange", "ex"}, {"routing_key", "orders.eu"},
                       {"headers", {{"tenant", "a"}, {"count", 3}, {"urgent", true}}},
                       {"properties", {{"content_type", "application/json"}, {"priority", 5}}}}));
}

}  // namespace
}  // namespace qsplit::jq
