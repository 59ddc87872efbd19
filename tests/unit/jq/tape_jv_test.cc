#include "jq/tape_jv.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "jq/doc_tape.h"
#include "jq/documents.h"

namespace qsplit::jq {
namespace {

// Whether libjq itself takes `bytes` as they are: jv_string_sized replaces what is not UTF-8.
bool jqKeeps(const std::string& bytes) {
  jv s = jv_string_sized(bytes.data(), static_cast<int>(bytes.size()));
  bool same = std::string(jv_string_value(s), jv_string_length_bytes(jv_copy(s))) == bytes;
  jv_free(s);
  return same;
}

std::string dump(jv value) {
  jv text = jv_dump_string(value, JV_PRINT_SORTED);
  std::string out = jv_string_value(text);
  jv_free(text);
  return out;
}

TEST(TapeToJv, IsUtf8AgreesWithJqOnRandomBytes) {
  std::mt19937 random(7);
  // Runs of ASCII (the eight-byte path) around bytes of every kind, lead and continuation.
  const std::string pieces[] = {"plain ascii text", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\xe2\x82"};
  int valid = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    for (int k = random() % 6; k >= 0; --k) s += pieces[random() % std::size(pieces)].substr(0, 1 + random() % 16);
    ASSERT_EQ(isUtf8(s), jqKeeps(s)) << "bytes: " << s;
    valid += isUtf8(s);
  }
  EXPECT_GT(valid, 2000);  // both answers are well represented
  EXPECT_LT(valid, 18000);
}

TEST(TapeToJv, ABodyCopiedInDirectlyIsJqsOwnString) {
  for (std::string text : {std::string(), std::string("x"), std::string(1000, 'a') + "caf\xc3\xa9",
                           std::string("nul \0 inside", 12)}) {
    jv direct = checkedUtf8String(text);
    jv own = jv_string_sized(text.data(), static_cast<int>(text.size()));
    EXPECT_EQ(jv_string_length_bytes(jv_copy(direct)), static_cast<int>(text.size()));
    EXPECT_EQ(jv_string_hash(jv_copy(direct)), jv_string_hash(jv_copy(own)));
    EXPECT_TRUE(jv_equal(jv_copy(direct), jv_copy(own)));
    // jq can still grow it (a concatenation writes past the old end).
    jv longer = jv_string_concat(direct, jv_string("!"));
    EXPECT_EQ(std::string(jv_string_value(longer), jv_string_length_bytes(jv_copy(longer))), text + "!");
    jv_free(longer);
    jv_free(own);
  }
}

TEST(TapeToJv, ReadsWhatTheWriterWroteWithKeysKeptAcrossMessages) {
  TapeToJv reader;
  for (int message = 0; message < 3; ++message) {
    std::string tape;
    TapeWriter(tape).beginObject().key("topic").string("orders").key("offset").number(message)
        .key("headers").beginObject().key("user").string("u" + std::to_string(message)).endObject()
        .key("list").beginArray().boolean(true).null().endArray().endObject();
    wire::Reader in(tape);
    EXPECT_EQ(dump(reader.read(in)),
              "{\"headers\":{\"user\":\"u" + std::to_string(message) + "\"},\"list\":[true,null],"
              "\"offset\":" + std::to_string(message) + ",\"topic\":\"orders\"}");
  }
  std::string cut = "{";
  wire::putString(cut, "topic");
  wire::Reader in(cut);
  EXPECT_FALSE(jv_is_valid(reader.read(in)));  // a tape that ends early is no value
}

}  // namespace
}  // namespace qsplit::jq
