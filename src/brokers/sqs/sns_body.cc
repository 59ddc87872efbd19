#include "brokers/sqs/sns_body.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace qsplit::sqs {

bool isSnsNotification(const nlohmann::json& body) {
  if (!body.is_object()) return false;
  auto type = body.find("Type");
  return type != body.end() && *type == "Notification" && body.contains("TopicArn");
}

std::optional<std::vector<core::Attribute>> snsAttributes(std::string_view body) {
  // Cheap refusal first: most bodies of a queue without SNS are not JSON objects.
  auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || body[first] != '{') return std::nullopt;
  auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!isSnsNotification(json)) return std::nullopt;
  std::vector<core::Attribute> out;
  auto attributes = json.find("MessageAttributes");
  if (attributes == json.end() || !attributes->is_object()) return out;
  for (const auto& [name, attribute] : attributes->items()) {
    if (!attribute.is_object()) continue;
    auto value = attribute.find("Value");
    if (value == attribute.end() || !value->is_string()) continue;
    std::string data_type = attribute.value("Type", "String");
    std::string text = value->get<std::string>();
    if (data_type.starts_with("Binary")) {
      auto decoded = base64Decode(text);
      if (!decoded) continue;  // not what SNS sends: matches nothing rather than garbage
      text = std::move(*decoded);
    }
    out.push_back({name, std::move(text), std::move(data_type)});
  }
  return out;
}

void useSnsAttributes(core::Message& message) {
  message.filter_attributes = snsAttributes(message.body);
}

}  // namespace qsplit::sqs
