// Replay files: a versioned header, then zstd-compressed chunks of frames, each checksummed.
//
// Layout (all integers little-endian):
//   "LUDUSRPL" u32 format_version u64 header_size header_bytes u32 crc32(header_bytes)
//   chunk*:  "CHNK" u32 frame_count u64 raw_size u64 packed_size u32 crc32(packed) packed
//   end:     "END!" u64 total_frames u64 result_size result_bytes u32 crc32(all after "END!")
// The writer flushes after every chunk, so a file whose writer was killed holds every
// complete chunk and can be recovered up to the last of them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ludus/engine/env.hpp"
#include "ludus/engine/frame.hpp"

namespace ludus {

// 2: the header records the game's tick rate. Version-1 files are still read.
inline constexpr uint32_t kReplayFormatVersion = 2;

struct ReplayHeader {
  uint32_t format_version = kReplayFormatVersion;
  std::string env_name;
  std::string env_options_yaml;  // the full effective game options
  uint64_t seed = 0;
  std::vector<std::string> agents;  // one description per team
  std::string ludus_version;
  std::string created_utc;
  double tick_rate_hz = 0;  // the game's ticks per second (0: unknown, a version-1 file)
};

// Thrown for unreadable, truncated or corrupted replays; the message names the file,
// the byte offset and what was wrong.
class ReplayError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ReplayWriter {
 public:
  // Creates (or overwrites) `path`; throws ReplayError if it cannot.
  ReplayWriter(const std::string& path, ReplayHeader header, int frames_per_chunk = 64);
  ~ReplayWriter();  // finishes the file if finish() was not called
  ReplayWriter(const ReplayWriter&) = delete;
  ReplayWriter& operator=(const ReplayWriter&) = delete;

  void add(const Frame& frame);
  // Writes the last chunk and the end record holding the match result.
  void finish(const MatchResult& result);
  int64_t frames_written() const { return total_frames_; }
  const std::string& path() const { return path_; }

 private:
  void flush_chunk();
  std::string path_;
  std::FILE* file_ = nullptr;
  int frames_per_chunk_;
  int pending_frames_ = 0;
  int64_t total_frames_ = 0;
  std::vector<uint8_t> pending_;
  bool finished_ = false;
};

enum class ReplayMode {
  strict,   // a file without its end record is refused
  recover,  // a file without its end record is read up to its last complete chunk
};

class ReplayReader {
 public:
  // Validates the header and every chunk's checksum; throws ReplayError.
  explicit ReplayReader(const std::string& path, ReplayMode mode = ReplayMode::strict);
  ~ReplayReader();

  const ReplayHeader& header() const { return header_; }
  int64_t num_frames() const { return total_frames_; }
  // False when the end record was missing (recover mode): the writer did not finish.
  bool complete() const { return complete_; }
  // Set when complete() is false: what was missing and how much was recovered.
  const std::string& warning() const { return warning_; }
  const MatchResult& result() const { return result_; }
  // Frame i in [0, num_frames()); decompresses its chunk (the last chunk is cached).
  // The reference stays valid until the next call to frame().
  const Frame& frame(int64_t i);

 private:
  struct Chunk {
    uint64_t offset;  // of the packed bytes
    uint64_t packed_size, raw_size;
    uint32_t frame_count;
    int64_t first_frame;
  };
  void load_chunk(size_t c);
  [[noreturn]] void fail_at(const std::string& why) const;  // ReplayError naming the byte offset
  void read_header(uint64_t file_size);
  void index_records(uint64_t file_size);
  bool read_chunk(uint64_t file_size);
  void read_end_record(uint64_t file_size);

  std::string path_;
  std::FILE* file_ = nullptr;
  ReplayHeader header_;
  std::vector<Chunk> chunks_;
  int64_t total_frames_ = 0;
  bool complete_ = false;
  std::string warning_;
  MatchResult result_;
  size_t cached_chunk_ = SIZE_MAX;
  std::vector<Frame> cached_frames_;
};

}  // namespace ludus
