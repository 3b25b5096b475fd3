// checkConfigFile: `evrouterd --check` and `evrctl check` — load and compile a config offline,
// print every diagnostic (file:line:col) to `err` and the compiled routes to `out`.
#pragma once

#include <iosfwd>
#include <string>

namespace evr::topology {

// 0 when the config is valid (warnings allowed), 1 when not.
int checkConfigFile(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace evr::topology
