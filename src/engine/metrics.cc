#include "engine/metrics.h"

#include <map>

namespace qsplit::engine {
namespace {

// A label value as the text format requires: backslash, quote and newline escaped.
std::string escaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void family(std::string& out, const std::string& name, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n";
}

}  // namespace

std::string prometheusText(const std::vector<SplitStatus>& splits) {
  std::string out;
  family(out, "mirrord_read_sqs_messages_count", "Messages read from the original queue.");
  for (const auto& s : splits)
    out += "mirrord_read_sqs_messages_count{original_queue=\"" + escaped(s.original) + "\"} " +
           std::to_string(s.counts.read) + "\n";
  family(out, "mirrord_unmatched_sqs_messages_count",
         "Messages no session's filter matched, sent to the deployed workload.");
  for (const auto& s : splits)
    out += "mirrord_unmatched_sqs_messages_count{original_queue=\"" + escaped(s.original) +
           "\"} " + std::to_string(s.counts.unmatched) + "\n";
  family(out, "mirrord_sqs_messages_forwarded_to_user_count",
         "Messages forwarded to a session's temporary queue.");
  for (const auto& s : splits) {
    std::map<std::string, std::string> session_of;
    for (const auto& q : s.sessions) session_of[q.queue] = q.session_id;
    for (const auto& [queue, count] : s.counts.forwarded) {
      if (queue == s.fallback) continue;
      out += "mirrord_sqs_messages_forwarded_to_user_count{original_queue=\"" +
             escaped(s.original) + "\",session=\"" + escaped(session_of[queue]) + "\",queue=\"" +
             escaped(queue) + "\"} " + std::to_string(count) + "\n";
    }
  }
  return out;
}

}  // namespace qsplit::engine
