// GIF89a writing: a popularity palette from the first frame and an LZW encoder (after gif.h's scheme).
#include "ludus/viz/gif.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <numeric>

#include "ludus/viz/render.hpp"

namespace ludus::viz {
namespace {

constexpr int kMinCodeSize = 8;
constexpr int kClearCode = 1 << kMinCodeSize;
constexpr int kMaxCode = 4095;

int bin15(uint8_t r, uint8_t g, uint8_t b) { return (r >> 3) << 10 | (g >> 3) << 5 | (b >> 3); }

class BitPacker {
 public:
  explicit BitPacker(std::vector<uint8_t>& out) : out_(out) {}
  void put(int code, int size) {
    acc_ |= static_cast<uint32_t>(code) << bits_;
    bits_ += size;
    while (bits_ >= 8) {
      out_.push_back(static_cast<uint8_t>(acc_ & 0xFF));
      acc_ >>= 8;
      bits_ -= 8;
    }
  }
  void flush() {
    if (bits_ > 0) out_.push_back(static_cast<uint8_t>(acc_ & 0xFF));
    acc_ = 0;
    bits_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint32_t acc_ = 0;
  int bits_ = 0;
};

void put16(std::vector<uint8_t>& v, int x) {
  v.push_back(static_cast<uint8_t>(x & 0xFF));
  v.push_back(static_cast<uint8_t>((x >> 8) & 0xFF));
}

}  // namespace

GifWriter::GifWriter(const std::string& path, int width, int height, int delay_cs)
    : path_(path), width_(width), height_(height), delay_cs_(std::clamp(delay_cs, 2, 65535)) {
  if (width < 1 || height < 1 || width > 65535 || height > 65535)
    throw VizError(path + ": GIF size " + std::to_string(width) + "x" + std::to_string(height) + " is out of range");
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw VizError(path + ": cannot create GIF: " + std::strerror(errno));
}

GifWriter::~GifWriter() {
  if (file_) {
    try {
      finish();
    } catch (...) {
      // A destructor must not throw; the GIF then lacks its trailer.
    }
  }
}

void GifWriter::write(const void* data, size_t n) {
  if (std::fwrite(data, 1, n, file_) != n) throw VizError(path_ + ": write failed (disk full?)");
}

void GifWriter::build_palette(const SDL_Surface* s) {
  // Popularity: the 256 most frequent 15-bit colour bins, each the mean of its pixels.
  std::vector<uint64_t> count(1 << 15, 0), sum_r(1 << 15, 0), sum_g(1 << 15, 0), sum_b(1 << 15, 0);
  for (int y = 0; y < s->h; ++y) {
    const auto* row = static_cast<const uint8_t*>(s->pixels) + y * s->pitch;
    for (int x = 0; x < s->w; ++x) {
      const uint8_t* p = row + 4 * x;
      const int b = bin15(p[0], p[1], p[2]);
      ++count[static_cast<size_t>(b)];
      sum_r[static_cast<size_t>(b)] += p[0];
      sum_g[static_cast<size_t>(b)] += p[1];
      sum_b[static_cast<size_t>(b)] += p[2];
    }
  }
  std::vector<int> bins(1 << 15);
  std::iota(bins.begin(), bins.end(), 0);
  std::partial_sort(bins.begin(), bins.begin() + 256, bins.end(),
                    [&](int a, int b) { return count[static_cast<size_t>(a)] > count[static_cast<size_t>(b)]; });
  palette_.assign(256 * 3, 0);
  for (size_t i = 0; i < 256; ++i) {
    const auto b = static_cast<size_t>(bins[i]);
    if (count[b] == 0) break;
    palette_[3 * i] = static_cast<uint8_t>(sum_r[b] / count[b]);
    palette_[3 * i + 1] = static_cast<uint8_t>(sum_g[b] / count[b]);
    palette_[3 * i + 2] = static_cast<uint8_t>(sum_b[b] / count[b]);
  }
  lookup_.assign(1 << 15, -1);
}

uint8_t GifWriter::index_of(uint8_t r, uint8_t g, uint8_t b) {
  int16_t& slot = lookup_[static_cast<size_t>(bin15(r, g, b))];
  if (slot < 0) {
    int best = 0, best_d = 1 << 30;
    for (int i = 0; i < 256; ++i) {
      const int dr = palette_[static_cast<size_t>(3 * i)] - r, dg = palette_[static_cast<size_t>(3 * i + 1)] - g,
                db = palette_[static_cast<size_t>(3 * i + 2)] - b;
      const int d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
      if (d < best_d) {
        best_d = d;
        best = i;
      }
    }
    slot = static_cast<int16_t>(best);
  }
  return static_cast<uint8_t>(slot);
}

void GifWriter::add(const SDL_Surface* s) {
  if (!file_) throw VizError(path_ + ": add() after finish()");
  if (!s || s->w != width_ || s->h != height_ || s->format->format != SDL_PIXELFORMAT_RGBA32)
    throw VizError(path_ + ": GIF frames must be RGBA32 surfaces of " + std::to_string(width_) + "x" +
                   std::to_string(height_));
  std::vector<uint8_t> out;
  if (frames_ == 0) {
    build_palette(s);
    const char magic[] = "GIF89a";
    out.insert(out.end(), magic, magic + 6);
    put16(out, width_);
    put16(out, height_);
    out.push_back(0xF7);  // global colour table of 256 entries, 8 bits per channel
    out.push_back(0);
    out.push_back(0);
    out.insert(out.end(), palette_.begin(), palette_.end());
    const uint8_t loop[] = {0x21, 0xFF, 0x0B, 'N', 'E',  'T',  'S', 'C', 'A', 'P',
                            'E',  '2',  '.',  '0', 0x03, 0x01, 0,   0,   0};
    out.insert(out.end(), loop, loop + sizeof loop);
  }
  // Graphic control extension (the delay) and the image descriptor.
  out.insert(out.end(), {0x21, 0xF9, 0x04, 0x00});
  put16(out, delay_cs_);
  out.insert(out.end(), {0x00, 0x00, 0x2C});
  put16(out, 0);
  put16(out, 0);
  put16(out, width_);
  put16(out, height_);
  out.push_back(0x00);
  out.push_back(kMinCodeSize);

  indices_.resize(static_cast<size_t>(width_) * static_cast<size_t>(height_));
  for (int y = 0; y < height_; ++y) {
    const auto* row = static_cast<const uint8_t*>(s->pixels) + y * s->pitch;
    for (int x = 0; x < width_; ++x)
      indices_[static_cast<size_t>(y * width_ + x)] = index_of(row[4 * x], row[4 * x + 1], row[4 * x + 2]);
  }

  std::vector<uint8_t> packed;
  BitPacker bits(packed);
  dictionary_.assign(static_cast<size_t>(4096) * 256, -1);
  int code_size = kMinCodeSize + 1;
  int max_code = kClearCode + 1;
  bits.put(kClearCode, code_size);
  int cur = indices_[0];
  for (size_t i = 1; i < indices_.size(); ++i) {
    const uint8_t next = indices_[i];
    int16_t& entry = dictionary_[static_cast<size_t>(cur) * 256 + next];
    if (entry >= 0) {
      cur = entry;
      continue;
    }
    bits.put(cur, code_size);
    entry = static_cast<int16_t>(++max_code);
    if (max_code >= (1 << code_size)) ++code_size;
    if (max_code == kMaxCode) {
      bits.put(kClearCode, code_size);
      std::fill(dictionary_.begin(), dictionary_.end(), int16_t{-1});
      code_size = kMinCodeSize + 1;
      max_code = kClearCode + 1;
    }
    cur = next;
  }
  bits.put(cur, code_size);
  bits.put(kClearCode, code_size);
  bits.put(kClearCode + 1, kMinCodeSize + 1);
  bits.flush();
  for (size_t at = 0; at < packed.size(); at += 255) {
    const size_t n = std::min<size_t>(255, packed.size() - at);
    out.push_back(static_cast<uint8_t>(n));
    out.insert(out.end(), packed.begin() + static_cast<std::ptrdiff_t>(at),
               packed.begin() + static_cast<std::ptrdiff_t>(at + n));
  }
  out.push_back(0x00);
  write(out.data(), out.size());
  ++frames_;
}

void GifWriter::finish() {
  if (!file_) return;
  std::FILE* f = file_;
  file_ = nullptr;
  const uint8_t trailer = 0x3B;
  const bool ok = std::fwrite(&trailer, 1, 1, f) == 1;
  if (std::fclose(f) != 0 || !ok) throw VizError(path_ + ": write failed while finishing the GIF");
}

}  // namespace ludus::viz
