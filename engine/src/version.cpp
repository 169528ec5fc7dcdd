// The version string, set by CMake from project(VERSION).
#include "ludus/engine/version.hpp"

namespace ludus {

const char* version() { return LUDUS_VERSION_STRING; }

}  // namespace ludus
