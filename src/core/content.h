// ContentMatcher: decides the content filters (`jq_filter`) of one queue's sessions. The
// RouteTable matches attribute rules itself and asks a ContentMatcher only about the sessions
// whose attributes matched and that have a content filter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/filter.h"
#include "core/message.h"

namespace qsplit::core {

struct ContentCandidate {
  uint32_t program = 0;  // from ContentMatcher::program
  bool steal = false;    // a steal match ends the walk: later candidates are not evaluated
};

// One message and, in start order, the content filters it still has to pass.
struct ContentQuery {
  const Message* message = nullptr;
  std::vector<ContentCandidate> candidates;
  std::vector<uint8_t> matched;  // set by match(): one per candidate, 1 when it matched
};

class ContentMatcher {
 public:
  virtual ~ContentMatcher() = default;
  // The program id of session `session_id`'s filter `text`, compiled once per session (a
  // second call for the same session returns the same id). Errors: the program does not
  // compile, or the evaluator cannot start.
  virtual Result<uint32_t> program(const std::string& session_id, const ContentFilter& filter) = 0;
  // Forgets the session's program (its session ended).
  virtual void release(const std::string& session_id) = 0;
  // Answers every query. Never fails: what cannot be evaluated is no match.
  virtual void match(std::span<ContentQuery> queries) = 0;
};

}  // namespace qsplit::core
