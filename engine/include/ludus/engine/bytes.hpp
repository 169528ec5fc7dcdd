// Byte buffers for env state snapshots, frames and replay files: bounds-checked reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ludus {

// Thrown when bytes (a state snapshot, a frame, a replay) do not parse.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// CRC-32 (zlib's polynomial) of n bytes: the checksum replays and checkpoints carry.
uint32_t crc32_of(const void* data, size_t n);

// Appends plain values to a byte vector. Values are stored in the host's byte order
// (little-endian on every platform ludus supports).
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put(const T& value) { append(&value, sizeof(T)); }

  template <class T>
  requires std::is_trivially_copyable_v<T>
  void put_array(std::span<const T> values) {
    put<uint64_t>(values.size());
    append(values.data(), values.size_bytes());
  }

  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }

  size_t size() const { return out_.size(); }

 private:
  void append(const void* data, size_t n) {
    if (n == 0) return;
    const size_t at = out_.size();
    out_.resize(at + n);
    std::memcpy(out_.data() + at, data, n);
  }

  std::vector<uint8_t>& out_;
};

// Reads what ByteWriter wrote; every read checks the remaining length and throws
// FormatError naming `what` instead of reading past the end.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string what = "data") : bytes_(bytes), what_(std::move(what)) {}

  template <class T>
  requires std::is_trivially_copyable_v<T> T get() {
    need(sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  template <class T>
  requires std::is_trivially_copyable_v<T>
  void get_array(std::vector<T>& out, uint64_t max_count = UINT32_MAX) {
    const auto n = get<uint64_t>();
    if (n > max_count) fail("array of " + std::to_string(n) + " elements exceeds the limit");
    need(n * sizeof(T));
    out.resize(n);
    if (n > 0) std::memcpy(out.data(), bytes_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
  }

  std::string get_string(uint64_t max_len = 1u << 30) {
    const auto n = get<uint64_t>();
    if (n > max_len) fail("string of " + std::to_string(n) + " bytes exceeds the limit");
    need(n);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  void skip(uint64_t n) {
    need(n);
    pos_ += n;
  }

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t position() const { return pos_; }

  // Throws unless every byte was consumed (a snapshot with trailing bytes is not ours).
  void expect_end() const {
    if (remaining() != 0) fail(std::to_string(remaining()) + " unexpected trailing bytes");
  }

  [[noreturn]] void fail(const std::string& why) const {
    throw FormatError(what_ + ": " + why + " (at byte " + std::to_string(pos_) + " of " +
                      std::to_string(bytes_.size()) + ")");
  }

 private:
  void need(uint64_t n) const {
    if (n > remaining())
      fail("truncated: needs " + std::to_string(n) + " more bytes, " + std::to_string(remaining()) + " left");
  }

  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace ludus
