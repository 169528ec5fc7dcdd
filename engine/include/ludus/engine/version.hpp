// The ludus version, as built.
#pragma once

namespace ludus {

// "MAJOR.MINOR.PATCH" of the engine library in use.
const char* version();

}  // namespace ludus
