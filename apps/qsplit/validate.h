// `qsplit validate`: checks a mirrord config and custom resources without running anything.
#pragma once

#include <string>

namespace qsplit::cli {

// Prints what was understood as a table, then OK or every error (naming file and field), one
// per line; `json`: one JSON document with the queues, the resources and the errors. Exit
// code 0 or 2.
int runValidate(const std::string& config_path, const std::string& resources_path, bool json);

}  // namespace qsplit::cli
