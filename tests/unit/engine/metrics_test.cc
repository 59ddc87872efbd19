// The counters in Prometheus text, under the reference operator's names.
#include "engine/metrics.h"

#include <gtest/gtest.h>

namespace qsplit::engine {
namespace {

TEST(Metrics, ReferenceNamesPerOriginalQueueAndSession) {
  SplitStatus s;
  s.original = "orders";
  s.fallback = "mirrord-tmp-1-fallback-orders";
  s.sessions = {{"alice", "mirrord-tmp-2-orders", core::QueueMode::kSteal}};
  s.counts.read = 10;
  s.counts.unmatched = 6;
  s.counts.forwarded = {{"mirrord-tmp-1-fallback-orders", 6}, {"mirrord-tmp-2-orders", 3},
                        {"mirrord-tmp-3-orders", 1}};  // a session that has ended
  SplitStatus quoted;
  quoted.original = "we\"ird\\q";
  std::string text = prometheusText({s, quoted});
  EXPECT_NE(text.find("# TYPE mirrord_read_sqs_messages_count counter\n"
                      "mirrord_read_sqs_messages_count{original_queue=\"orders\"} 10\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("mirrord_unmatched_sqs_messages_count{original_queue=\"orders\"} 6\n"),
            std::string::npos);
  EXPECT_NE(text.find("mirrord_sqs_messages_forwarded_to_user_count{original_queue=\"orders\","
                      "session=\"alice\",queue=\"mirrord-tmp-2-orders\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("session=\"\",queue=\"mirrord-tmp-3-orders\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("fallback-orders\"}"), std::string::npos);  // the workload is no user
  EXPECT_NE(text.find("{original_queue=\"we\\\"ird\\\\q\"} 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace qsplit::engine
