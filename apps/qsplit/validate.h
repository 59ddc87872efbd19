// `qsplit validate`: checks a mirrord config and custom resources without running anything.
#pragma once

#include <string>

namespace qsplit::cli {

// Prints what was understood, or the first error (naming file and field). Exit code 0 or 2.
int runValidate(const std::string& config_path, const std::string& resources_path);

}  // namespace qsplit::cli
