// Replay files: round trip, refusal of truncated and bit-flipped files, recovery.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include <filesystem>
#include <fstream>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ludus/engine/replay.hpp"
#include "test_temp.hpp"

namespace ludus {
namespace {

using ::testing::HasSubstr;

Frame frame_at(int64_t tick) {
  Frame f;
  f.tick = tick;
  f.scores = {static_cast<double>(tick % 3), 1};
  for (int i = 0; i < 5; ++i)
    f.circle(static_cast<float>(tick) * 0.1f + static_cast<float>(i), static_cast<float>(i), 0.5f, team_color(i % 2),
             i % 2);
  f.label(0, 0, 0, "t" + std::to_string(tick), Rgba{}, 1);
  return f;
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = std::make_unique<ludus_test::TempDir>();
    path_ = tmp_->file("replay.rpl");
  }
  void TearDown() override { tmp_.reset(); }
  std::unique_ptr<ludus_test::TempDir> tmp_;

  void write(int frames, bool finish = true) {
    ReplayHeader h;
    h.env_name = "reach";
    h.env_options_yaml = "team_size: 2\n";
    h.seed = 7;
    h.agents = {"greedy", "random"};
    h.ludus_version = "test";
    h.tick_rate_hz = 30;
    ReplayWriter w(path_, h, /*frames_per_chunk=*/10);
    for (int i = 0; i < frames; ++i) w.add(frame_at(i));
    MatchResult r;
    r.team_scores = {3, 1};
    r.winner = 0;
    r.ticks = frames;
    if (finish) w.finish(r);
  }

  std::vector<char> bytes() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void put(const std::vector<char>& b) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
  }

  std::string path_;
};

TEST_F(ReplayTest, RoundTripFrameForFrame) {
  write(35);
  ReplayReader r(path_);
  EXPECT_TRUE(r.complete());
  EXPECT_EQ(r.header().env_name, "reach");
  EXPECT_EQ(r.header().seed, 7u);
  EXPECT_EQ(r.header().agents, (std::vector<std::string>{"greedy", "random"}));
  EXPECT_EQ(r.header().env_options_yaml, "team_size: 2\n");
  ASSERT_EQ(r.num_frames(), 35);
  for (int64_t i = 34; i >= 0; --i) EXPECT_EQ(r.frame(i), frame_at(i)) << "frame " << i;  // seeks backwards too
  EXPECT_EQ(r.result().winner, 0);
  EXPECT_EQ(r.result().team_scores, (std::vector<double>{3, 1}));
  EXPECT_THROW(r.frame(35), ReplayError);
}

TEST_F(ReplayTest, HeaderRecordsTheTickRateAndFormatOneFilesStillRead) {
  write(5);
  ReplayReader r(path_);
  EXPECT_EQ(r.header().format_version, kReplayFormatVersion);
  EXPECT_EQ(r.header().tick_rate_hz, 30);
  // A file written by ludus before format 2 (tests/data/replays): read, rate unknown.
  const char* data = std::getenv("LUDUS_TEST_DATA");
  ASSERT_NE(data, nullptr) << "LUDUS_TEST_DATA not set (CTest sets it to tests/data)";
  ReplayReader old(std::string(data) + "/replays/reach_format1.rpl");
  EXPECT_EQ(old.header().format_version, 1u);
  EXPECT_EQ(old.header().env_name, "reach");
  EXPECT_EQ(old.header().tick_rate_hz, 0);
  EXPECT_GT(old.num_frames(), 0);
  (void)old.frame(old.num_frames() - 1);
}

TEST_F(ReplayTest, TruncatedFileIsRefusedInStrictModeAndRecoverable) {
  write(35);
  const auto good = bytes();
  int into_last_chunk = 0;
  // Cut anywhere in the last chunk or the end record: as if the writer died there.
  for (size_t cut = 1; cut < 200 && cut < good.size(); cut += 3) {
    put(std::vector<char>(good.begin(), good.end() - static_cast<long>(cut)));
    try {
      ReplayReader r(path_);
      FAIL() << "replay cut by " << cut << " bytes accepted in strict mode";
    } catch (const ReplayError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path_));
    }
    ReplayReader r(path_, ReplayMode::recover);
    EXPECT_FALSE(r.complete());
    ASSERT_TRUE(r.num_frames() == 35 || r.num_frames() == 30) << "cut " << cut << ": " << r.num_frames();
    into_last_chunk += r.num_frames() == 30;
    EXPECT_EQ(r.frame(r.num_frames() - 1), frame_at(r.num_frames() - 1));
    EXPECT_THAT(r.warning(), HasSubstr(std::to_string(r.num_frames()) + " frames"));
  }
  EXPECT_GT(into_last_chunk, 0) << "no cut reached into the last chunk";
}

TEST_F(ReplayTest, WriterKilledMidRunLeavesCompleteChunksReadable) {
  // A child process writes 25 frames and dies without finishing (no destructors run).
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ReplayHeader h;
    h.env_name = "reach";
    auto* w = new ReplayWriter(path_, h, /*frames_per_chunk=*/10);
    for (int i = 0; i < 25; ++i) w->add(frame_at(i));
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_THROW(ReplayReader r(path_), ReplayError);
  ReplayReader r(path_, ReplayMode::recover);
  EXPECT_FALSE(r.complete());
  ASSERT_EQ(r.num_frames(), 20) << "the two flushed chunks survive, the 5 pending frames do not";
  EXPECT_EQ(r.frame(19), frame_at(19));
}

TEST_F(ReplayTest, EveryBitFlipIsRefused) {
  write(12);
  const auto good = bytes();
  int refused = 0, tried = 0;
  for (size_t pos = 0; pos < good.size(); pos += 7) {
    auto b = good;
    b[pos] = static_cast<char>(b[pos] ^ 0x10);
    put(b);
    ++tried;
    try {
      ReplayReader r(path_);
      for (int64_t i = 0; i < r.num_frames(); ++i) r.frame(i);
    } catch (const ReplayError&) {
      ++refused;
    }
  }
  EXPECT_EQ(refused, tried) << "a corrupted byte went unnoticed";
}

// Resident memory now, in KiB (Linux: /proc/self/statm counts pages).
long resident_kib() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long peak_resident_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST_F(ReplayTest, ForgedSizeFieldsAreRefusedWithoutAllocatingWhatTheyClaim) {
  write(12);
  const auto good = bytes();
  uint64_t hsize = 0;
  std::memcpy(&hsize, good.data() + 12, 8);
  const size_t chunk = 8 + 4 + 8 + hsize + 4;  // the first chunk record: tag, count, raw, packed, crc
  auto forge = [&](size_t at, uint64_t value) {
    auto b = good;
    std::memcpy(b.data() + at, &value, 8);
    put(b);
  };
  const long before = resident_kib();
  // The header size claims 128 MiB of a file of a few hundred bytes.
  forge(12, uint64_t{1} << 27);
  try {
    ReplayReader r(path_);
    FAIL() << "a header size past the end of the file was accepted";
  } catch (const ReplayError& e) {
    EXPECT_THAT(e.what(), HasSubstr("truncated header"));
  }
  // The chunk's packed size claims 1 GiB: a chunk cut short, as if the writer died in it.
  forge(chunk + 4 + 4 + 8, uint64_t{1} << 30);
  EXPECT_THROW(ReplayReader r(path_), ReplayError);
  {
    ReplayReader r(path_, ReplayMode::recover);
    EXPECT_EQ(r.num_frames(), 0);
  }
  // The chunk's raw size (not under its checksum) claims 1 GiB: refused when the chunk is
  // decompressed, since the frame yields far fewer bytes.
  forge(chunk + 4 + 4, uint64_t{1} << 30);
  {
    ReplayReader r(path_);
    try {
      (void)r.frame(0);
      FAIL() << "a chunk whose raw size is forged was read";
    } catch (const ReplayError& e) {
      EXPECT_THAT(e.what(), HasSubstr("does not decompress"));
    }
  }
  // ...and claiming one byte fewer than the frame holds is refused too.
  uint64_t raw = 0;
  std::memcpy(&raw, good.data() + chunk + 4 + 4, 8);
  forge(chunk + 4 + 4, raw - 1);
  {
    ReplayReader r(path_);
    EXPECT_THROW((void)r.frame(0), ReplayError);
  }
  EXPECT_LT(peak_resident_kib() - before, 256 * 1024) << "a forged size field was allocated";
  put(good);
  ReplayReader r(path_);
  EXPECT_EQ(r.frame(11), frame_at(11));
}

TEST_F(ReplayTest, NotAReplayAndMissingFile) {
  put(std::vector<char>{'h', 'e', 'l', 'l', 'o'});
  EXPECT_THROW(ReplayReader r(path_), ReplayError);
  EXPECT_THROW(ReplayReader r("/nonexistent/x.rpl"), ReplayError);
}

}  // namespace
}  // namespace ludus
