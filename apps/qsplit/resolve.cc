#include "resolve.h"

#include "common/files.h"
#include "jq/jq_program.h"
#include "jq/protobuf_schema.h"

namespace qsplit::cli {

Result<ResolvedConfig> resolveConfig(const std::string& path) {
  QSPLIT_ASSIGN_OR_RETURN(std::string text, readFile(path));
  ResolvedConfig resolved;
  resolved.json = nlohmann::json::parse(text, nullptr, false, true);
  if (resolved.json.is_discarded() || !resolved.json.is_object())
    return fail(ErrorCode::kInvalidArgument, path + ": not a JSON object");
  // Every field is checked before any .proto is read.
  QSPLIT_TRY(config::parseUserConfig(text, path));
  QSPLIT_TRY(config::resolveProtobufSchemas(resolved.json, path, [](const config::PayloadProtobuf& p) {
    return jq::compileSchema(p.schema_file, p.include_directories);
  }));
  QSPLIT_ASSIGN_OR_RETURN(resolved.user, config::parseUserConfig(resolved.json.dump(), path));
  QSPLIT_TRY(config::checkContentFilters(resolved.user, jq::checkContent));
  return resolved;
}

}  // namespace qsplit::cli
