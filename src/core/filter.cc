#include "core/filter.h"

namespace qsplit::core {

RE2::Options filterRegexOptions() {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  return options;
}

std::string asciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = asciiLower(c);
  return lower;
}

namespace {

// `text` equals `lower` (already lowercase) ignoring ASCII case, without allocating.
bool equalsLowered(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (asciiLower(text[i]) != lower[i]) return false;
  }
  return true;
}

}  // namespace

Result<Filter> Filter::compile(const std::map<std::string, std::string>& message_filter) {
  Filter filter;
  for (const auto& [name, pattern] : message_filter) {
    auto regex = std::make_shared<const RE2>(pattern, filterRegexOptions());
    if (!regex->ok()) {
      return fail(ErrorCode::kInvalidArgument,
                  "message_filter." + name + ": RE2 cannot compile the regular expression '" +
                      pattern + "' (" + regex->error() +
                      "); look-around and back-references are not supported, because RE2 "
                      "matches in linear time");
    }
    filter.rules_.push_back(Rule{name, asciiLower(name), pattern, std::move(regex)});
  }
  return filter;
}

Filter Filter::withContent(ContentFilter content) const {
  Filter filter = *this;
  filter.content_ = std::move(content);
  return filter;
}

bool Filter::matches(const Message& message) const {
  if (rules_.empty()) return !content_.empty();
  for (const auto& rule : rules_) {
    bool found = false;
    for (const auto& attribute : message.routingAttributes()) {
      if (!equalsLowered(attribute.name, rule.name_lower)) continue;
      if (RE2::PartialMatch(attribute.value, *rule.regex)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace qsplit::core
