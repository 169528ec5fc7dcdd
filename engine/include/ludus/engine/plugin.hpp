// Plugins: shared libraries that register games with LUDUS_REGISTER_ENV when loaded.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ludus {

// Identifies the ludus version and C++ ABI a plugin was compiled against. A plugin
// whose stamp differs from the host's is refused.
#define LUDUS_ABI_STAMP "ludus-abi-1;cxx11abi=" LUDUS_STRINGIFY(_GLIBCXX_USE_CXX11_ABI)
#define LUDUS_STRINGIFY_INNER(x) #x
#define LUDUS_STRINGIFY(x) LUDUS_STRINGIFY_INNER(x)

const char* host_abi_stamp();

// Put once in a plugin (the CMake helper ludus_add_env_plugin adds it for you).
#define LUDUS_DEFINE_PLUGIN() \
  extern "C" __attribute__((visibility("default"))) const char* ludus_plugin_abi() { return LUDUS_ABI_STAMP; }

// Registries outside the engine (the agent registry in ludus::agents) hold back what a
// plugin registers while it loads, like the env registry does: `begin` starts holding,
// `check` throws std::runtime_error to refuse the plugin (a name already taken), then
// either `commit` adds the held entries or `discard` drops them (before the library is
// closed, since their code lives in it).
struct PluginStage {
  std::function<void()> begin, check, commit, discard;
};
void add_plugin_stage(PluginStage stage);

// Loads a plugin and registers its games. Throws std::runtime_error naming the file
// and the reason (not found, not a shared library, no or mismatched ABI stamp, a game
// name already taken); nothing is registered from a refused plugin.
// Returns the names of the games it registered.
std::vector<std::string> load_plugin(const std::string& path);

// Loads every lib*.so in the directories of LUDUS_PLUGIN_PATH (colon-separated).
// Returns one line per problem; a broken plugin never stops the others.
std::vector<std::string> load_plugins_from_env();

}  // namespace ludus
