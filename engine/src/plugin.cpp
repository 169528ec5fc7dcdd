// dlopen-based plugin loading with an ABI stamp check.
#include "ludus/engine/plugin.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "ludus/engine/registry.hpp"

namespace ludus {

const char* host_abi_stamp() { return LUDUS_ABI_STAMP; }

namespace {
std::vector<PluginStage>& stages() {
  static std::vector<PluginStage> s;
  return s;
}
void run_stage(std::function<void()> PluginStage::*which) {
  for (auto& st : stages())
    if (st.*which) (st.*which)();
}
}  // namespace

void add_plugin_stage(PluginStage stage) { stages().push_back(std::move(stage)); }

std::vector<std::string> load_plugin(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw std::runtime_error(path + ": plugin file not found");
  const std::string abs = fs::absolute(path, ec).string();
  // dlopen of a file already open returns it without running its registrations again.
  static std::mutex loaded_mu;
  static std::vector<std::string> loaded;
  const std::string canonical = fs::weakly_canonical(abs, ec).string();
  {
    std::lock_guard lock(loaded_mu);
    if (std::find(loaded.begin(), loaded.end(), canonical) != loaded.end())
      throw std::runtime_error(path + ": plugin refused: this file is already loaded");
  }

  auto& reg = EnvRegistry::global();
  run_stage(&PluginStage::begin);
  reg.begin_capture(abs);
  void* handle = dlopen(abs.c_str(), RTLD_NOW | RTLD_LOCAL);
  auto captured = reg.end_capture();
  if (!handle) {
    const char* err = dlerror();
    run_stage(&PluginStage::discard);
    throw std::runtime_error(path + ": cannot load plugin: " + (err ? err : "unknown error"));
  }
  auto refuse = [&](const std::string& why) {
    captured.clear();  // the entries' code lives in the library: drop them before closing it
    run_stage(&PluginStage::discard);
    dlclose(handle);
    throw std::runtime_error(path + ": plugin refused: " + why);
  };
  using StampFn = const char* (*)();
  auto stamp_fn = reinterpret_cast<StampFn>(dlsym(handle, "ludus_plugin_abi"));
  if (!stamp_fn) refuse("it has no ludus_plugin_abi() stamp (build it with ludus_add_env_plugin)");
  const char* stamp = stamp_fn();
  if (!stamp || std::strcmp(stamp, host_abi_stamp()) != 0)
    refuse(std::string("ABI stamp '") + (stamp ? stamp : "(null)") + "' does not match this ludus ('" +
           host_abi_stamp() + "'); rebuild the plugin against this ludus");
  if (captured.empty()) refuse("it registered no env (is LUDUS_REGISTER_ENV in a compiled file?)");
  std::vector<std::string> names;
  for (const auto& e : captured) names.push_back(e.name);
  try {
    run_stage(&PluginStage::check);
    reg.commit(std::move(captured));
  } catch (const std::exception& e) {
    refuse(e.what());
  }
  run_stage(&PluginStage::commit);
  {
    std::lock_guard lock(loaded_mu);
    loaded.push_back(canonical);
  }
  // The handle stays open for the life of the process: registered code lives in it.
  return names;
}

std::vector<std::string> load_plugins_from_env() {
  std::vector<std::string> problems;
  const char* env = std::getenv("LUDUS_PLUGIN_PATH");
  if (!env || !*env) return problems;
  std::stringstream ss(env);
  for (std::string dir; std::getline(ss, dir, ':');) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec), end;
    if (ec) {
      problems.push_back("LUDUS_PLUGIN_PATH: cannot read directory " + dir + ": " + ec.message());
      continue;
    }
    std::vector<std::string> files;
    for (; it != end; it.increment(ec)) {
      const auto& p = it->path();
      if (p.extension() == ".so" && p.filename().string().rfind("lib", 0) == 0) files.push_back(p.string());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      try {
        load_plugin(f);
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
    }
  }
  return problems;
}

}  // namespace ludus
