#include "kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>

#include "common/base64.h"
#include "common/files.h"

namespace qsplit::kube {
namespace {

// The entry named `name` of a kubeconfig list (clusters, users, contexts).
YAML::Node named(const YAML::Node& list, const std::string& name) {
  if (!list.IsSequence()) return {};
  for (const auto& item : list)
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  return {};
}

std::string text(const YAML::Node& node, const char* key) {
  return node && node[key] && node[key].IsScalar() ? node[key].as<std::string>() : "";
}

// PEM text from `key-data` (base64) or from the file `key` names (relative to the kubeconfig).
Result<std::string> pem(const YAML::Node& node, const std::string& key, const std::string& where,
                        const std::filesystem::path& base) {
  if (std::string data = text(node, (key + "-data").c_str()); !data.empty()) {
    auto decoded = base64Decode(data);
    if (!decoded) return fail(ErrorCode::kInvalidArgument, where + ": " + key + "-data is not base64");
    return *decoded;
  }
  std::string file = text(node, key.c_str());
  if (file.empty()) return std::string();
  std::filesystem::path p(file);
  if (p.is_relative()) p = base / p;
  auto content = readFile(p.string());
  if (!content) return fail(content.error().withContext(where + ": " + key));
  return *content;
}

Result<KubeConfig> fromYaml(const YAML::Node& root, const std::string& path,
                            const std::string& wanted) {
  std::filesystem::path base = std::filesystem::path(path).parent_path();
  std::string context_name = wanted.empty() ? text(root, "current-context") : wanted;
  if (context_name.empty()) return fail(ErrorCode::kInvalidArgument, path + ": no current-context");
  YAML::Node context = named(root["contexts"], context_name)["context"];
  if (!context) return fail(ErrorCode::kInvalidArgument, path + ": no context named " + context_name);
  std::string cluster_name = text(context, "cluster"), user_name = text(context, "user");
  YAML::Node cluster = named(root["clusters"], cluster_name)["cluster"];
  if (!cluster)
    return fail(ErrorCode::kInvalidArgument, path + ": context " + context_name +
                                                 " names cluster " + cluster_name + ", which is not in the file");
  KubeConfig config;
  config.source = path;
  config.server = text(cluster, "server");
  if (config.server.empty())
    return fail(ErrorCode::kInvalidArgument, path + ": cluster " + cluster_name + " has no server");
  config.insecure = cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
  std::string where = path + ": cluster " + cluster_name;
  QSPLIT_ASSIGN_OR_RETURN(config.ca_pem, pem(cluster, "certificate-authority", where, base));
  if (std::string ns = text(context, "namespace"); !ns.empty()) config.namespace_ = ns;
  YAML::Node user = named(root["users"], user_name)["user"];
  if (!user) return config;  // anonymous
  where = path + ": user " + user_name;
  config.token = text(user, "token");
  if (std::string file = text(user, "tokenFile"); !file.empty())
    config.token_file = std::filesystem::path(file).is_relative() ? (base / file).string() : file;
  QSPLIT_ASSIGN_OR_RETURN(config.client_cert_pem, pem(user, "client-certificate", where, base));
  QSPLIT_ASSIGN_OR_RETURN(config.client_key_pem, pem(user, "client-key", where, base));
  if (config.client_cert_pem.empty() != config.client_key_pem.empty())
    return fail(ErrorCode::kInvalidArgument, where + ": a client certificate needs its key, and a key its certificate");
  if (user["exec"] || user["auth-provider"])
    return fail(ErrorCode::kInvalidArgument,
                where + ": exec and auth-provider credentials are not supported; use a token or a client certificate");
  return config;
}

}  // namespace

Result<KubeConfig> loadKubeconfig(const std::string& path, const std::string& context) {
  QSPLIT_ASSIGN_OR_RETURN(auto content, readFile(path));
  try {
    return fromYaml(YAML::Load(content), path, context);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, path + ": not a kubeconfig: " + e.what());
  }
}

Result<KubeConfig> inClusterConfig(const std::string& dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port)
    return fail(ErrorCode::kNotFound, "not in a cluster: KUBERNETES_SERVICE_HOST/_PORT are not set");
  KubeConfig config;
  std::string h = host;
  config.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  config.source = dir;
  config.token_file = dir + "/token";
  QSPLIT_ASSIGN_OR_RETURN(config.ca_pem, readFile(dir + "/ca.crt"));
  if (auto ns = readFile(dir + "/namespace"); ns && !ns->empty()) config.namespace_ = *ns;
  return config;
}

Result<KubeConfig> defaultKubeConfig(const std::string& path) {
  if (!path.empty()) return loadKubeconfig(path);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = env;  // a list: the first file holds the context here
    return loadKubeconfig(first.substr(0, first.find(':')));
  }
  if (auto in_cluster = inClusterConfig(); in_cluster) return in_cluster;
  const char* home = std::getenv("HOME");
  return loadKubeconfig(std::string(home ? home : "") + "/.kube/config");
}

}  // namespace qsplit::kube
