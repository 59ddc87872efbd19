// Reading whole files, with errors that name the path.
#pragma once

#include <string>

#include "common/result.h"

namespace qsplit {

// The file's bytes, or kNotFound "<path>: cannot open the file (<reason>)".
Result<std::string> readFile(const std::string& path);

}  // namespace qsplit
