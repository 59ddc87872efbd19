// Named spdlog loggers, one per module, all writing to stderr with one format.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace qsplit {

// The logger for `module` ("router", "memory", "demo", ...), created on first use.
std::shared_ptr<spdlog::logger> logger(const std::string& module);

// Sets the level of every logger from a spec: a plain level ("info") or a
// RUST_LOG-style list ("info,memory=debug"). Unknown names are an error.
bool setLogLevels(const std::string& spec, std::string* error);

}  // namespace qsplit
