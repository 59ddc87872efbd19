#include "engine/journal_file.h"

#include <gtest/gtest.h>

#include <fstream>

namespace qsplit::engine {
namespace {

class FileJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char path[] = "/tmp/qsplit-journal-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    path_ = path;
  }
  void TearDown() override { std::remove(path_.c_str()); }
  std::string path_;
};

TEST_F(FileJournalTest, SurvivesReopeningAndForgets) {
  {
    FileJournal journal(path_);
    ASSERT_TRUE(journal.record({"orders", "mirrord-tmp-1-fallback-orders", "g"}).has_value());
    ASSERT_TRUE(journal.record({"orders", "mirrord-tmp-2-orders", "g"}).has_value());
    ASSERT_TRUE(journal.record({"views", "mirrord-tmp-3-views", ""}).has_value());
    ASSERT_TRUE(journal.forget("mirrord-tmp-2-orders").has_value());
  }
  FileJournal reopened(path_);
  auto entries = reopened.entries();
  ASSERT_TRUE(entries.has_value());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "mirrord-tmp-1-fallback-orders");
  EXPECT_EQ((*entries)[0].group, "g");
  EXPECT_EQ((*entries)[1].original, "views");
}

TEST_F(FileJournalTest, TornLastLineIsSkipped) {
  FileJournal journal(path_);
  ASSERT_TRUE(journal.record({"orders", "mirrord-tmp-1-orders", "g"}).has_value());
  std::ofstream(path_, std::ios::app) << "+\torders";  // a crash in the middle of a write
  EXPECT_EQ(journal.entries()->size(), 1u);
}

TEST_F(FileJournalTest, UnwritablePathIsNamed) {
  FileJournal journal("/nonexistent-dir/journal");
  auto r = journal.record({"a", "b", ""});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("/nonexistent-dir/journal: cannot open the journal"),
            std::string::npos);
}

}  // namespace
}  // namespace qsplit::engine
