#include "config/sqs_target.h"

#include <re2/re2.h>

#include <nlohmann/json.hpp>

namespace qsplit::config {

Result<std::string> sqsQueueName(const std::string& value, const std::string& where) {
  std::string name = value;
  if (value.starts_with("https://") || value.starts_with("http://")) {
    auto path = value.find('/', value.find("://") + 3);
    std::string tail = path == std::string::npos ? "" : value.substr(path + 1);
    while (tail.ends_with("/")) tail.pop_back();
    name = tail.substr(tail.rfind('/') + 1);
    if (tail.find('/') == std::string::npos)
      return fail(ErrorCode::kInvalidArgument,
                  where + ": \"" + value + "\" is a URL but not an SQS queue URL "
                          "(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
  }
  if (name.empty()) return fail(ErrorCode::kInvalidArgument, where + ": the queue name is empty");
  return name;
}

Result<std::vector<FoundVariable>> readNameSource(const QueueNameSource& source,
                                                  const std::string& field,
                                                  const std::optional<std::string>* fallback,
                                                  const std::optional<std::string>& only_container,
                                                  const ContainerEnv& env, const std::string& where) {
  std::unique_ptr<RE2> pattern;
  if (source.regex_pattern) {
    pattern = std::make_unique<RE2>(*source.regex_pattern, RE2::Quiet);
    if (!pattern->ok())
      return fail(ErrorCode::kInvalidArgument, where + field + ".regexPattern: " + pattern->error());
  }
  std::vector<FoundVariable> out;
  for (const auto& [container, vars] : env) {
    if (only_container && container != *only_container) continue;
    for (const auto& [name, value] : vars) {
      bool match = pattern ? RE2::PartialMatch(name, *pattern)
                           : source.env_var && name == *source.env_var;
      if (match) out.push_back({container, name, value});
    }
  }
  if (!out.empty()) return out;
  std::string what = pattern ? "no env var matches regexPattern " + *source.regex_pattern
                             : "env var " + source.env_var.value_or("") + " is not set";
  std::string in = only_container ? " in container '" + *only_container + "'" : " in any container";
  if (!fallback || !*fallback || !source.env_var)
    return fail(ErrorCode::kNotFound, where + field + ": " + what + in +
                                          (fallback && !*fallback ? " and no fallbackName is given" : ""));
  // fallbackName: the queue to split; the variable is added to the workload when patched.
  std::string container = only_container.value_or(env.empty() ? "" : env.begin()->first);
  return std::vector<FoundVariable>{{container, *source.env_var, **fallback, true}};
}

Result<SqsTarget> resolveSqsTarget(const ResourceSet& resources, const std::string& workload,
                                   const std::string& queue_id, const ContainerEnv& env) {
  return resolveRegistryTarget(resources, workload, queue_id, env, "SQS");
}

Result<SqsTarget> resolveRmqTarget(const ResourceSet& resources, const std::string& workload,
                                   const std::string& queue_id, const ContainerEnv& env) {
  return resolveRegistryTarget(resources, workload, queue_id, env, "RMQ");
}

Result<SqsTarget> resolveRegistryTarget(const ResourceSet& resources, const std::string& workload,
                                        const std::string& queue_id, const ContainerEnv& env,
                                        const std::string& queue_type) {
  const WorkloadQueueRegistry* registry = nullptr;
  std::string declared;
  for (const auto& r : resources.registries) {
    if (!r.consumer.matches(workload)) continue;
    for (const auto& q : r.queues) declared += (declared.empty() ? "" : ", ") + q.id;
    if (r.findQueue(queue_id)) registry = &r;
  }
  if (!registry) {
    if (declared.empty())
      return fail(ErrorCode::kNotFound, "no MirrordWorkloadQueueRegistry has consumer " + workload);
    return fail(ErrorCode::kNotFound, "queue id '" + queue_id + "' is not declared for " + workload +
                                          " (declared: " + declared + ")");
  }
  const RegistryQueue& q = *registry->findQueue(queue_id);
  std::string where = registry->meta.source + ": MirrordWorkloadQueueRegistry " +
                      registry->meta.name + ": spec.queues." + queue_id + ".";
  if (q.queue_type != queue_type)
    return fail(ErrorCode::kInvalidArgument, where + "queueType: " + q.queue_type + ", not " +
                                                 queue_type + " (this target splits " + queue_type +
                                                 " queues)");
  QSPLIT_ASSIGN_OR_RETURN(auto found, readNameSource(q.name_source, "nameSource", &q.fallback_name,
                                                     registry->consumer.container, env, where));

  std::map<std::string, SqsOriginal> by_name;
  auto add = [&](const FoundVariable& f, const std::string& value,
                 std::optional<std::string> key) -> Result<void> {
    std::string field = where + "nameSource (" + f.container + "/" + f.variable +
                        (key ? "[" + *key + "]" : "") + ")";
    // An AMQP queue name is taken as it is; an SQS value may be a queue URL.
    if (queue_type != "SQS" && value.empty())
      return fail(ErrorCode::kInvalidArgument, field + ": the queue name is empty");
    std::string name = value;
    if (queue_type == "SQS") {
      QSPLIT_ASSIGN_OR_RETURN(name, sqsQueueName(value, field));
    }
    SqsOriginal& o = by_name[name];
    o.name = name;
    bool is_url = name != value;
    if (is_url) o.url = value;
    o.places.push_back({f.container, f.variable, std::move(key), is_url, f.added});
    return ok();
  };
  for (const auto& f : found) {
    if (!q.names_from_json_map) {
      QSPLIT_TRY(add(f, f.value, std::nullopt));
      continue;
    }
    auto map = nlohmann::json::parse(f.value, nullptr, false);
    if (!map.is_object())
      return fail(ErrorCode::kInvalidArgument,
                  where + "namesFromJsonMap: " + f.container + "/" + f.variable +
                      " is not a JSON object of queue names: " + f.value.substr(0, 80));
    for (const auto& [key, value] : map.items())
      if (value.is_string()) QSPLIT_TRY(add(f, value.get<std::string>(), key));
  }
  SqsTarget target;
  target.queue_id = queue_id;
  target.tags = q.tags;
  target.declaration = &q;
  for (auto& [name, original] : by_name) target.queues.push_back(std::move(original));
  return target;
}

}  // namespace qsplit::config
