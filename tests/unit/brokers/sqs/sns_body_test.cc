#include "brokers/sqs/sns_body.h"

#include <gtest/gtest.h>

namespace qsplit::sqs {
namespace {

// As SNS delivers a notification to an SQS queue without raw message delivery.
const char* kNotification = R"({
  "Type" : "Notification",
  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  "TopicArn" : "arn:aws:sns:us-east-1:123456789012:memes",
  "Message" : "{\"meme\": 7}",
  "Timestamp" : "2026-11-26T10:00:00.000Z",
  "MessageAttributes" : {
    "author" : {"Type":"String","Value":"alice"},
    "level" : {"Type":"Number","Value":"3"},
    "blob" : {"Type":"Binary","Value":"aGk="},
    "tags" : {"Type":"String.Array","Value":"[\"a\",\"b\"]"}
  }
})";

TEST(SnsBody, ANotificationsAttributesAreItsMessageAttributes) {
  auto attributes = snsAttributes(kNotification);
  ASSERT_TRUE(attributes);
  std::map<std::string, std::pair<std::string, std::string>> by_name;
  for (const auto& a : *attributes) by_name[a.name] = {a.value, a.type};
  EXPECT_EQ(by_name.size(), 4u);
  EXPECT_EQ(by_name["author"], std::make_pair(std::string("alice"), std::string("String")));
  EXPECT_EQ(by_name["level"], std::make_pair(std::string("3"), std::string("Number")));
  EXPECT_EQ(by_name["blob"], std::make_pair(std::string("hi"), std::string("Binary")));  // decoded
  EXPECT_EQ(by_name["tags"].first, R"(["a","b"])");
}

TEST(SnsBody, ANotificationWithoutAttributesHasNone) {
  auto attributes = snsAttributes(R"({"Type":"Notification","TopicArn":"arn:t","Message":"m"})");
  ASSERT_TRUE(attributes);
  EXPECT_TRUE(attributes->empty());
}

TEST(SnsBody, OtherBodiesAreNotNotifications) {
  EXPECT_FALSE(snsAttributes("plain text"));
  EXPECT_FALSE(snsAttributes(""));
  EXPECT_FALSE(snsAttributes("{not json"));
  EXPECT_FALSE(snsAttributes(R"({"Type":"SubscriptionConfirmation","TopicArn":"arn:t"})"));
  EXPECT_FALSE(snsAttributes(R"({"Type":"Notification"})"));  // no topic: not from SNS
  EXPECT_FALSE(snsAttributes(R"(["Type","Notification"])"));
}

TEST(SnsBody, TheViewLeavesTheMessageAsItIs) {
  core::Message m;
  m.body = kNotification;
  m.attributes = {{"author", "bob", "String"}};
  useSnsAttributes(m);
  ASSERT_TRUE(m.filter_attributes);
  EXPECT_EQ(m.routingAttributes().size(), 4u);
  EXPECT_EQ(m.body, kNotification);
  ASSERT_EQ(m.attributes.size(), 1u);
  EXPECT_EQ(m.attributes[0].value, "bob");

  core::Message raw;
  raw.body = "raw";
  raw.attributes = {{"author", "bob", "String"}};
  useSnsAttributes(raw);
  EXPECT_FALSE(raw.filter_attributes);
  EXPECT_EQ(raw.routingAttributes()[0].value, "bob");
}

}  // namespace
}  // namespace qsplit::sqs
