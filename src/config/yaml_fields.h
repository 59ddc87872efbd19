// Reading typed fields out of YAML nodes, with errors that name the field's path and line.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace qsplit::config {

// Where a field is: "<where>: <path>" in messages, plus the line and column of the node.
// `where` names the file and the resource ("registry.yaml: MirrordWorkloadQueueRegistry meme").
class YamlFields {
 public:
  explicit YamlFields(std::string where) : where_(std::move(where)) {}

  const std::string& where() const { return where_; }

  // An invalid-argument error: "<where>: <path>: <what> (line L, column C)".
  Error error(const std::string& path, const YAML::Node& node, const std::string& what) const;

  // Each reader: absent or null -> nullopt (optional) or an error (required); present but
  // of the wrong shape -> an error saying what was expected.
  Result<std::string> string(const YAML::Node& parent, const std::string& key,
                             const std::string& path) const;
  Result<std::optional<std::string>> optionalString(const YAML::Node& parent,
                                                    const std::string& key,
                                                    const std::string& path) const;
  Result<std::optional<uint32_t>> optionalSeconds(const YAML::Node& parent, const std::string& key,
                                                  const std::string& path) const;
  Result<bool> flag(const YAML::Node& parent, const std::string& key, const std::string& path) const;
  Result<std::optional<bool>> optionalFlag(const YAML::Node& parent, const std::string& key,
                                           const std::string& path) const;
  // A whole number >= 0.
  Result<std::optional<uint64_t>> optionalCount(const YAML::Node& parent, const std::string& key,
                                                const std::string& path) const;
  // Seconds as a number (`30`, `0.5`), or a number with a unit: `500ms`, `30s`, `2m`, `1h`.
  Result<std::optional<std::chrono::milliseconds>> optionalDuration(const YAML::Node& parent,
                                                                    const std::string& key,
                                                                    const std::string& path) const;
  Result<std::map<std::string, std::string>> stringMap(const YAML::Node& parent,
                                                       const std::string& key,
                                                       const std::string& path) const;
  Result<std::vector<std::string>> stringList(const YAML::Node& parent, const std::string& key,
                                              const std::string& path) const;
  // A mapping (required unless `optional`); an absent optional one gives a null node.
  Result<YAML::Node> map(const YAML::Node& parent, const std::string& key, const std::string& path,
                         bool optional = false) const;
  Result<YAML::Node> list(const YAML::Node& parent, const std::string& key, const std::string& path,
                          bool optional = false) const;
  // Fails on a key of `node` that is not in `known`, listing what is accepted.
  Result<void> onlyKnownKeys(const YAML::Node& node, const std::string& path,
                             const std::set<std::string>& known) const;

 private:
  Result<YAML::Node> container(const YAML::Node& parent, const std::string& key,
                               const std::string& path, bool optional,
                               YAML::NodeType::value type) const;
  Result<std::string> scalar(const YAML::Node& node, const std::string& path) const;
  // Digits only, at most `max_digits`; else "expected <what>".
  Result<std::optional<uint64_t>> wholeNumber(const YAML::Node& parent, const std::string& key,
                                              const std::string& path, std::size_t max_digits,
                                              const std::string& what) const;
  std::string where_;
};

inline std::string joinPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

}  // namespace qsplit::config
