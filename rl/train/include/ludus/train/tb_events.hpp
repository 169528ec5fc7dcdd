// TensorBoard event files: scalars written in the TFRecord/Event format that TensorBoard
// (and tensorboardX, tbparse, ...) read, without TensorFlow or protobuf.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ludus::rl {

// CRC-32C (Castagnoli), as TFRecord uses it. Debian packages no C/C++ CRC-32C library
// short of Boost, so it is written here (a 256-entry table, reflected polynomial 0x82F63B78).
uint32_t crc32c(const void* data, size_t n);
// TFRecord's masked CRC: rotate right by 15 and add 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t n);

// One TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data.
std::string tfrecord(std::string_view data);
// An Event proto with wall_time, step and one Summary.Value{tag, simple_value} per scalar.
std::string scalar_event(double wall_time, int64_t step, const std::vector<std::pair<std::string, float>>& scalars);
// The first Event of a file: wall_time and file_version "brain.Event:2".
std::string file_version_event(double wall_time);

// Appends scalar events to DIR/events.out.tfevents.<unix time>.<host>.ludus. A new
// file per writer (per run or resume); TensorBoard reads all files of a directory.
class TensorBoardWriter {
 public:
  // Throws std::runtime_error naming the file when it cannot be created.
  explicit TensorBoardWriter(const std::string& dir);
  void scalars(int64_t step, const std::vector<std::pair<std::string, float>>& values);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace ludus::rl
