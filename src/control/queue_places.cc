#include "control/queue_places.h"

#include "core/naming.h"

namespace qsplit::control {
namespace {

// A queue URL with its last path segment (the queue's name) replaced.
std::string withQueueName(const std::string& url, const std::string& queue) {
  auto slash = url.find_last_of('/');
  if (slash == std::string::npos) return queue;
  return url.substr(0, slash + 1) + queue;
}

}  // namespace

std::string placeValue(const std::string& current, const config::SqsNamePlace& place,
                       const std::string& queue) {
  if (place.exchange) return core::dummyExchangeName(queue);
  if (!place.json_key) return place.is_url ? withQueueName(current, queue) : queue;
  nlohmann::json map = nlohmann::json::parse(current, nullptr, false);
  if (!map.is_object()) map = nlohmann::json::object();
  auto& entry = map[*place.json_key];
  std::string old = entry.is_string() ? entry.get<std::string>() : std::string();
  entry = place.is_url ? withQueueName(old, queue) : queue;
  return map.dump();
}

void applyPlaces(config::ContainerEnv& env, const std::vector<config::SqsNamePlace>& places,
                 const std::string& queue) {
  for (const auto& p : places) {
    std::string& value = env[p.container][p.variable];
    value = placeValue(value, p, queue);
  }
}

nlohmann::json placesToJson(const std::vector<config::SqsNamePlace>& places) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : places) {
    nlohmann::json j = {{"container", p.container}, {"variable", p.variable},
                        {"is_url", p.is_url}, {"added", p.added}, {"exchange", p.exchange}};
    if (p.json_key) j["json_key"] = *p.json_key;
    out.push_back(std::move(j));
  }
  return out;
}

Result<std::vector<config::SqsNamePlace>> placesFromJson(const nlohmann::json& json) {
  try {
    std::vector<config::SqsNamePlace> out;
    for (const auto& j : json) {
      config::SqsNamePlace p;
      p.container = j.at("container").get<std::string>();
      p.variable = j.at("variable").get<std::string>();
      p.is_url = j.value("is_url", false);
      p.added = j.value("added", false);
      p.exchange = j.value("exchange", false);
      if (j.contains("json_key")) p.json_key = j["json_key"].get<std::string>();
      out.push_back(std::move(p));
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::kInvalidArgument, std::string("a stored queue place: ") + e.what());
  }
}

}  // namespace qsplit::control
