#include "core/naming.h"

#include <cstdint>
#include <cstdio>

namespace qsplit::core {
namespace {

constexpr std::size_t kRandomDigits = 10;
constexpr std::size_t kHashDigits = 12;

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return !suffix.empty() && text.size() >= suffix.size() &&
         text.substr(text.size() - suffix.size()) == suffix;
}

bool allowed(char c, const NameRules& rules) {
  bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  return alnum || rules.extra_chars.find(c) != std::string::npos;
}

}  // namespace

NameRules sqsNameRules() { return {"SQS", 80, "_-", ".fifo"}; }
NameRules kafkaNameRules() { return {"Kafka", 249, "._-", ""}; }
NameRules rabbitNameRules() { return {"RabbitMQ", 255, "._-", ""}; }
NameRules redisNameRules() { return {"Redis", 255, "._:-", ""}; }
NameRules bullmqNameRules() { return {"BullMQ", 255, "._-", ""}; }
NameRules pubsubNameRules() { return {"Pub/Sub", 255, "._~+%-", ""}; }

Result<NameTemplate> NameTemplate::parse(std::string_view text) {
  NameTemplate parsed{Empty{}};
  parsed.text_ = std::string(text);
  bool seen[4] = {false, false, false, false};
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      parsed.pieces_.push_back({Part::kText, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) parsed.pieces_.push_back({Part::kText, std::string(text.substr(pos, open - pos))});
    std::size_t close = text.find("}}", open);
    if (close == std::string_view::npos)
      return fail(ErrorCode::kInvalidArgument, "name template '" + parsed.text_ +
                                                   "': '{{' at offset " + std::to_string(open) +
                                                   " is never closed with '}}'");
    std::string_view name = text.substr(open + 2, close - open - 2);
    Part part;
    if (name == "RANDOM") part = Part::kRandom;
    else if (name == "FALLBACK") part = Part::kFallback;
    else if (name == "ORIGINAL_TOPIC" || name == "ORIGINAL") part = Part::kOriginal;
    else
      return fail(ErrorCode::kInvalidArgument,
                  "name template '" + parsed.text_ + "': unknown placeholder {{" +
                      std::string(name) + "}}; expected {{RANDOM}}, {{FALLBACK}} or {{ORIGINAL_TOPIC}}");
    seen[static_cast<int>(part)] = true;
    parsed.pieces_.push_back({part, ""});
    pos = close + 2;
  }
  std::string missing;
  const char* names[] = {"", "{{RANDOM}}", "{{FALLBACK}}", "{{ORIGINAL_TOPIC}}"};
  for (int p = 1; p < 4; ++p)
    if (!seen[p]) missing += (missing.empty() ? "" : ", ") + std::string(names[p]);
  if (!missing.empty())
    return fail(ErrorCode::kInvalidArgument,
                "name template '" + parsed.text_ + "' lacks " + missing +
                    "; it must contain {{RANDOM}}, {{FALLBACK}} and {{ORIGINAL_TOPIC}}");
  return parsed;
}

std::string NameTemplate::generate(std::string_view original, bool fallback,
                                   const NameRules& rules, Random& random) const {
  std::string_view suffix;
  if (endsWith(original, rules.keep_suffix)) {
    suffix = rules.keep_suffix;
    original.remove_suffix(suffix.size());
  }
  std::string name;
  for (const auto& piece : pieces_) {
    switch (piece.part) {
      case Part::kText: name += piece.text; break;
      case Part::kRandom: name += random.digits(kRandomDigits); break;
      case Part::kFallback: name += fallback ? "-fallback-" : "-"; break;
      case Part::kOriginal: name += original; break;
    }
  }
  for (char& c : name)
    if (!allowed(c, rules)) c = '-';
  return shortenWithHash(name, rules.max_length - suffix.size()) + std::string(suffix);
}

std::string dummyExchangeName(std::string_view queue) {
  return shortenWithHash("mirrord-exchange-" + std::string(queue), 255);
}

std::string shortenWithHash(std::string_view name, std::size_t max_length) {
  if (name.size() <= max_length) return std::string(name);
  char hash[kHashDigits + 2];
  std::snprintf(hash, sizeof hash, "-%012llx",
                static_cast<unsigned long long>(fnv1a(name) & 0xffffffffffffull));
  return std::string(name.substr(0, max_length - kHashDigits - 1)) + hash;
}

}  // namespace qsplit::core
