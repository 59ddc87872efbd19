// Where a workload reads a queue's name, and the value that makes it read another queue in
// the same form (a name, a URL, one entry of a JSON map), as JSON for the store and the API.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/result.h"
#include "config/resources.h"
#include "config/sqs_target.h"

namespace qsplit::control {

// `current` is what `place.variable` holds now (the original's name, URL or JSON map); the
// result holds `queue` in the same form. A JSON map that no longer parses is replaced by a
// map holding only this entry.
std::string placeValue(const std::string& current, const config::SqsNamePlace& place,
                       const std::string& queue);

// `env` with every place of `places` rewritten to `queue` (each in its container).
void applyPlaces(config::ContainerEnv& env, const std::vector<config::SqsNamePlace>& places,
                 const std::string& queue);

nlohmann::json placesToJson(const std::vector<config::SqsNamePlace>& places);
Result<std::vector<config::SqsNamePlace>> placesFromJson(const nlohmann::json& json);

}  // namespace qsplit::control
