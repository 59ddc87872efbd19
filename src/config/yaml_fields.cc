#include "config/yaml_fields.h"

namespace qsplit::config {

Error YamlFields::error(const std::string& path, const YAML::Node& node,
                        const std::string& what) const {
  std::string at;
  if (node.IsDefined() && node.Mark().line >= 0)
    at = " (line " + std::to_string(node.Mark().line + 1) + ", column " +
         std::to_string(node.Mark().column + 1) + ")";
  return Error(ErrorCode::kInvalidArgument, where_ + ": " + path + ": " + what + at);
}

Result<std::string> YamlFields::scalar(const YAML::Node& node, const std::string& path) const {
  if (!node.IsScalar()) return fail(error(path, node, "expected a string"));
  return node.Scalar();
}

Result<std::string> YamlFields::string(const YAML::Node& parent, const std::string& key,
                                       const std::string& path) const {
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull())
    return fail(error(joinPath(path, key), parent, "is required (a string)"));
  return scalar(node, joinPath(path, key));
}

Result<std::optional<std::string>> YamlFields::optionalString(const YAML::Node& parent,
                                                              const std::string& key,
                                                              const std::string& path) const {
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return std::optional<std::string>();
  QSPLIT_ASSIGN_OR_RETURN(std::string value, scalar(node, joinPath(path, key)));
  return std::optional<std::string>(std::move(value));
}

Result<std::optional<uint32_t>> YamlFields::optionalSeconds(const YAML::Node& parent,
                                                            const std::string& key,
                                                            const std::string& path) const {
  QSPLIT_ASSIGN_OR_RETURN(auto n, wholeNumber(parent, key, path, 9, "a whole number of seconds"));
  if (!n) return std::optional<uint32_t>();
  return std::optional<uint32_t>(static_cast<uint32_t>(*n));
}

Result<std::optional<uint64_t>> YamlFields::wholeNumber(const YAML::Node& parent,
                                                        const std::string& key,
                                                        const std::string& path,
                                                        std::size_t max_digits,
                                                        const std::string& what) const {
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return std::optional<uint64_t>();
  const std::string& text = node.IsScalar() ? node.Scalar() : std::string();
  if (text.empty() || text.size() > max_digits ||
      text.find_first_not_of("0123456789") != std::string::npos)
    return fail(error(joinPath(path, key), node, "expected " + what));
  return std::optional<uint64_t>(std::stoull(text));
}

Result<bool> YamlFields::flag(const YAML::Node& parent, const std::string& key,
                              const std::string& path) const {
  QSPLIT_ASSIGN_OR_RETURN(auto value, optionalFlag(parent, key, path));
  return value.value_or(false);
}

Result<std::optional<bool>> YamlFields::optionalFlag(const YAML::Node& parent,
                                                     const std::string& key,
                                                     const std::string& path) const {
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return std::optional<bool>();
  if (node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false"))
    return std::optional<bool>(node.Scalar() == "true");
  return fail(error(joinPath(path, key), node, "expected true or false"));
}

Result<std::optional<uint64_t>> YamlFields::optionalCount(const YAML::Node& parent,
                                                          const std::string& key,
                                                          const std::string& path) const {
  return wholeNumber(parent, key, path, 18, "a whole number >= 0");
}

Result<std::optional<std::chrono::milliseconds>> YamlFields::optionalDuration(
    const YAML::Node& parent, const std::string& key, const std::string& path) const {
  using std::chrono::milliseconds;
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return std::optional<milliseconds>();
  const std::string text = node.IsScalar() ? node.Scalar() : std::string();
  auto unit_at = text.find_first_not_of("0123456789.");
  std::string number = text.substr(0, unit_at);
  std::string unit = unit_at == std::string::npos ? "s" : text.substr(unit_at);
  static const std::map<std::string, double> kMillis = {
      {"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}};
  auto scale = kMillis.find(unit);
  bool valid = !number.empty() && number.size() <= 12 && number.find('.') == number.rfind('.') &&
               number != "." && scale != kMillis.end();
  if (!valid)
    return fail(error(joinPath(path, key), node,
                      "expected a duration: seconds as a number, or with a unit (500ms, 30s, 2m, "
                      "1h); got '" + text + "'"));
  return std::optional<milliseconds>(
      milliseconds(static_cast<int64_t>(std::stod(number) * scale->second + 0.5)));
}

Result<std::map<std::string, std::string>> YamlFields::stringMap(const YAML::Node& parent,
                                                                 const std::string& key,
                                                                 const std::string& path) const {
  std::map<std::string, std::string> result;
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node node, map(parent, key, path, true));
  if (!node.IsDefined() || node.IsNull()) return result;
  for (const auto& item : node) {
    std::string name = item.first.Scalar();
    QSPLIT_ASSIGN_OR_RETURN(std::string value, scalar(item.second, joinPath(path, key) + "." + name));
    result[name] = value;
  }
  return result;
}

Result<std::vector<std::string>> YamlFields::stringList(const YAML::Node& parent,
                                                        const std::string& key,
                                                        const std::string& path) const {
  std::vector<std::string> result;
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node node, list(parent, key, path, true));
  if (!node.IsDefined() || node.IsNull()) return result;
  for (std::size_t i = 0; i < node.size(); ++i) {
    QSPLIT_ASSIGN_OR_RETURN(std::string value,
                            scalar(node[i], joinPath(path, key) + "[" + std::to_string(i) + "]"));
    result.push_back(value);
  }
  return result;
}

Result<YAML::Node> YamlFields::map(const YAML::Node& parent, const std::string& key,
                                   const std::string& path, bool optional) const {
  return container(parent, key, path, optional, YAML::NodeType::Map);
}

Result<YAML::Node> YamlFields::list(const YAML::Node& parent, const std::string& key,
                                    const std::string& path, bool optional) const {
  return container(parent, key, path, optional, YAML::NodeType::Sequence);
}

Result<YAML::Node> YamlFields::container(const YAML::Node& parent, const std::string& key,
                                         const std::string& path, bool optional,
                                         YAML::NodeType::value type) const {
  const char* what = type == YAML::NodeType::Map ? "a mapping" : "a list";
  YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) {
    if (optional) return YAML::Node();
    return fail(error(joinPath(path, key), parent, std::string("is required (") + what + ")"));
  }
  if (node.Type() != type) return fail(error(joinPath(path, key), node, std::string("expected ") + what));
  return node;
}

Result<void> YamlFields::onlyKnownKeys(const YAML::Node& node, const std::string& path,
                                       const std::set<std::string>& known) const {
  if (!node.IsMap()) return ok();
  for (const auto& item : node) {
    const std::string& key = item.first.Scalar();
    if (known.count(key)) continue;
    std::string expected;
    for (const auto& k : known) expected += (expected.empty() ? "" : ", ") + k;
    return fail(error(joinPath(path, key), item.first, "unknown field; expected one of " + expected));
  }
  return ok();
}

}  // namespace qsplit::config
