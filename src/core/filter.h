// Filter: a compiled `message_filter` (attribute or header name -> regex), and the text of a
// `jq_filter` on the message's content, which a ContentMatcher (core/content.h) evaluates.
#pragma once

#include <re2/re2.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/message.h"

namespace qsplit::core {

// A `jq_filter`, with the schema its Kafka payloads decode by when `payload_protobuf` is set.
struct ContentFilter {
  std::string program;              // jq text; empty: no content filter
  std::string protobuf_descriptor;  // `descriptor_base64`: a FileDescriptorSet, maybe gzipped
  std::string protobuf_message;     // `message_type`, fully qualified; empty: no decoding
  bool empty() const { return program.empty(); }
  bool operator==(const ContentFilter&) const = default;
};

// A message matches when, for every rule, it has an attribute of that name (compared
// case-insensitively) whose value the rule's regex finds a match in (a search, not a full
// match; case-insensitive), and its content filter, when it has one, outputs true first. An
// empty filter matches nothing, as in the reference operator.
class Filter {
 public:
  struct Rule {
    std::string name;        // as the user wrote it
    std::string name_lower;  // ASCII-lowercased, what matching compares
    std::string pattern;
    std::shared_ptr<const RE2> regex;
  };

  // Compiles every regex with RE2. Errors name the field ("message_filter.<name>") and say
  // why RE2 refused the pattern; callers add the queue id and file in front.
  static Result<Filter> compile(const std::map<std::string, std::string>& message_filter);

  // A filter that matches nothing.
  Filter() = default;

  // The same filter with the content filter `content` (empty: none).
  Filter withContent(ContentFilter content) const;
  Filter withContent(std::string program) const { return withContent(ContentFilter{std::move(program), {}, {}}); }

  bool matchesNothing() const { return rules_.empty() && content_.empty(); }
  const std::vector<Rule>& rules() const { return rules_; }
  const ContentFilter& content() const { return content_; }

  // Whether the attribute rules match, one by one (true for a filter with only a content
  // filter). The Router matches many filters at once; this is the plain definition it is
  // checked and benchmarked against. Thread-safe.
  bool matches(const Message& message) const;

 private:
  std::vector<Rule> rules_;
  ContentFilter content_;
};

// The RE2 options every filter regex is compiled with (case-insensitive, quiet).
RE2::Options filterRegexOptions();

inline char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
std::string asciiLower(std::string_view text);

}  // namespace qsplit::core
