// The kinds of resource that show a session in Kubernetes mode: qsplit's own QsplitSession
// (every session), and the reference's MirrordSQSSession (every session that splits an SQS
// queue), so that the spec's troubleshooting commands, which list and delete
// `mirrordsqssessions` by `.spec.queueConsumer`, work as written.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/sessions.h"

namespace qsplit::daemon {

struct SessionKind {
  std::string collection;   // API path of the namespace's resources of this kind
  std::string api_version;
  std::string kind;
  std::string name_prefix;  // a session's resource is named prefix + session id
  // Whether a session gets a resource of this kind; cheap, asked every sync.
  std::function<bool(const control::Session&)> applies;
  // The resource's spec, built once, when the resource is created.
  std::function<nlohmann::json(const control::Session&)> spec;
  std::function<nlohmann::json(const control::Session&, const std::vector<control::QueueStatus>&)>
      status;
};

SessionKind qsplitSessionKind(const std::string& ns);
SessionKind sqsSessionKind(const std::string& ns);

}  // namespace qsplit::daemon
