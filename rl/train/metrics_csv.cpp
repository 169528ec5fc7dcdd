// metrics.csv rows kept on --resume (see metrics_csv.hpp).
#include "ludus/train/metrics_csv.hpp"

#include <charconv>

namespace ludus::rl {

KeptMetrics metrics_through_update(std::string_view csv, int64_t update) {
  KeptMetrics out;
  size_t line_no = 0;
  while (!csv.empty()) {
    const size_t end = csv.find('\n');
    const std::string_view line = csv.substr(0, end);
    csv = end == std::string_view::npos ? std::string_view() : csv.substr(end + 1);
    ++line_no;
    if (line_no == 1) {
      out.text.append(line).push_back('\n');
      continue;
    }
    const std::string_view first = line.substr(0, line.find(','));
    int64_t u = 0;
    const auto [ptr, ec] = std::from_chars(first.data(), first.data() + first.size(), u);
    if (ec != std::errc() || ptr != first.data() + first.size() || first.empty()) {
      out.unreadable.push_back(line_no);
      continue;
    }
    if (u <= update) out.text.append(line).push_back('\n');
  }
  return out;
}

}  // namespace ludus::rl
