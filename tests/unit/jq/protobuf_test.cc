// payload_protobuf: compiling a .proto as the CLI does, loading the descriptor as qsplitd does,
// and the payload_decoded a jq filter reads, in the worker. Payloads are encoded here from
// protobuf's text format with the library's own DynamicMessage, not with qsplit's code.
#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "jq/documents.h"
#include "jq/jq_matcher.h"
#include "jq/jq_program.h"
#include "jq/protobuf_schema.h"

namespace qsplit::jq {
namespace {

namespace pb = google::protobuf;
using nlohmann::json;

const std::string kDir = std::string(QSPLIT_SOURCE_DIR) + "/tests/testdata/protobuf";
const std::string kType = "example.payments.Payment";

std::string descriptor() {
  auto compiled = compileSchema(kDir + "/payments.proto", {kDir + "/include"});
  EXPECT_TRUE(compiled) << compiled.error().message();
  return compiled ? *compiled : "";
}

class NoErrors : public pb::compiler::MultiFileErrorCollector {
  void AddError(const std::string& file, int line, int, const std::string& message) override {
    ADD_FAILURE() << file << ":" << line << ": " << message;
  }
};

// `text` (protobuf's text format) encoded as a Payment.
std::string encode(const std::string& text) {
  pb::compiler::DiskSourceTree tree;
  tree.MapPath("", kDir + "/include");
  tree.MapPath("", kDir);
  tree.MapPath("", "/usr/include");  // the well-known types, as libprotobuf-dev installs them
  NoErrors errors;
  pb::compiler::Importer importer(&tree, &errors);
  EXPECT_NE(importer.Import("payments.proto"), nullptr);
  const pb::Descriptor* type = importer.pool()->FindMessageTypeByName(kType);
  pb::DynamicMessageFactory factory(importer.pool());
  std::unique_ptr<pb::Message> message(factory.GetPrototype(type)->New());
  EXPECT_TRUE(pb::TextFormat::ParseFromString(text, message.get())) << text;
  return message->SerializeAsString();
}

json decode(const std::string& payload) {
  auto schema = ProtobufSchema::load(descriptor(), kType);
  EXPECT_TRUE(schema) << schema.error().message();
  auto text = protobufToJson(*schema, payload);
  EXPECT_TRUE(text) << text.error().message();
  return text ? json::parse(*text) : json();
}

TEST(Protobuf, DecodedFieldsAreNamedAsInTheSchemaWithEnumNamesNumbersAndDefaults) {
  json decoded = decode(encode(R"(
      merchant_id: 2137 customer: "ada" status: STATUS_PAID
      amount { currency: "EUR" units: 9007199254740000 }
      tags: "a" tags: "b" counts { key: "x" value: 3 } signature: "\377\000"
      iban: "DE00" paid_at { seconds: 1700000000 nanos: 500000000 } big: 18446744073709551615)"));
  EXPECT_EQ(decoded["merchant_id"], 2137);
  EXPECT_TRUE(decoded["merchant_id"].is_number());  // 64-bit integers are numbers, not strings
  EXPECT_EQ(decoded["customer"], "ada");
  EXPECT_EQ(decoded["status"], "STATUS_PAID");
  EXPECT_EQ(decoded["amount"], json({{"currency", "EUR"}, {"units", 9007199254740000}}));
  EXPECT_EQ(decoded["tags"], json({"a", "b"}));
  EXPECT_EQ(decoded["counts"], json({{"x", 3}}));
  EXPECT_EQ(decoded["signature"], base64Encode(std::string("\xff\x00", 2)));
  EXPECT_EQ(decoded["iban"], "DE00");
  EXPECT_FALSE(decoded.contains("card"));  // only the member of a oneof that is set
  EXPECT_EQ(decoded["paid_at"], "2023-11-14T22:13:20.500Z");
  EXPECT_DOUBLE_EQ(decoded["big"].get<double>(), 18446744073709551615.0);
  EXPECT_EQ(decoded["refundable"], false);  // a default is there, not absent
}

TEST(Protobuf, TheEmptyMessageHasEveryFieldAtItsDefault) {
  json decoded = decode(encode(""));
  EXPECT_EQ(decoded, json({{"merchant_id", 0}, {"customer", ""}, {"status", "STATUS_UNKNOWN"},
                           {"amount", nullptr}, {"tags", json::array()}, {"counts", json::object()},
                           {"signature", ""}, {"paid_at", nullptr}, {"big", 0}, {"refundable", false}}));
}

TEST(Protobuf, CompileAndLoadErrorsNameTheFileTheLineAndTheField) {
  auto broken = compileSchema(kDir + "/broken.proto", {});
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("failed to compile `" + kDir + "/broken.proto`: broken.proto:5:1: Expected \";\"."),
            std::string::npos)
      << broken.error().message();
  auto unreachable = compileSchema(kDir + "/payments.proto", {});
  ASSERT_FALSE(unreachable);
  EXPECT_NE(unreachable.error().message().find("Check that the file and everything it imports are reachable "
                                               "through include_directories"),
            std::string::npos);
  EXPECT_NE(unreachable.error().message().find("common/money.proto"), std::string::npos)
      << unreachable.error().message();
  auto missing = compileSchema(kDir + "/nothing.proto", {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "failed to compile `" + kDir + "/nothing.proto`: no such file");

  auto type = ProtobufSchema::load(descriptor(), "Payment");
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().message(), "payload_protobuf.message_type: message `Payment` not found in the "
                                    "compiled schema; give its full name, with the package");
  auto garbage = ProtobufSchema::load("not base64!", kType);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().message(), "payload_protobuf.descriptor_base64: not a valid base64-encoded "
                                       "FileDescriptorSet (not base64)");
  auto truncated = ProtobufSchema::load(descriptor().substr(0, 40), kType);
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message().find("payload_protobuf.descriptor_base64: "), std::string::npos);
}

TEST(Protobuf, AnUncompressedDescriptorLoadsToo) {
  // What protoc --descriptor_set_out --include_imports writes, in base64, without gzip.
  auto compressed = ProtobufSchema::load(descriptor(), kType);
  ASSERT_TRUE(compressed);
  pb::FileDescriptorSet set;
  std::vector<const pb::FileDescriptor*> files = {compressed->type().file()};
  for (std::size_t i = 0; i < files.size(); ++i)
    for (int d = 0; d < files[i]->dependency_count(); ++d) files.push_back(files[i]->dependency(d));
  for (auto it = files.rbegin(); it != files.rend(); ++it) (*it)->CopyTo(set.add_file());
  auto plain = ProtobufSchema::load(base64Encode(set.SerializeAsString()), kType);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(plain->type().field_count(), 12);
}

core::Message record(const std::string& payload) {
  core::Message m;
  m.body = payload;
  m.partition = 0;
  m.offset = 1;
  return m;
}

TEST(Protobuf, JqReadsPayloadDecodedAndAPayloadThatDoesNotDecodeNeverMatches) {
  JqMatcher matcher(JqMatcherOptions{QSPLIT_JQ_WORKER, {}, kafkaDocument("payments"), {}});
  core::ContentFilter decoded{".payload_decoded.merchant_id == 2137", descriptor(), kType};
  core::ContentFilter negated{".payload_decoded.merchant_id != 2137", descriptor(), kType};
  core::ContentFilter plain{".payload_decoded == null"};
  auto a = matcher.program("a", decoded);
  auto b = matcher.program("b", negated);
  auto c = matcher.program("c", plain);
  ASSERT_TRUE(a && b && c) << (a ? "" : a.error().message()) << (b ? "" : b.error().message());
  std::vector<core::Message> messages = {record(encode("merchant_id: 2137 status: STATUS_PAID")),
                                         record(encode("merchant_id: 7")), record("\xff\xff\xff\xff"),
                                         record("")};
  std::vector<core::ContentQuery> queries;
  for (const auto& m : messages) {
    core::ContentQuery q;
    q.message = &m;
    q.candidates = {{*a, false}, {*b, false}, {*c, false}};
    queries.push_back(q);
  }
  matcher.match(queries);
  EXPECT_EQ(queries[0].matched, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(queries[1].matched, (std::vector<uint8_t>{0, 1, 1}));
  // Neither 2137 nor not 2137: a payload that does not decode never matches a decoding filter.
  EXPECT_EQ(queries[2].matched, (std::vector<uint8_t>{0, 0, 1}));
  EXPECT_EQ(queries[3].matched, (std::vector<uint8_t>{0, 0, 1}));
}

TEST(Protobuf, ASchemaThatDoesNotLoadIsRefusedNamingTheField) {
  JqMatcher matcher(JqMatcherOptions{QSPLIT_JQ_WORKER, {}, kafkaDocument("payments"), {}});
  auto refused = matcher.check({".payload_decoded.x", descriptor(), "example.payments.Nothing"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message(), "payload_protobuf.message_type: message `example.payments.Nothing` not "
                                       "found in the compiled schema; give its full name, with the package");
  EXPECT_TRUE(matcher.check({".payload_decoded.x", descriptor(), kType}));
  auto local = checkContent({".payload_decoded.x", "@@", kType});
  ASSERT_FALSE(local);
  EXPECT_EQ(local.error().message().rfind("payload_protobuf.descriptor_base64: ", 0), 0u);
}

}  // namespace
}  // namespace qsplit::jq
