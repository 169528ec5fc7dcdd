// TensorBoard event files (see tb_events.hpp).
#include "ludus/train/tb_events.hpp"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace ludus::rl {

namespace {

const std::array<uint32_t, 256>& crc32c_table() {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

// Protobuf wire format, just what Event and Summary need.
void varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
template <class T>
void fixed(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian host (x86-64, aarch64)
  out.append(b, sizeof(T));
}
void key(std::string& out, int field, int wire) { varint(out, static_cast<uint64_t>(field << 3 | wire)); }
void bytes_field(std::string& out, int field, std::string_view s) {
  key(out, field, 2);
  varint(out, s.size());
  out.append(s);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  const auto& t = crc32c_table();
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t n) {
  const uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string tfrecord(std::string_view data) {
  std::string out;
  const uint64_t len = data.size();
  std::string len_bytes;
  fixed(len_bytes, len);
  out += len_bytes;
  fixed(out, masked_crc32c(len_bytes.data(), len_bytes.size()));
  out.append(data);
  fixed(out, masked_crc32c(data.data(), data.size()));
  return out;
}

std::string scalar_event(double wall_time, int64_t step, const std::vector<std::pair<std::string, float>>& scalars) {
  std::string summary;
  for (const auto& [tag, value] : scalars) {
    std::string v;
    bytes_field(v, 1, tag);  // Summary.Value.tag
    key(v, 2, 5);            // Summary.Value.simple_value (float)
    fixed(v, value);
    bytes_field(summary, 1, v);  // Summary.value (repeated)
  }
  std::string event;
  key(event, 1, 1);  // Event.wall_time (double)
  fixed(event, wall_time);
  key(event, 2, 0);  // Event.step (int64)
  varint(event, static_cast<uint64_t>(step));
  bytes_field(event, 5, summary);  // Event.summary
  return event;
}

std::string file_version_event(double wall_time) {
  std::string event;
  key(event, 1, 1);
  fixed(event, wall_time);
  bytes_field(event, 3, "brain.Event:2");  // Event.file_version
  return event;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  char buf[256] = {0};
  const std::string host = gethostname(buf, sizeof(buf) - 1) == 0 ? std::string(buf) : std::string("localhost");
  const double t = now_seconds();
  // Two writers in the same second (a quick resume) must not share a file.
  for (int k = 0;; ++k) {
    const std::string name = fmt::format("events.out.tfevents.{}.{}{}.ludus", static_cast<int64_t>(t), host,
                                         k > 0 ? fmt::format(".{}", k) : std::string());
    path_ = (fs::path(dir) / name).string();
    if (!fs::exists(path_)) break;
  }
  out_.open(path_, std::ios::binary);
  if (!out_) throw std::runtime_error(path_ + ": cannot create the TensorBoard event file");
  out_ << tfrecord(file_version_event(t));
  out_.flush();
}

void TensorBoardWriter::scalars(int64_t step, const std::vector<std::pair<std::string, float>>& values) {
  out_ << tfrecord(scalar_event(now_seconds(), step, values));
  out_.flush();
}

}  // namespace ludus::rl
