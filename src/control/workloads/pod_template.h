// A Kubernetes workload's pod template as qsplit reads and patches it: the queue variables
// each container gets (literal values, ConfigMap keys, envFrom ConfigMaps), and the patch
// that points some of them at temporary queues, recorded in the workload itself so that
// exactly that change can be reversed later, by this qsplitd or the next one.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "config/resources.h"
#include "config/sqs_target.h"

namespace qsplit::control {

inline constexpr char kPatchedLabel[] = "operator.metalbear.co/patched";
inline constexpr char kPatchAnnotation[] = "qsplit.dev/patch";

// Reads a ConfigMap's data (name -> data); kNotFound when it does not exist.
using ConfigMapReader = std::function<Result<std::map<std::string, std::string>>(const std::string&)>;

// Every container's variables as the pod would see them: envFrom ConfigMaps (with their
// prefix), then env entries (`value`, `valueFrom.configMapKeyRef`) over them. Variables from
// Secrets, fields and resources are left out: queue names do not come from there. A missing
// ConfigMap or key is an error unless the reference is optional.
Result<config::ContainerEnv> podTemplateEnv(const nlohmann::json& workload,
                                            const ConfigMapReader& configmaps);

// Rewrites `workload` (the whole object, as read) so that each place reads `replacement`
// where it read `original`: the variable becomes a literal value in its container's env,
// whatever its definition was, which is recorded in the kPatchAnnotation together with the
// value set, and the kPatchedLabel goes on the workload and its pod template. `env` is
// podTemplateEnv() of `workload`. Returns whether anything changed.
Result<bool> patchTemplate(nlohmann::json& workload, const config::ContainerEnv& env,
                           const std::vector<config::SqsNamePlace>& places,
                           const std::string& original, const std::string& replacement);

// Reverses patchTemplate() for `original`, at the places recorded with it: each variable
// that still holds the value qsplit set gets its recorded definition back (or goes, if
// qsplit added it); a variable someone else changed meanwhile is left as they made it. When
// no patch is left, the annotation and the label go too. Returns whether anything changed.
Result<bool> restoreTemplate(nlohmann::json& workload, const config::ContainerEnv& env,
                             const std::string& original);

// The patches recorded in `workload`: original -> replacement.
std::map<std::string, std::string> recordedPatches(const nlohmann::json& workload);

}  // namespace qsplit::control
