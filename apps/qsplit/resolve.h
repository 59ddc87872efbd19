// The user's mirrord config as the CLI sends it: parsed and checked as qsplitd would, its jq
// programs compiled, and its `payload_protobuf.schema_file`s compiled into descriptors.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/result.h"
#include "config/user_config.h"

namespace qsplit::cli {

struct ResolvedConfig {
  nlohmann::json json;      // what goes to qsplitd: no local file named in it
  config::UserConfig user;  // parsed from `json`
};

// Errors name the file and the field, one per line.
Result<ResolvedConfig> resolveConfig(const std::string& path);

}  // namespace qsplit::cli
