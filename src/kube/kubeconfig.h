// Where the Kubernetes API server is and how to authenticate to it: from a kubeconfig file
// (client certificates or bearer tokens) or from the pod's service account in the cluster.
#pragma once

#include <string>

#include "common/result.h"

namespace qsplit::kube {

struct KubeConfig {
  std::string server;  // "https://host:port"
  std::string ca_pem;  // empty: the system's trust store
  bool insecure = false;
  std::string token;
  std::string token_file;  // read again before each use (service-account tokens rotate)
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string namespace_ = "default";  // the context's (or the pod's) namespace
  std::string source;                  // the file it came from, for messages
};

// The current (or named) context of a kubeconfig file. Paths in it are relative to the file.
Result<KubeConfig> loadKubeconfig(const std::string& path, const std::string& context = "");

// The service account of the pod qsplitd runs in: KUBERNETES_SERVICE_HOST/_PORT and the
// token, CA and namespace files under `dir`.
Result<KubeConfig> inClusterConfig(
    const std::string& dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// `path` when given, else $KUBECONFIG, else the in-cluster account, else ~/.kube/config.
Result<KubeConfig> defaultKubeConfig(const std::string& path);

}  // namespace qsplit::kube
