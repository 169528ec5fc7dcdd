// Replay writing and validated reading (zstd for compression, zlib's crc32 for checksums).
#include "ludus/engine/replay.hpp"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <memory>
#include <new>

#include "ludus/engine/bytes.hpp"

namespace ludus {

uint32_t crc32_of(const void* data, size_t n) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong c = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const uInt step = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    c = crc32(c, p, step);
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(c);
}

namespace {

constexpr char kMagic[8] = {'L', 'U', 'D', 'U', 'S', 'R', 'P', 'L'};
constexpr char kChunkTag[4] = {'C', 'H', 'N', 'K'};
constexpr char kEndTag[4] = {'E', 'N', 'D', '!'};
constexpr uint64_t kMaxChunkBytes = 1ull << 31;

void write_all(std::FILE* f, const void* data, size_t n, const std::string& path) {
  if (n > 0 && std::fwrite(data, 1, n, f) != n) throw ReplayError(path + ": write failed (disk full?)");
}

template <class T>
void write_value(std::FILE* f, const T& v, const std::string& path) {
  write_all(f, &v, sizeof(T), path);
}

}  // namespace

ReplayWriter::ReplayWriter(const std::string& path, ReplayHeader header, int frames_per_chunk)
    : path_(path), frames_per_chunk_(frames_per_chunk < 1 ? 1 : frames_per_chunk) {
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw ReplayError(path + ": cannot create replay file: " + std::strerror(errno));
  std::vector<uint8_t> hdr;
  ByteWriter w(hdr);
  w.put<uint32_t>(header.format_version);
  w.put_string(header.env_name);
  w.put_string(header.env_options_yaml);
  w.put<uint64_t>(header.seed);
  w.put<uint64_t>(header.agents.size());
  for (const auto& a : header.agents) w.put_string(a);
  w.put_string(header.ludus_version);
  w.put_string(header.created_utc);
  w.put<double>(header.tick_rate_hz);
  write_all(file_, kMagic, sizeof kMagic, path_);
  write_value<uint32_t>(file_, kReplayFormatVersion, path_);
  write_value<uint64_t>(file_, hdr.size(), path_);
  write_all(file_, hdr.data(), hdr.size(), path_);
  write_value<uint32_t>(file_, crc32_of(hdr.data(), hdr.size()), path_);
  std::fflush(file_);
}

ReplayWriter::~ReplayWriter() {
  if (!finished_ && file_) {
    try {
      finish(MatchResult{});
    } catch (...) {
      // A destructor must not throw; the file then lacks its end record and reads
      // back in recover mode.
    }
  }
  if (file_) std::fclose(file_);
}

void ReplayWriter::add(const Frame& frame) {
  if (finished_) throw ReplayError(path_ + ": add() after finish()");
  std::vector<uint8_t> bytes;
  ByteWriter w(bytes);
  frame.serialize(w);
  ByteWriter chunk(pending_);
  chunk.put<uint64_t>(bytes.size());
  pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  ++pending_frames_;
  ++total_frames_;
  if (pending_frames_ >= frames_per_chunk_) flush_chunk();
}

void ReplayWriter::flush_chunk() {
  if (pending_frames_ == 0) return;
  std::vector<uint8_t> packed(ZSTD_compressBound(pending_.size()));
  const size_t n = ZSTD_compress(packed.data(), packed.size(), pending_.data(), pending_.size(), 3);
  if (ZSTD_isError(n)) throw ReplayError(path_ + ": zstd: " + ZSTD_getErrorName(n));
  write_all(file_, kChunkTag, sizeof kChunkTag, path_);
  write_value<uint32_t>(file_, static_cast<uint32_t>(pending_frames_), path_);
  write_value<uint64_t>(file_, pending_.size(), path_);
  write_value<uint64_t>(file_, n, path_);
  write_value<uint32_t>(file_, crc32_of(packed.data(), n), path_);
  write_all(file_, packed.data(), n, path_);
  std::fflush(file_);
  pending_.clear();
  pending_frames_ = 0;
}

void ReplayWriter::finish(const MatchResult& result) {
  if (finished_) return;
  flush_chunk();
  std::vector<uint8_t> body;
  ByteWriter w(body);
  w.put<uint64_t>(static_cast<uint64_t>(total_frames_));
  std::vector<uint8_t> res;
  ByteWriter rw(res);
  rw.put_array<double>(result.team_scores);
  rw.put<int32_t>(result.winner);
  rw.put<int64_t>(result.ticks);
  w.put<uint64_t>(res.size());
  body.insert(body.end(), res.begin(), res.end());
  write_all(file_, kEndTag, sizeof kEndTag, path_);
  write_all(file_, body.data(), body.size(), path_);
  write_value<uint32_t>(file_, crc32_of(body.data(), body.size()), path_);
  if (std::fflush(file_) != 0) throw ReplayError(path_ + ": write failed");
  finished_ = true;
}

namespace {

// Reads exactly n bytes or reports how the file ended.
bool read_exact(std::FILE* f, void* out, size_t n) { return std::fread(out, 1, n, f) == n; }

// Bytes left between the read position and the end of the file: no size field read from
// the file is trusted with an allocation larger than the bytes that could back it.
uint64_t bytes_left(std::FILE* f, uint64_t file_size) {
  const long pos = std::ftell(f);
  return pos < 0 || static_cast<uint64_t>(pos) > file_size ? 0 : file_size - static_cast<uint64_t>(pos);
}

// Decompresses one zstd frame that must hold exactly `expect` bytes. The output grows with
// what the frame really yields, so a forged size field costs no memory; more or fewer
// bytes than `expect`, bytes after the frame or a broken frame return false.
bool decompress_exact(const std::vector<uint8_t>& packed, uint64_t expect, std::vector<uint8_t>& out) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw std::bad_alloc();
  const uint64_t cap = expect + 1;  // room for one byte too many, to see that there is one
  out.assign(static_cast<size_t>(std::min<uint64_t>(cap, 1u << 16)), 0);
  ZSTD_inBuffer in{packed.data(), packed.size(), 0};
  size_t filled = 0;
  for (;;) {
    if (filled == out.size()) {
      if (out.size() == cap) return false;  // the frame holds more than `expect`
      out.resize(static_cast<size_t>(std::min<uint64_t>(cap, 2 * static_cast<uint64_t>(out.size()))));
    }
    ZSTD_outBuffer o{out.data(), out.size(), filled};
    const size_t r = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(r)) return false;
    filled = o.pos;
    if (r == 0) break;                                      // the frame is complete
    if (in.pos == in.size && o.pos < o.size) return false;  // input ended inside the frame
  }
  if (filled != expect || in.pos != in.size) return false;
  out.resize(filled);
  return true;
}

}  // namespace

ReplayReader::ReplayReader(const std::string& path, ReplayMode mode) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw ReplayError(path + ": cannot open replay: " + std::strerror(errno));
  uint64_t file_size = 0;
  if (std::fseek(file_, 0, SEEK_END) == 0) {
    const long end = std::ftell(file_);
    file_size = end > 0 ? static_cast<uint64_t>(end) : 0;
  }
  std::rewind(file_);
  try {
    read_header(file_size);
    index_records(file_size);
    if (!complete_) {
      warning_ = path_ + ": the replay has no end record (its writer did not finish); " +
                 std::to_string(total_frames_) + " frames in " + std::to_string(chunks_.size()) +
                 " complete chunks are readable";
      if (mode == ReplayMode::strict)
        throw ReplayError(path_ + ": truncated replay: no end record after " + std::to_string(total_frames_) +
                          " frames (use recover mode, e.g. --recover, "
                          "to read the complete chunks)");
    }
  } catch (const FormatError& e) {
    std::fclose(file_);
    file_ = nullptr;
    throw ReplayError(path_ + ": corrupt replay: " + e.what());
  } catch (...) {
    std::fclose(file_);
    file_ = nullptr;
    throw;
  }
}

void ReplayReader::fail_at(const std::string& why) const {
  const long pos = std::ftell(file_);
  throw ReplayError(path_ + ": " + why + " (at byte " + std::to_string(pos) + ")");
}

// Magic, version, then the checksummed header record.
void ReplayReader::read_header(uint64_t file_size) {
  char magic[8];
  if (!read_exact(file_, magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
    fail_at("not a ludus replay (bad magic bytes)");
  uint32_t version = 0;
  uint64_t hsize = 0;
  if (!read_exact(file_, &version, 4)) fail_at("truncated header");
  if (version < 1 || version > kReplayFormatVersion)
    fail_at("replay format version " + std::to_string(version) + " is not supported (this ludus reads 1 to " +
            std::to_string(kReplayFormatVersion) + ")");
  if (!read_exact(file_, &hsize, 8) || hsize > (1u << 28)) fail_at("truncated or corrupt header size");
  if (hsize + 4 > bytes_left(file_, file_size)) fail_at("truncated header");
  std::vector<uint8_t> hdr(hsize);
  uint32_t hcrc = 0;
  if (!read_exact(file_, hdr.data(), hsize) || !read_exact(file_, &hcrc, 4)) fail_at("truncated header");
  if (crc32_of(hdr.data(), hdr.size()) != hcrc) fail_at("header checksum mismatch: the file is corrupted");
  ByteReader r(hdr, path_ + " header");
  header_.format_version = r.get<uint32_t>();
  header_.env_name = r.get_string();
  header_.env_options_yaml = r.get_string();
  header_.seed = r.get<uint64_t>();
  const auto n_agents = r.get<uint64_t>();
  if (n_agents > 64) r.fail("too many agent entries");
  for (uint64_t i = 0; i < n_agents; ++i) header_.agents.push_back(r.get_string());
  header_.ludus_version = r.get_string();
  header_.created_utc = r.get_string();
  if (version >= 2) {
    header_.tick_rate_hz = r.get<double>();
    if (!(header_.tick_rate_hz >= 0 && header_.tick_rate_hz <= 1e6)) r.fail("implausible tick rate");
  }
  r.expect_end();
}

// Chunk records up to the end record; a record cut short (a killed writer) ends the index
// there, with complete_ left false.
void ReplayReader::index_records(uint64_t file_size) {
  for (;;) {
    char tag[4];
    const size_t got = std::fread(tag, 1, 4, file_);
    if (got != 4) return;  // no (complete) end record: the writer did not finish
    if (std::memcmp(tag, kEndTag, 4) == 0) return read_end_record(file_size);
    if (std::memcmp(tag, kChunkTag, 4) != 0) fail_at("unknown record tag: the file is corrupted");
    if (!read_chunk(file_size)) return;
  }
}

// One chunk record after its tag: indexed, not decoded. False when it is cut short.
bool ReplayReader::read_chunk(uint64_t file_size) {
  uint32_t count = 0, ccrc = 0;
  uint64_t raw = 0, packed = 0;
  const long chunk_start = std::ftell(file_) - 4;
  bool ok = read_exact(file_, &count, 4) && read_exact(file_, &raw, 8) && read_exact(file_, &packed, 8) &&
            read_exact(file_, &ccrc, 4);
  if (ok && (packed > kMaxChunkBytes || raw > kMaxChunkBytes || count == 0))
    fail_at("chunk " + std::to_string(chunks_.size()) + " has a corrupt size field");
  const long offset = std::ftell(file_);
  std::vector<uint8_t> data;
  if (ok && packed > bytes_left(file_, file_size)) ok = false;  // cut inside the chunk
  if (ok) {
    data.resize(packed);
    ok = read_exact(file_, data.data(), packed);
  }
  if (!ok) {
    // A chunk cut short: the writer was killed while writing it.
    std::fseek(file_, chunk_start, SEEK_SET);
    return false;
  }
  if (crc32_of(data.data(), data.size()) != ccrc)
    fail_at("chunk " + std::to_string(chunks_.size()) + " checksum mismatch: the file is corrupted");
  chunks_.push_back(Chunk{static_cast<uint64_t>(offset), packed, raw, count, total_frames_});
  total_frames_ += count;
  return true;
}

// The end record after its tag: frame count and the match result.
void ReplayReader::read_end_record(uint64_t file_size) {
  uint64_t total = 0, rsize = 0;
  std::vector<uint8_t> res;
  uint32_t ecrc = 0;
  bool ok = read_exact(file_, &total, 8) && read_exact(file_, &rsize, 8);
  if (ok && rsize > (1u << 20)) fail_at("end record has a corrupt size field");
  if (ok && rsize + 4 > bytes_left(file_, file_size)) ok = false;
  if (ok) {
    res.resize(rsize);
    ok = read_exact(file_, res.data(), rsize) && read_exact(file_, &ecrc, 4);
  }
  if (!ok) return;  // cut inside the end record: the writer was killed while finishing
  std::vector<uint8_t> body;
  ByteWriter bw(body);
  bw.put<uint64_t>(total);
  bw.put<uint64_t>(rsize);
  body.insert(body.end(), res.begin(), res.end());
  if (crc32_of(body.data(), body.size()) != ecrc) fail_at("end record checksum mismatch: the file is corrupted");
  if (static_cast<int64_t>(total) != total_frames_)
    fail_at("end record says " + std::to_string(total) + " frames, chunks hold " + std::to_string(total_frames_));
  ByteReader rr(res, path_ + " result");
  rr.get_array(result_.team_scores, 64);
  result_.winner = rr.get<int32_t>();
  result_.ticks = rr.get<int64_t>();
  rr.expect_end();
  char extra;
  if (std::fread(&extra, 1, 1, file_) != 0) fail_at("unexpected bytes after the end record");
  complete_ = true;
}

ReplayReader::~ReplayReader() {
  if (file_) std::fclose(file_);
}

void ReplayReader::load_chunk(size_t c) {
  const Chunk& ch = chunks_[c];
  std::vector<uint8_t> packed(ch.packed_size), raw;
  if (std::fseek(file_, static_cast<long>(ch.offset), SEEK_SET) != 0 ||
      !read_exact(file_, packed.data(), packed.size()))
    throw ReplayError(path_ + ": chunk " + std::to_string(c) + " could not be read again");
  if (!decompress_exact(packed, ch.raw_size, raw))
    throw ReplayError(path_ + ": chunk " + std::to_string(c) + " does not decompress: the file is corrupted");
  cached_frames_.clear();
  ByteReader r(raw, path_ + " chunk " + std::to_string(c));
  try {
    for (uint32_t i = 0; i < ch.frame_count; ++i) {
      const auto size = r.get<uint64_t>();
      if (size > r.remaining()) r.fail("frame size past the chunk's end");
      std::span<const uint8_t> fb(raw.data() + r.position(), size);
      ByteReader fr(fb, path_ + " frame " + std::to_string(ch.first_frame + i));
      cached_frames_.push_back(Frame::deserialize(fr));
      fr.expect_end();
      r.skip(size);
    }
    r.expect_end();
  } catch (const FormatError& e) {
    cached_frames_.clear();
    cached_chunk_ = SIZE_MAX;
    throw ReplayError(std::string("corrupt replay: ") + e.what());
  }
  cached_chunk_ = c;
}

const Frame& ReplayReader::frame(int64_t i) {
  if (i < 0 || i >= total_frames_)
    throw ReplayError(path_ + ": frame " + std::to_string(i) + " out of range [0, " + std::to_string(total_frames_) +
                      ")");
  size_t lo = 0, hi = chunks_.size();
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    if (chunks_[mid].first_frame <= i)
      lo = mid;
    else
      hi = mid;
  }
  if (cached_chunk_ != lo) load_chunk(lo);
  return cached_frames_[static_cast<size_t>(i - chunks_[lo].first_frame)];
}

}  // namespace ludus
