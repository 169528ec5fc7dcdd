// metrics.csv read back: the rows --resume keeps, and the table `ludus plot` reads.
#include "ludus/train/metrics_csv.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace ludus::rl {
namespace {

// The next line of `csv` (without its '\n'), removed from it.
std::string_view take_line(std::string_view& csv) {
  const size_t end = csv.find('\n');
  const std::string_view line = csv.substr(0, end);
  csv = end == std::string_view::npos ? std::string_view() : csv.substr(end + 1);
  return line;
}

// The fields of one line split at commas (an empty line has one empty field).
std::vector<std::string> split_fields(std::string_view line) {
  std::vector<std::string> f;
  for (;;) {
    const size_t c = line.find(',');
    f.emplace_back(line.substr(0, c));
    if (c == std::string_view::npos) return f;
    line.remove_prefix(c + 1);
  }
}

}  // namespace

KeptMetrics metrics_through_update(std::string_view csv, int64_t update) {
  KeptMetrics out;
  size_t line_no = 0;
  while (!csv.empty()) {
    const std::string_view line = take_line(csv);
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

MetricsTable read_metrics_table(std::string_view csv, const std::string& name,
                                std::initializer_list<std::string> need) {
  MetricsTable t;
  size_t line_no = 0, width = 0;
  while (!csv.empty()) {
    std::string_view line = take_line(csv);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto f = split_fields(line);
    if (++line_no == 1) {
      for (size_t i = 0; i < f.size(); ++i) t.col[f[i]] = i;
      width = f.size();
      for (const auto& n : need)
        if (!t.col.count(n)) throw std::runtime_error(name + ": no column '" + n + "'");
      continue;
    }
    if (f.size() < width) f.resize(width);
    for (const auto& n : need) {
      std::string& v = f[t.col.at(n)];
      if (v.empty()) continue;
      size_t used = 0;
      double d = 0;
      try {
        d = std::stod(v, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != v.size() || used == 0)
        throw std::runtime_error(name + ":" + std::to_string(line_no) + ": column '" + n + "' is not a number: '" + v +
                                 "'");
      if (!std::isfinite(d)) v.clear();  // nan / inf: a point left out, not an error
    }
    t.rows.push_back(std::move(f));
  }
  if (line_no == 0) throw std::runtime_error(name + ": empty");
  return t;
}

}  // namespace ludus::rl
