// metrics.csv on --resume: rows after the checkpoint's update are dropped, and so are
// lines with no update number (a line cut by a kill), which are listed, not fatal.
#include <gtest/gtest.h>

#include <stdexcept>

#include "ludus/train/metrics_csv.hpp"

namespace ludus::rl {
namespace {

TEST(MetricsCsv, ResumeKeepsTheHeaderAndTheRowsUpToItsUpdate) {
  const auto kept = metrics_through_update("update,samples\n1,10\n2,20\n3,30\n", 2);
  EXPECT_EQ(kept.text, "update,samples\n1,10\n2,20\n");
  EXPECT_TRUE(kept.unreadable.empty());
  EXPECT_EQ(metrics_through_update("update,samples\n1,10", 5).text, "update,samples\n1,10\n");
  EXPECT_EQ(metrics_through_update("", 5).text, "");
}

TEST(MetricsCsv, LinesWithNoUpdateNumberAreDroppedAndNamed) {
  // A row cut by a kill leaves "7,18" (kept: it has its number), then an empty line,
  // a damaged one and a bare number with junk after it.
  const auto kept = metrics_through_update("update,samples\n6,60\n7,18\n\nx,1\n8a,2\n-1,0\n", 7);
  EXPECT_EQ(kept.text, "update,samples\n6,60\n7,18\n-1,0\n");
  EXPECT_EQ(kept.unreadable, (std::vector<size_t>{4, 5, 6}));
  EXPECT_EQ(metrics_through_update(kept.text, 7).text, kept.text);
}

TEST(MetricsCsv, TableHasACellForEveryColumnAndNamesWhatIsNotANumber) {
  // A repeated column name keeps its last place; short rows are padded to the header.
  const auto t = read_metrics_table("samples,x,samples\n1,2,3\n4\n5,,nan\n", "m.csv", {"samples", "x"});
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.cell(t.rows[0], "samples"), "3");
  EXPECT_EQ(t.cell(t.rows[1], "samples"), "");
  EXPECT_EQ(t.cell(t.rows[2], "samples"), "") << "nan is a point left out";
  try {
    read_metrics_table("samples,x\n1,2\n3,4x\n", "m.csv", {"x"});
    FAIL() << "4x read as a number";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "m.csv:3: column 'x' is not a number: '4x'");
  }
  EXPECT_THROW(read_metrics_table("samples\n1\n", "m.csv", {"eval_win"}), std::runtime_error);
  EXPECT_THROW(read_metrics_table("", "m.csv", {}), std::runtime_error);
}

}  // namespace
}  // namespace ludus::rl
