#include "brokers/sqs/s3_events.h"

#include <gtest/gtest.h>

namespace qsplit::sqs {
namespace {

// As S3 sends an ObjectCreated event to an SQS queue (trimmed to the fields qsplit reads and
// a few it does not).
const char* kEvent = R"({"Records": [
  {"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
   "s3": {"bucket": {"name": "memes", "arn": "arn:aws:s3:::memes"},
          "object": {"key": "2026/alice+says+hi%21.txt", "size": 3}}},
  {"eventSource": "aws:s3", "s3": {"bucket": {"name": "memes"}, "object": {"key": "b"}}}
]})";

using Objects = std::vector<S3Object>;

TEST(S3Events, AnEventNamesEachObjectWithItsKeyDecoded) {
  EXPECT_EQ(s3EventObjects(kEvent),
            (Objects{{"memes", "2026/alice says hi!.txt"}, {"memes", "b"}}));
}

TEST(S3Events, AnEventSnsPassedOnIsReadFromTheNotificationsText) {
  std::string escaped;
  for (char c : std::string(kEvent)) {
    if (c == '"') escaped += '\\';
    if (c != '\n') escaped += c;
  }
  std::string notification = R"({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t",
                                  "Message": ")" + escaped + R"("})";
  EXPECT_EQ(s3EventObjects(notification).size(), 2u);
}

TEST(S3Events, OtherBodiesNameNoObject) {
  EXPECT_TRUE(s3EventObjects("plain").empty());
  EXPECT_TRUE(s3EventObjects("{broken").empty());
  // The test event S3 sends when a notification is configured.
  EXPECT_TRUE(s3EventObjects(R"({"Service": "Amazon S3", "Event": "s3:TestEvent"})").empty());
  EXPECT_TRUE(s3EventObjects(R"({"Records": [{"eventSource": "aws:sqs"}]})").empty());
  EXPECT_TRUE(s3EventObjects(R"({"Records": [{"eventSource": "aws:s3", "s3": {}}]})").empty());
}

}  // namespace
}  // namespace qsplit::sqs
