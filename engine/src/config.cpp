// YAML-backed ConfigTree, the option reader (with located errors) and the YAML writer.
#include "ludus/engine/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace ludus {

// yaml-cpp nodes have reference semantics (assigning to a Node writes into the node it
// refers to) and lose their source marks when cloned. So a tree is never written
// through a shared node: overrides clone, and every position is recorded at parse time.
struct Position {
  int line = -1, column = -1;  // 0-based, as yaml-cpp reports them
};
struct ConfigTree::Impl {
  YAML::Node root;
  std::string source;
  std::string prefix;                            // dotted path of root within the file
  std::map<std::string, std::string> overrides;  // full dotted path -> "--set k=v"
  // Full dotted path -> where its key and its value stand in the source file.
  std::shared_ptr<const std::map<std::string, std::pair<Position, Position>>> marks;

  // Same source, prefix, overrides and marks; a fresh, empty root.
  std::shared_ptr<Impl> derive() const {
    auto d = std::make_shared<Impl>();
    d->source = source;
    d->prefix = prefix;
    d->overrides = overrides;
    d->marks = marks;
    return d;
  }
};

namespace {

std::string join_key(const std::string& prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
}

std::string at(const std::string& source, Position p) {
  if (p.line < 0) return source;
  return source + ":" + std::to_string(p.line + 1) + ":" + std::to_string(p.column + 1);
}

// Where the value (or, with `of_key`, the key) at `path` came from.
std::string location(const ConfigTree::Impl& ctx, const std::string& path, bool of_key = false) {
  if (auto it = ctx.overrides.find(path); it != ctx.overrides.end()) return it->second;
  if (ctx.marks) {
    if (auto it = ctx.marks->find(path); it != ctx.marks->end())
      return at(ctx.source, of_key ? it->second.first : it->second.second);
  }
  return ctx.source;
}

void record_marks(const YAML::Node& node, const std::string& prefix,
                  std::map<std::string, std::pair<Position, Position>>& out) {
  if (node.IsSequence()) {  // elements of lists are addressed as key.N
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string path = prefix + "." + std::to_string(i);
      const YAML::Mark m = node[i].Mark();
      out[path] = {Position{m.line, m.column}, Position{m.line, m.column}};
      record_marks(node[i], path, out);
    }
    return;
  }
  if (!node.IsMap()) return;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) continue;
    const std::string path = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    const YAML::Mark k = kv.first.Mark(), v = kv.second.Mark();
    out[path] = {Position{k.line, k.column}, Position{v.line, v.column}};
    record_marks(kv.second, path, out);
  }
}

std::string shortest(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string scalar_text(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a map";
  return "nothing";
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

class YamlReader final : public OptionVisitor {
 public:
  YamlReader(YAML::Node node, const ConfigTree::Impl& ctx, std::string prefix)
      : node_(std::move(node)), ctx_(ctx), prefix_(std::move(prefix)) {}

  void value(std::string_view key, int64_t& v, int64_t lo, int64_t hi, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    int64_t parsed = 0;
    bool ok = n.IsScalar();
    if (ok) {
      const std::string& s = n.Scalar();
      auto res = std::from_chars(s.data(), s.data() + s.size(), parsed);
      ok = res.ec == std::errc() && res.ptr == s.data() + s.size();
    }
    if (!ok || parsed < lo || parsed > hi) fail(key, n, expected);
    v = parsed;
  }

  void value(std::string_view key, double& v, double lo, double hi, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    const std::string expected = "a number in [" + shortest(lo) + ", " + shortest(hi) + "]";
    double parsed = 0;
    bool ok = n.IsScalar();
    if (ok) {
      try {
        parsed = n.as<double>();
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok || !std::isfinite(parsed) || parsed < lo || parsed > hi) fail(key, n, expected);
    v = parsed;
  }

  void value(std::string_view key, bool& v, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    bool ok = n.IsScalar();
    bool parsed = false;
    if (ok) {
      try {
        parsed = n.as<bool>();
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok) fail(key, n, "a boolean (true or false)");
    v = parsed;
  }

  void value(std::string_view key, std::string& v, std::span<const std::string_view> choices,
             std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    std::string expected = "a string";
    if (!choices.empty()) {
      expected = "one of";
      for (size_t i = 0; i < choices.size(); ++i) expected += (i ? ", " : " ") + std::string(choices[i]);
    }
    if (!n.IsScalar()) fail(key, n, expected);
    const std::string& s = n.Scalar();
    if (!choices.empty() && std::find(choices.begin(), choices.end(), s) == choices.end()) fail(key, n, expected);
    v = s;
  }

  void value(std::string_view key, std::vector<double>& v, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    std::vector<double> parsed;
    bool ok = n.IsSequence();
    if (ok) {
      for (const auto& item : n) {
        try {
          parsed.push_back(item.as<double>());
        } catch (const YAML::Exception&) {
          ok = false;
          break;
        }
        if (!std::isfinite(parsed.back())) ok = false;
      }
    }
    if (!ok) fail(key, n, "a list of finite numbers");
    v = std::move(parsed);
  }

  void section(std::string_view key, const std::function<void(OptionVisitor&)>& body, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    if (!n.IsMap()) fail(key, n, "a map of options");
    YamlReader inner(n, ctx_, join_key(prefix_, key));
    body(inner);
    inner.finish();
  }

  void section_list(std::string_view key, const std::function<size_t()>&, const std::function<void(size_t)>& resize,
                    const std::function<void(OptionVisitor&, size_t)>& item, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    if (!n.IsSequence()) fail(key, n, "a list of maps");
    for (size_t i = 0; i < n.size(); ++i)
      if (!n[i].IsMap()) fail(std::string(key) + "." + std::to_string(i), n[i], "a map");
    resize(n.size());
    for (size_t i = 0; i < n.size(); ++i) {
      YamlReader inner(n[i], ctx_, join_key(prefix_, std::string(key) + "." + std::to_string(i)));
      item(inner, i);
      inner.finish();
    }
  }

  void subtree(std::string_view key, ConfigTree& raw, std::string_view) override {
    YAML::Node n;
    if (!lookup(key, n)) return;
    if (!n.IsMap()) fail(key, n, "a map of options");
    auto impl = ctx_.derive();
    impl->root.reset(YAML::Clone(n));
    impl->prefix = join_key(prefix_, key);
    raw = ConfigTree(impl);
  }

  // Every key in the map must have been visited.
  void finish() const {
    if (!node_.IsDefined() || node_.IsNull()) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.Scalar();
      if (seen_.count(key)) continue;
      std::string msg =
          location(ctx_, join_key(prefix_, key), /*of_key=*/true) + ": unknown key '" + join_key(prefix_, key) + "'";
      std::string best;
      size_t best_d = 3;
      for (const auto& k : known_) {
        const size_t d = edit_distance(k, key);
        if (d < best_d) best_d = d, best = k;
      }
      if (!best.empty()) msg += " (did you mean '" + best + "'?)";
      msg += "; known keys:";
      for (size_t i = 0; i < known_.size(); ++i) msg += (i ? ", " : " ") + known_[i];
      throw ConfigError(msg);
    }
  }

 private:
  bool lookup(std::string_view key, YAML::Node& out) {
    known_.emplace_back(key);
    seen_.insert(std::string(key));
    if (!node_.IsDefined() || node_.IsNull()) return false;
    const YAML::Node n = node_[std::string(key)];
    if (!n.IsDefined()) return false;
    out = n;
    return true;
  }

  [[noreturn]] void fail(std::string_view key, const YAML::Node& n, const std::string& expected) const {
    const std::string path = join_key(prefix_, key);
    throw ConfigError(location(ctx_, path) + ": key '" + path + "': expected " + expected + ", got " + scalar_text(n));
  }

  YAML::Node node_;
  const ConfigTree::Impl& ctx_;
  std::string prefix_;
  std::set<std::string> seen_;
  std::vector<std::string> known_;
};

class YamlWriter final : public OptionVisitor {
 public:
  YamlWriter(YAML::Emitter& out, bool comments) : out_(out), comments_(comments) {}

  void value(std::string_view key, int64_t& v, int64_t lo, int64_t hi, std::string_view doc) override {
    out_ << YAML::Key << std::string(key) << YAML::Value << v;
    comment(doc, "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  void value(std::string_view key, double& v, double lo, double hi, std::string_view doc) override {
    out_ << YAML::Key << std::string(key) << YAML::Value << shortest(v);
    comment(doc, "[" + shortest(lo) + ", " + shortest(hi) + "]");
  }
  void value(std::string_view key, bool& v, std::string_view doc) override {
    out_ << YAML::Key << std::string(key) << YAML::Value << v;
    comment(doc, "");
  }
  void value(std::string_view key, std::string& v, std::span<const std::string_view> choices,
             std::string_view doc) override {
    out_ << YAML::Key << std::string(key) << YAML::Value << v;
    std::string range;
    for (size_t i = 0; i < choices.size(); ++i) range += (i ? "|" : "") + std::string(choices[i]);
    comment(doc, range);
  }
  void value(std::string_view key, std::vector<double>& v, std::string_view doc) override {
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (double d : v) out_ << shortest(d);
    out_ << YAML::EndSeq;
    comment(doc, "");
  }
  void section(std::string_view key, const std::function<void(OptionVisitor&)>& body, std::string_view doc) override {
    if (comments_ && !doc.empty()) out_ << YAML::Newline << YAML::Comment(std::string(doc));
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::BeginMap;
    body(*this);
    out_ << YAML::EndMap;
  }
  void section_list(std::string_view key, const std::function<size_t()>& size, const std::function<void(size_t)>&,
                    const std::function<void(OptionVisitor&, size_t)>& item, std::string_view doc) override {
    if (comments_ && !doc.empty()) out_ << YAML::Newline << YAML::Comment(std::string(doc));
    out_ << YAML::Key << std::string(key) << YAML::Value << YAML::BeginSeq;
    for (size_t i = 0; i < size(); ++i) {
      out_ << YAML::BeginMap;
      item(*this, i);
      out_ << YAML::EndMap;
    }
    out_ << YAML::EndSeq;
  }
  void subtree(std::string_view key, ConfigTree& raw, std::string_view doc) override {
    if (comments_ && !doc.empty()) out_ << YAML::Newline << YAML::Comment(std::string(doc));
    out_ << YAML::Key << std::string(key) << YAML::Value;
    if (raw.impl() && raw.impl()->root.IsMap() && raw.impl()->root.size() > 0)
      out_ << raw.impl()->root;
    else
      out_ << YAML::Flow << YAML::BeginMap << YAML::EndMap;
  }

 private:
  void comment(std::string_view doc, const std::string& range) {
    if (!comments_) return;
    std::string c(doc);
    if (!range.empty()) c += (c.empty() ? "" : " ") + range;
    if (!c.empty()) out_ << YAML::Comment(c);
  }
  YAML::Emitter& out_;
  bool comments_;
};

std::shared_ptr<ConfigTree::Impl> parse(std::string_view text, std::string source) {
  auto impl = std::make_shared<ConfigTree::Impl>();
  impl->source = std::move(source);
  try {
    impl->root.reset(YAML::Load(std::string(text)));
  } catch (const YAML::ParserException& e) {
    throw ConfigError(impl->source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                      ": YAML syntax error: " + e.msg);
  }
  if (!impl->root.IsDefined() || impl->root.IsNull()) {
    impl->root.reset(YAML::Node(YAML::NodeType::Map));
  } else if (!impl->root.IsMap()) {
    const YAML::Mark m = impl->root.Mark();
    throw ConfigError(at(impl->source, Position{m.line, m.column}) + ": expected a map of options at the top, got " +
                      scalar_text(impl->root));
  }
  auto marks = std::make_shared<std::map<std::string, std::pair<Position, Position>>>();
  record_marks(impl->root, "", *marks);
  impl->marks = std::move(marks);
  return impl;
}

}  // namespace

void OptionVisitor::section_list(std::string_view key, const std::function<size_t()>&,
                                 const std::function<void(size_t)>&, const std::function<void(OptionVisitor&, size_t)>&,
                                 std::string_view) {
  throw ConfigError("key '" + std::string(key) + "': this option reader does not support lists of maps");
}

ConfigTree::ConfigTree() : impl_(std::make_shared<Impl>()) {
  impl_->root.reset(YAML::Node(YAML::NodeType::Map));
  impl_->source = "<defaults>";
}

ConfigTree::ConfigTree(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ConfigTree ConfigTree::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot open config file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ConfigTree(parse(ss.str(), path));
}

ConfigTree ConfigTree::from_string(std::string_view yaml, std::string source_name) {
  return ConfigTree(parse(yaml, std::move(source_name)));
}

void ConfigTree::apply_override(std::string_view assignment) {
  const std::string where = "--set " + std::string(assignment);
  const size_t eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError(where + ": expected key=value (for example team_size=3)");
  const std::string key(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(where + ": value is not valid YAML: " + e.msg);
  }
  if (!value.IsDefined() || value.IsNull()) value = YAML::Node(text);

  // Copy on write: other holders of this tree keep their values.
  auto impl = impl_->derive();
  impl->root.reset(YAML::Clone(impl_->root));
  std::vector<std::string> parts;
  std::stringstream ks(key);
  for (std::string part; std::getline(ks, part, '.');) {
    if (part.empty()) throw ConfigError(where + ": empty component in key '" + key + "'");
    parts.push_back(part);
  }
  YAML::Node node = impl->root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = node[parts[i]];
    if (!next.IsDefined() || next.IsNull()) {
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = node[parts[i]];
    } else if (!next.IsMap()) {
      throw ConfigError(where + ": '" + parts[i] + "' is a value, not a map of options");
    }
    node.reset(next);
  }
  node[parts.back()] = value;
  impl->overrides[join_key(impl->prefix, key)] = where;
  impl_ = impl;
}

bool ConfigTree::has(std::string_view key) const {
  return impl_->root.IsMap() && impl_->root[std::string(key)].IsDefined();
}

ConfigTree ConfigTree::child(std::string_view key) const {
  auto impl = impl_->derive();
  impl->prefix = join_key(impl_->prefix, key);
  const YAML::Node n = has(key) ? impl_->root[std::string(key)] : YAML::Node();
  if (!n.IsDefined() || n.IsNull()) {
    impl->root.reset(YAML::Node(YAML::NodeType::Map));
  } else if (!n.IsMap()) {
    throw ConfigError(location(*impl_, impl->prefix) + ": key '" + impl->prefix + "': expected a map of options, got " +
                      scalar_text(n));
  } else {
    impl->root.reset(YAML::Clone(n));
  }
  return ConfigTree(impl);
}

std::string ConfigTree::get_string(std::string_view key, std::string_view fallback) const {
  if (!has(key)) return std::string(fallback);
  const YAML::Node n = impl_->root[std::string(key)];
  if (!n.IsScalar())
    throw ConfigError(location(*impl_, join_key(impl_->prefix, key)) + ": key '" + join_key(impl_->prefix, key) +
                      "': expected a string, got " + scalar_text(n));
  return n.Scalar();
}

std::string ConfigTree::to_yaml() const {
  YAML::Emitter out;
  out << impl_->root;
  return out.c_str();
}

const std::string& ConfigTree::source() const { return impl_->source; }

void bind(const ConfigTree& tree, const OptionVisit& visit) {
  YamlReader reader(tree.impl()->root, *tree.impl(), tree.impl()->prefix);
  visit(reader);
  reader.finish();
}

std::string to_yaml(const OptionVisit& visit, bool with_comments) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  YamlWriter writer(out, with_comments);
  visit(writer);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace ludus
