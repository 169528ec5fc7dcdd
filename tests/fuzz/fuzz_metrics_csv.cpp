// metrics.csv as --resume reads it back (any text: a file cut by a kill, edited, damaged).
// First byte: the update the run resumes at; the rest: the file. What is kept must keep
// itself whole when read again (nothing more dropped, no line changed).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ludus/train/metrics_csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int64_t update = static_cast<int64_t>(data[0]) - 1;
  const std::string_view csv(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto kept = ludus::rl::metrics_through_update(csv, update);
  if (kept.text.size() > csv.size() + 1) std::abort();  // at most the missing final '\n'
  const auto again = ludus::rl::metrics_through_update(kept.text, update);
  if (again.text != kept.text || !again.unreadable.empty()) std::abort();
  return 0;
}
