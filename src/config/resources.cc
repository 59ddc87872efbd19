#include "config/resources.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "common/files.h"
#include "config/resource_parsers.h"

namespace qsplit::config {
namespace {

using detail::parseConfigMap;
using detail::parseKafkaClientConfig;
using detail::parsePropertyList;
using detail::parseRegistry;
using detail::parseSecret;
using detail::parseSplitConfig;
using detail::parseTopicsConsumer;

struct KindInfo {
  const char* kind;
  const char* api_version;
};

constexpr KindInfo kOurKinds[] = {
    {"MirrordWorkloadQueueRegistry", kQueuesGroupV1Alpha},
    {"MirrordKafkaTopicsConsumer", kQueuesGroupV1Alpha},
    {"MirrordKafkaClientConfig", kQueuesGroupV1Alpha},
    {"MirrordSplitConfig", kQueuesGroupV1},
    {"MirrordPropertyList", kMirrordGroupV1},
};

template <class T>
void appendAll(std::vector<T>& into, std::vector<T>& from) {
  for (auto& item : from) into.push_back(std::move(item));
}

Result<void> parseDocument(const YAML::Node& doc, std::size_t index, const std::string& source,
                           ResourceSet& out) {
  if (!doc.IsMap()) {
    if (doc.IsNull()) return ok();  // an empty document between two "---"
    return fail(ErrorCode::kInvalidArgument,
                source + ": document " + std::to_string(index + 1) + ": expected a mapping");
  }
  std::string kind = doc["kind"] && doc["kind"].IsScalar() ? doc["kind"].Scalar() : "";
  std::string api = doc["apiVersion"] && doc["apiVersion"].IsScalar() ? doc["apiVersion"].Scalar() : "";
  YamlFields doc_fields(source + ": document " + std::to_string(index + 1));
  if (kind.empty()) return fail(doc_fields.error("kind", doc, "is required"));

  bool ours = kind == "Secret" || kind == "ConfigMap";
  for (const auto& k : kOurKinds) {
    if (kind != k.kind) continue;
    ours = true;
    if (api != k.api_version)
      return fail(doc_fields.error("apiVersion", doc["apiVersion"],
                                   "a " + kind + " must have apiVersion " + k.api_version +
                                       ", not '" + api + "'"));
  }
  if (!ours) {
    ++out.ignored;
    return ok();
  }

  QSPLIT_ASSIGN_OR_RETURN(YAML::Node metadata, doc_fields.map(doc, "metadata", ""));
  ObjectMeta meta;
  QSPLIT_ASSIGN_OR_RETURN(meta.name, doc_fields.string(metadata, "name", "metadata"));
  QSPLIT_ASSIGN_OR_RETURN(auto ns, doc_fields.optionalString(metadata, "namespace", "metadata"));
  meta.namespace_ = ns.value_or("");
  meta.source = source;
  YamlFields f(source + ": " + kind + " " + meta.name);

  if (kind == "Secret") {
    QSPLIT_ASSIGN_OR_RETURN(Secret secret, parseSecret(doc, f));
    secret.meta = meta;
    out.secrets.push_back(std::move(secret));
    return ok();
  }
  if (kind == "ConfigMap") {
    QSPLIT_ASSIGN_OR_RETURN(ConfigMap map, parseConfigMap(doc, f));
    map.meta = meta;
    out.config_maps.push_back(std::move(map));
    return ok();
  }
  QSPLIT_ASSIGN_OR_RETURN(YAML::Node spec, f.map(doc, "spec", ""));
  if (kind == "MirrordWorkloadQueueRegistry") {
    QSPLIT_ASSIGN_OR_RETURN(auto r, parseRegistry(spec, f));
    r.meta = meta;
    out.registries.push_back(std::move(r));
  } else if (kind == "MirrordKafkaTopicsConsumer") {
    QSPLIT_ASSIGN_OR_RETURN(auto r, parseTopicsConsumer(spec, f));
    r.meta = meta;
    out.topics_consumers.push_back(std::move(r));
  } else if (kind == "MirrordKafkaClientConfig") {
    QSPLIT_ASSIGN_OR_RETURN(auto r, parseKafkaClientConfig(spec, f));
    r.meta = meta;
    out.kafka_client_configs.push_back(std::move(r));
  } else if (kind == "MirrordPropertyList") {
    QSPLIT_ASSIGN_OR_RETURN(auto r, parsePropertyList(spec, f));
    r.meta = meta;
    out.property_lists.push_back(std::move(r));
  } else {
    QSPLIT_ASSIGN_OR_RETURN(auto r, parseSplitConfig(spec, f));
    r.meta = meta;
    out.split_configs.push_back(std::move(r));
  }
  return ok();
}

}  // namespace

void ResourceSet::append(ResourceSet other) {
  appendAll(registries, other.registries);
  appendAll(topics_consumers, other.topics_consumers);
  appendAll(kafka_client_configs, other.kafka_client_configs);
  appendAll(split_configs, other.split_configs);
  appendAll(secrets, other.secrets);
  appendAll(config_maps, other.config_maps);
  appendAll(property_lists, other.property_lists);
  ignored += other.ignored;
}

const KafkaClientConfig* ResourceSet::findKafkaClientConfig(const std::string& name,
                                                            const std::string& namespace_) const {
  for (const auto& c : kafka_client_configs)
    if (c.meta.name == name && (c.meta.namespace_.empty() || c.meta.namespace_ == namespace_))
      return &c;
  return nullptr;
}

const Secret* ResourceSet::findSecret(const std::string& namespace_, const std::string& name) const {
  for (const auto& s : secrets)
    if (s.meta.name == name && (s.meta.namespace_.empty() || s.meta.namespace_ == namespace_))
      return &s;
  return nullptr;
}

const ConfigMap* ResourceSet::findConfigMap(const std::string& namespace_,
                                            const std::string& name) const {
  for (const auto& m : config_maps)
    if (m.meta.name == name && (m.meta.namespace_.empty() || m.meta.namespace_ == namespace_))
      return &m;
  return nullptr;
}

const PropertyList* ResourceSet::findPropertyList(const std::string& name,
                                                  const std::vector<std::string>& namespaces) const {
  for (const auto& ns : namespaces)
    for (const auto& l : property_lists)
      if (l.meta.name == name && (l.meta.namespace_.empty() || l.meta.namespace_ == ns)) return &l;
  return nullptr;
}

bool sameWorkload(std::string_view kind, std::string_view name, std::string_view workload) {
  auto slash = workload.find('/');
  if (slash == std::string_view::npos) return workload == name;
  std::string_view rest = workload.substr(slash + 1);
  if (rest.substr(0, rest.find('/')) != name) return false;
  std::string_view wanted = workload.substr(0, slash);
  return std::equal(wanted.begin(), wanted.end(), kind.begin(), kind.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  });
}

const RegistryQueue* WorkloadQueueRegistry::findQueue(const std::string& id) const {
  for (const auto& q : queues)
    if (q.id == id) return &q;
  return nullptr;
}

const KafkaTopic* KafkaTopicsConsumer::findTopic(const std::string& id) const {
  for (const auto& t : topics)
    if (t.id == id) return &t;
  return nullptr;
}

Result<ResourceSet> parseResources(const std::string& yaml, const std::string& source) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(yaml);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument,
                source + ": not valid YAML: " + e.msg + " (line " + std::to_string(e.mark.line + 1) +
                    ", column " + std::to_string(e.mark.column + 1) + ")");
  }
  ResourceSet set;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    try {
      QSPLIT_TRY(parseDocument(docs[i], i, source, set));
    } catch (const YAML::Exception& e) {
      return fail(ErrorCode::kInvalidArgument,
                  source + ": document " + std::to_string(i + 1) + ": " + e.msg);
    }
  }
  return set;
}

Result<ResourceSet> loadResourceFile(const std::string& path) {
  QSPLIT_ASSIGN_OR_RETURN(std::string text, readFile(path));
  return parseResources(text, path);
}

Result<ResourceSet> loadResourceDir(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml"))
      files.push_back(entry.path().string());
  }
  if (ec) return fail(ErrorCode::kNotFound, dir + ": cannot read the directory (" + ec.message() + ")");
  std::sort(files.begin(), files.end());
  ResourceSet all;
  for (const auto& file : files) {
    QSPLIT_ASSIGN_OR_RETURN(ResourceSet one, loadResourceFile(file));
    all.append(std::move(one));
  }
  return all;
}

namespace detail {

Result<void> checkRegex(const YamlFields& f, const YAML::Node& node, const std::string& path,
                        const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 regex(pattern, options);
  if (regex.ok()) return ok();
  return fail(f.error(path, node, "RE2 cannot compile the regular expression '" + pattern + "' (" +
                                      regex.error() + ")"));
}

}  // namespace detail
}  // namespace qsplit::config
