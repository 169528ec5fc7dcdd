// TensorBoard event files: CRC-32C against its published check values, the Event bytes
// of a known scalar assembled by hand from the protobuf encoding rules, TFRecord framing
// read back with its CRCs, and the trainer writing one event per update.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ludus/train/tb_events.hpp"
#include "test_temp.hpp"

namespace ludus::rl {
namespace {

namespace fs = std::filesystem;

TEST(TensorBoard, Crc32cMatchesPublishedCheckValues) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC catalogue's check value
  const std::string zeros(32, '\0'), ones(32, '\xFF');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720, B.4
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
}

std::string le_bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

TEST(TensorBoard, ScalarEventHasTheProtobufBytes) {
  const double wall = 1.5;
  const float value = 0.5f;
  std::string want;
  want += '\x09' + le_bytes(&wall, 8);     // field 1 (wall_time), fixed64
  want += std::string("\x10\xAC\x02", 3);  // field 2 (step), varint 300
  want += std::string("\x2A\x0A", 2);      // field 5 (summary), 10 bytes
  want += std::string("\x0A\x08", 2);      //   Summary.value, 8 bytes
  want += std::string(
      "\x0A\x01"
      "a",
      3);                                //     tag "a"
  want += '\x15' + le_bytes(&value, 4);  //     simple_value, fixed32
  EXPECT_EQ(scalar_event(wall, 300, {{"a", value}}), want);
}

// Reads TFRecords back, checking both CRCs of each.
std::vector<std::string> read_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < all.size()) {
    EXPECT_LE(pos + 12, all.size());
    uint64_t len = 0;
    uint32_t len_crc = 0, data_crc = 0;
    std::memcpy(&len, all.data() + pos, 8);
    std::memcpy(&len_crc, all.data() + pos + 8, 4);
    EXPECT_EQ(len_crc, masked_crc32c(all.data() + pos, 8));
    const std::string data = all.substr(pos + 12, len);
    std::memcpy(&data_crc, all.data() + pos + 12 + len, 4);
    EXPECT_EQ(data_crc, masked_crc32c(data.data(), data.size()));
    out.push_back(data);
    pos += 12 + len + 4;
  }
  return out;
}

TEST(TensorBoard, WriterFramesEveryEventAsATfRecord) {
  const ludus_test::TempDir tmp;
  const auto& dir = tmp.path();
  std::string path;
  {
    TensorBoardWriter w(dir.string());
    path = w.path();
    w.scalars(10, {{"train/win_rate", 0.25f}});
    w.scalars(20, {{"train/win_rate", 0.5f}, {"loss/total", -1.0f}});
  }
  EXPECT_NE(fs::path(path).filename().string().find("events.out.tfevents."), std::string::npos);
  const auto records = read_records(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_NE(records[0].find("brain.Event:2"), std::string::npos);
  EXPECT_NE(records[2].find("loss/total"), std::string::npos);
  // A second writer in the same second gets its own file.
  TensorBoardWriter again(dir.string());
  EXPECT_NE(again.path(), path);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ludus::rl
