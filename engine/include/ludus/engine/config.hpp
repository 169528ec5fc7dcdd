// Typed configuration: YAML (files or --set overrides) mapped into option structs.
//
// A game's or tool's options are a plain struct with defaults and a
// `void visit(OptionVisitor&)` that names each field, its range and its meaning:
//
//   struct TagOptions {
//     int team_size = 2;
//     void visit(ludus::OptionVisitor& v) {
//       v.value("team_size", team_size, 1, 4, "players per team");
//     }
//   };
//   auto opts = ludus::bind_options<TagOptions>(tree);   // throws ConfigError
//
// Errors name the source (file, or the --set assignment), line, column, key, what was
// expected and what was found. Unknown keys are errors. No value is ever clamped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ludus {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A YAML document (always a map at the top) plus where each value came from.
// Cheap to copy (shared, copy-on-write for overrides).
class ConfigTree {
 public:
  ConfigTree();  // an empty map
  static ConfigTree from_file(const std::string& path);
  static ConfigTree from_string(std::string_view yaml, std::string source_name);

  // Applies "dotted.key=value"; the value is parsed as YAML ("3", "true", "[1, 2]").
  void apply_override(std::string_view assignment);
  bool has(std::string_view key) const;
  // The map under `key`, or an empty map (attributed to this tree's source) if absent.
  ConfigTree child(std::string_view key) const;
  // The scalar under `key` as text, or `fallback` if absent.
  std::string get_string(std::string_view key, std::string_view fallback) const;
  std::string to_yaml() const;
  const std::string& source() const;

  struct Impl;
  explicit ConfigTree(std::shared_ptr<Impl> impl);
  const std::shared_ptr<Impl>& impl() const { return impl_; }

 private:
  std::shared_ptr<Impl> impl_;
};

// Walks an option struct's fields. Implemented by the YAML reader and writer.
class OptionVisitor {
 public:
  virtual ~OptionVisitor() = default;
  virtual void value(std::string_view key, int64_t& v, int64_t lo, int64_t hi, std::string_view doc) = 0;
  virtual void value(std::string_view key, double& v, double lo, double hi, std::string_view doc) = 0;
  virtual void value(std::string_view key, bool& v, std::string_view doc) = 0;
  // `choices` empty: any string.
  virtual void value(std::string_view key, std::string& v, std::span<const std::string_view> choices,
                     std::string_view doc) = 0;
  virtual void value(std::string_view key, std::vector<double>& v, std::string_view doc) = 0;
  virtual void section(std::string_view key, const std::function<void(OptionVisitor&)>& body, std::string_view doc) = 0;
  // A map kept as raw YAML, bound later by someone who knows its type (a game's options).
  virtual void subtree(std::string_view key, ConfigTree& raw, std::string_view doc) = 0;
  // A list of maps (scenario bodies, per-tick scripts). Reading calls `resize` with the
  // list's length, then `item` once per element with a visitor for that element's keys
  // (errors name the element as key.N); writing calls `item` for each of `size()`
  // elements. The default throws ConfigError: a visitor opts in.
  virtual void section_list(std::string_view key, const std::function<size_t()>& size,
                            const std::function<void(size_t)>& resize,
                            const std::function<void(OptionVisitor&, size_t)>& item, std::string_view doc);

  void value(std::string_view key, int& v, int lo, int hi, std::string_view doc) {
    int64_t t = v;
    value(key, t, lo, hi, doc);
    v = static_cast<int>(t);
  }
  void value(std::string_view key, float& v, double lo, double hi, std::string_view doc) {
    double t = v;
    value(key, t, lo, hi, doc);
    v = static_cast<float>(t);
  }
  void value(std::string_view key, uint64_t& v, std::string_view doc) {
    int64_t t = static_cast<int64_t>(v);
    value(key, t, 0, INT64_MAX, doc);
    v = static_cast<uint64_t>(t);
  }
  // A list of option structs (each with a visit()).
  template <class T>
  void list(std::string_view key, std::vector<T>& items, std::string_view doc) {
    section_list(
        key, [&] { return items.size(); }, [&](size_t n) { items.resize(n); },
        [&](OptionVisitor& v, size_t i) { items[i].visit(v); }, doc);
  }
  template <size_t N>
  void value(std::string_view key, std::string& v, const std::string_view (&choices)[N], std::string_view doc) {
    value(key, v, std::span<const std::string_view>(choices, N), doc);
  }
  // An enum chosen by name: names[i] is the enumerator with value i. Read and written as
  // the name, with the same checks and messages as a string choice; code past the config
  // layer compares enumerators, not strings.
  template <class E, size_t N>
  requires std::is_enum_v<E>
  void value(std::string_view key, E& v, const std::string_view (&names)[N], std::string_view doc) {
    std::string name(names[static_cast<size_t>(v)]);
    value(key, name, names, doc);
    for (size_t i = 0; i < N; ++i)
      if (names[i] == name) v = static_cast<E>(i);
  }
};

// The name of enumerator `v` in its names table (see OptionVisitor::value for enums).
template <class E, size_t N>
requires std::is_enum_v<E>
constexpr std::string_view enum_name(E v, const std::string_view (&names)[N]) { return names[static_cast<size_t>(v)]; }

using OptionVisit = std::function<void(OptionVisitor&)>;

// Reads `tree` into the fields `visit` names; throws ConfigError.
void bind(const ConfigTree& tree, const OptionVisit& visit);
// The fields as YAML, each with its meaning and range as a comment.
std::string to_yaml(const OptionVisit& visit, bool with_comments = true);

template <class T>
T bind_options(const ConfigTree& tree) {
  T options;
  bind(tree, [&](OptionVisitor& v) { options.visit(v); });
  return options;
}

template <class T>
std::string options_yaml(T options, bool with_comments = true) {
  return to_yaml([&](OptionVisitor& v) { options.visit(v); }, with_comments);
}

}  // namespace ludus
