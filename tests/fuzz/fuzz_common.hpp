// Shared helpers of the libFuzzer targets (scripts/fuzz.sh builds and runs them).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace ludus_fuzz {

// A file of this process for readers that take a path; rewritten for every input.
inline const std::string& write_temp(const std::string& tag, const uint8_t* data, size_t size) {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("ludus_fuzz_" + tag + "_" + std::to_string(::getpid()))).string();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace ludus_fuzz
