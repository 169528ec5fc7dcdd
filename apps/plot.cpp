// A small raster plotter: lines, bands, axes and stb_easy_font labels into an RGB buffer.
#include "plot.hpp"

#include "ludus/train/metrics_csv.hpp"

#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace ludus::cli {
namespace {

struct Rgb {
  uint8_t r, g, b;
};

class Canvas {
 public:
  Canvas(int w, int h) : w_(w), h_(h), px_(static_cast<size_t>(w * h * 3), 255) {}

  void set(int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    auto* p = &px_[static_cast<size_t>((y * w_ + x) * 3)];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  void blend(int x, int y, Rgb c, double alpha) {
    if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
    auto* p = &px_[static_cast<size_t>((y * w_ + x) * 3)];
    p[0] = static_cast<uint8_t>(p[0] * (1 - alpha) + c.r * alpha);
    p[1] = static_cast<uint8_t>(p[1] * (1 - alpha) + c.g * alpha);
    p[2] = static_cast<uint8_t>(p[2] * (1 - alpha) + c.b * alpha);
  }
  void line(double x0, double y0, double x1, double y1, Rgb c, int width = 2) {
    const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
    for (int i = 0; i <= steps; ++i) {
      const double t = static_cast<double>(i) / steps;
      const int x = static_cast<int>(std::lround(x0 + t * (x1 - x0))),
                y = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
      for (int dx = 0; dx < width; ++dx)
        for (int dy = 0; dy < width; ++dy) set(x + dx - width / 2, y + dy - width / 2, c);
    }
  }
  // Text through stb_easy_font's quads, scaled up.
  void text(double x, double y, const std::string& s, Rgb c, int scale = 2) {
    // stb_easy_font writes 64 bytes per quad and stops when the buffer is full; a glyph
    // such as '8' or 'M' takes up to 13 quads, so 300 bytes a character cut labels short
    // ("18.8M" drew as "18.8!").
    std::vector<char> buf(s.size() * 16 * 64 + 64);
    const int quads =
        stb_easy_font_print(0, 0, const_cast<char*>(s.c_str()), nullptr, buf.data(), static_cast<int>(buf.size()));
    const auto* v = reinterpret_cast<const float*>(buf.data());  // 4 vertices of x, y, z, color per quad
    for (int q = 0; q < quads; ++q) {
      const float* quad = v + q * 16;
      const int qx0 = static_cast<int>(quad[0]), qy0 = static_cast<int>(quad[1]);
      const int qx1 = static_cast<int>(quad[8]), qy1 = static_cast<int>(quad[9]);
      for (int yy = qy0 * scale; yy < qy1 * scale; ++yy)
        for (int xx = qx0 * scale; xx < qx1 * scale; ++xx) set(static_cast<int>(x) + xx, static_cast<int>(y) + yy, c);
    }
  }
  static int text_width(const std::string& s, int scale = 2) {
    return stb_easy_font_width(const_cast<char*>(s.c_str())) * scale;
  }
  void write_png(const std::string& path) const {
    if (!stbi_write_png(path.c_str(), w_, h_, 3, px_.data(), w_ * 3))
      throw std::runtime_error(path + ": cannot write PNG");
  }

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

std::string tick_label(double v) {
  const double a = std::abs(v);
  char buf[32];
  if (a >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  else if (a >= 1e3)
    std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

struct Series {
  std::vector<double> x, y, lo, hi;
};

struct Curve {
  Series s;
  Rgb color;
  std::string label;  // shown in the panel's legend when not empty
};

// One panel of curves on shared axes (the first curve's 95% band, if it has one, shaded).
void panel(Canvas& cv, int px, int py, int pw, int ph, const std::string& title, const std::vector<Curve>& curves,
           bool unit_range) {
  const Rgb axis{60, 60, 60}, grid{225, 225, 225};
  const int l = px + 70, r = px + pw - 20, t = py + 40, b = py + ph - 45;
  cv.text(px + (pw - Canvas::text_width(title)) / 2.0, py + 10, title, axis);
  bool any = false;
  double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
  for (const Curve& c : curves) {
    const Series& s = c.s;
    if (s.x.empty()) continue;
    const auto [ylo, yhi] = std::minmax_element(s.y.begin(), s.y.end());
    if (!any) x0 = s.x.front(), x1 = s.x.back(), y0 = *ylo, y1 = *yhi;
    x0 = std::min(x0, s.x.front()), x1 = std::max(x1, s.x.back());
    y0 = std::min(y0, *ylo), y1 = std::max(y1, *yhi);
    for (double v : s.lo) y0 = std::min(y0, v);
    for (double v : s.hi) y1 = std::max(y1, v);
    any = true;
  }
  if (!any) {
    cv.text(l + 20, (t + b) / 2.0, "no data yet", axis);
    return;
  }
  if (x1 <= x0) x1 = x0 + 1;
  if (unit_range) y0 = 0, y1 = 1;
  if (y1 - y0 < 1e-9) y0 -= 0.5, y1 += 0.5;
  auto X = [&](double v) { return l + (v - x0) / (x1 - x0) * (r - l); };
  auto Y = [&](double v) { return b - (v - y0) / (y1 - y0) * (b - t); };
  for (int k = 0; k <= 4; ++k) {
    const double yv = y0 + (y1 - y0) * k / 4, xv = x0 + (x1 - x0) * k / 4;
    cv.line(l, Y(yv), r, Y(yv), grid, 1);
    cv.text(std::max(2, l - 8 - Canvas::text_width(tick_label(yv))), Y(yv) - 6, tick_label(yv), axis);
    const double half = Canvas::text_width(tick_label(xv)) / 2.0;
    cv.text(std::min(X(xv) - half, px + pw - 4 - 2 * half), b + 8, tick_label(xv), axis);
  }
  cv.line(l, t, l, b, axis, 1);
  cv.line(l, b, r, b, axis, 1);
  cv.text((l + r) / 2.0 - Canvas::text_width("agent-steps") / 2.0, b + 26, "agent-steps", axis);
  for (const Curve& c : curves) {
    const Series& s = c.s;
    if (s.lo.empty()) continue;
    for (size_t i = 0; i + 1 < s.x.size(); ++i) {
      for (int xx = static_cast<int>(X(s.x[i])); xx <= static_cast<int>(X(s.x[i + 1])); ++xx) {
        const double f = (xx - X(s.x[i])) / std::max(1.0, X(s.x[i + 1]) - X(s.x[i]));
        const double lo = s.lo[i] + f * (s.lo[i + 1] - s.lo[i]), hi = s.hi[i] + f * (s.hi[i + 1] - s.hi[i]);
        for (int yy = static_cast<int>(Y(hi)); yy <= static_cast<int>(Y(lo)); ++yy) cv.blend(xx, yy, c.color, 0.18);
      }
    }
  }
  int legend_y = t + 6;
  for (const Curve& c : curves) {
    const Series& s = c.s;
    for (size_t i = 0; i + 1 < s.x.size(); ++i) cv.line(X(s.x[i]), Y(s.y[i]), X(s.x[i + 1]), Y(s.y[i + 1]), c.color);
    if (s.x.size() == 1) cv.line(X(s.x[0]) - 3, Y(s.y[0]), X(s.x[0]) + 3, Y(s.y[0]), c.color, 4);
    if (c.label.empty()) continue;
    cv.line(l + 12, legend_y + 7, l + 36, legend_y + 7, c.color, 3);
    cv.text(l + 44, legend_y, c.label, axis);
    legend_y += 22;
  }
}

using Table = rl::MetricsTable;

Table read_metrics(const std::string& metrics_csv, std::initializer_list<std::string> need) {
  std::ifstream in(metrics_csv, std::ios::binary);
  if (!in) throw std::runtime_error(metrics_csv + ": cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  return rl::read_metrics_table(text, metrics_csv, need);
}

}  // namespace

void write_learning_curves(const std::string& metrics_csv, const std::string& png_path) {
  const Table t = read_metrics(metrics_csv,
                               {"samples", "mean_return", "train_win", "entropy", "eval_win", "eval_low", "eval_high"});
  const auto at = [&](const std::vector<std::string>& f, const char* name) { return f[t.col.at(name)]; };
  Series ret, win, eval, ent;
  const auto add = [&](Series& s, double x, const std::string& v) {
    if (!v.empty()) s.x.push_back(x), s.y.push_back(std::stod(v));
  };
  for (const auto& f : t.rows) {
    if (at(f, "samples").empty()) continue;
    const double x = std::stod(at(f, "samples"));
    add(ret, x, at(f, "mean_return"));
    add(win, x, at(f, "train_win"));
    add(ent, x, at(f, "entropy"));
    if (!at(f, "eval_win").empty() && !at(f, "eval_low").empty() && !at(f, "eval_high").empty()) {
      eval.x.push_back(x), eval.y.push_back(std::stod(at(f, "eval_win")));
      eval.lo.push_back(std::stod(at(f, "eval_low"))), eval.hi.push_back(std::stod(at(f, "eval_high")));
    }
  }
  Canvas cv(1200, 800);
  panel(cv, 0, 0, 600, 400, "mean return per rollout", {{ret, Rgb{40, 100, 220}, ""}}, false);
  panel(cv, 600, 0, 600, 400, "training win rate", {{win, Rgb{220, 90, 40}, ""}}, true);
  panel(cv, 0, 400, 600, 400, "evaluation win rate (95% interval)", {{eval, Rgb{30, 160, 80}, ""}}, true);
  panel(cv, 600, 400, 600, 400, "policy entropy", {{ent, Rgb{140, 70, 190}, ""}}, false);
  cv.write_png(png_path);
}

void write_comparison(const std::vector<PlotGroup>& groups, const std::string& column, const std::string& png_path) {
  static const Rgb kColors[] = {{30, 110, 220}, {220, 80, 40},  {30, 160, 80},   {150, 70, 190},
                                {200, 150, 20}, {20, 170, 170}, {120, 120, 120}, {230, 60, 150}};
  if (groups.empty()) throw std::runtime_error("nothing to plot: name at least one LABEL=RUN_DIR");
  std::vector<Curve> curves;
  for (size_t g = 0; g < groups.size(); ++g) {
    // The k-th non-empty value of each run, averaged over the runs that have one; its
    // x is the mean of their agent-steps (runs of one config evaluate at the same steps).
    std::vector<double> sx, sy;
    std::vector<int> n;
    for (const auto& dir : groups[g].run_dirs) {
      const std::string csv = dir + "/metrics.csv";
      const Table t = read_metrics(csv, {"samples", column});
      size_t k = 0;
      for (const auto& f : t.rows) {
        const std::string& v = f[t.col.at(column)];
        if (v.empty() || f[t.col.at("samples")].empty()) continue;
        if (k == sx.size()) sx.push_back(0), sy.push_back(0), n.push_back(0);
        sx[k] += std::stod(f[t.col.at("samples")]), sy[k] += std::stod(v), ++n[k];
        ++k;
      }
    }
    Curve c{{}, kColors[g % std::size(kColors)], groups[g].label};
    for (size_t k = 0; k < sx.size(); ++k) c.s.x.push_back(sx[k] / n[k]), c.s.y.push_back(sy[k] / n[k]);
    c.label += " (" + std::to_string(groups[g].run_dirs.size()) + (groups[g].run_dirs.size() == 1 ? " run)" : " runs)");
    curves.push_back(std::move(c));
  }
  const bool unit = column.find("win") != std::string::npos || column.find("draw") != std::string::npos ||
                    column.find("loss") != std::string::npos;
  Canvas cv(1000, 600);
  panel(cv, 0, 0, 1000, 600, column + ", mean over each label's runs", curves, unit);
  cv.write_png(png_path);
}
}  // namespace ludus::cli
