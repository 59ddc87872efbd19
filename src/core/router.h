// Router: decides, per message, which temporary queues of one original queue receive it.
#pragma once

#include <re2/set.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "core/content.h"
#include "core/filter.h"
#include "core/message.h"

namespace qsplit::core {

enum class QueueMode {
  kSteal,   // a matching message goes to this session only
  kMirror,  // a matching message is copied to this session and continues on its way
};

const char* queueModeName(QueueMode mode);
// "steal" or "mirror"; anything else is an error naming it.
Result<QueueMode> queueModeFromName(const std::string& name);

struct SessionRoute {
  std::string session_id;
  Filter filter;
  QueueMode mode = QueueMode::kSteal;
  std::string destination;  // the session's temporary queue or topic
};

// The destinations of one message: indices into RouteTable::destinations().
struct Decision {
  std::vector<uint32_t> destinations;
};

// An immutable snapshot of the sessions of one queue, in start order. Routing rule:
// walk the sessions in start order; a matching mirror session gets a copy and the walk
// goes on; the first matching steal session gets the message and the walk stops; if no
// steal session matched, the fallback gets it. All attribute filters are matched at once: one
// RE2::Set per attribute name holds every session's regex for that name. Content filters
// (jq) are asked of the table's ContentMatcher only for the sessions whose attributes matched,
// for a whole batch at once, in start order, stopping at the first steal match.
class RouteTable {
 public:
  static constexpr uint32_t kFallback = 0;

  // `sessions` in start order. destinations()[0] is the fallback, [i + 1] session i's.
  // `content` compiles and evaluates the sessions' content filters; a session with one and
  // no `content` is an error.
  static Result<std::shared_ptr<const RouteTable>> build(
      std::vector<SessionRoute> sessions, std::string fallback, uint64_t generation = 0,
      std::shared_ptr<ContentMatcher> content = nullptr);

  // Decides out[i] for messages[i]. Thread-safe; allocation-free once warm when no session
  // has a content filter (scratch space is per thread).
  void route(std::span<const Message> messages, std::span<Decision> out) const;
  void route(const Message& message, Decision& out) const { route({&message, 1}, {&out, 1}); }

  const std::vector<std::string>& destinations() const { return destinations_; }
  const std::vector<SessionRoute>& sessions() const { return sessions_; }
  uint64_t generation() const { return generation_; }
  // Whether some session has a content filter (routing then asks the ContentMatcher).
  bool hasContentFilters() const { return has_content_; }
  // How many times an RE2::Set ran out of memory and the patterns were matched one by one.
  uint64_t setFallbacks() const { return set_fallbacks_.load(std::memory_order_relaxed); }

 private:
  struct NameSet {
    std::unique_ptr<RE2::Set> set;
    std::vector<uint32_t> pattern_ids;  // set index -> global pattern id
  };
  struct Pattern {
    uint32_t session;
    const RE2* regex;
  };

  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  static constexpr uint32_t kNoProgram = UINT32_MAX;

  RouteTable() = default;
  // The sessions whose attribute rules match, in start order, up to the first steal session
  // that needs no content filter (nothing after it can receive the message).
  void attributeMatches(const Message& message, std::vector<uint32_t>& out) const;
  bool ends(uint32_t session) const {
    return sessions_[session].mode == QueueMode::kSteal && programs_[session] == kNoProgram;
  }
  // The decision from `sessions` (attributeMatches) and, in their order, the answers of the
  // content filters among them.
  void decide(const std::vector<uint32_t>& sessions, const uint8_t* content, Decision& out) const;
  void matchName(const NameSet& name_set, const std::string& value,
                 std::vector<int>& hits) const;

  std::vector<SessionRoute> sessions_;
  std::vector<std::string> destinations_;
  std::vector<uint32_t> required_;  // per session: how many patterns must be satisfied
  std::vector<uint32_t> programs_;  // per session: its content filter, or kNoProgram
  std::vector<uint32_t> content_only_;  // sessions with a content filter and no attribute rule
  std::shared_ptr<ContentMatcher> content_;
  std::vector<Pattern> patterns_;
  // lowercased attribute name -> set
  std::unordered_map<std::string, NameSet, NameHash, std::equal_to<>> by_name_;
  uint64_t generation_ = 0;
  bool has_content_ = false;
  mutable std::atomic<uint64_t> set_fallbacks_{0};
};

// Holds the current RouteTable of one queue; swapped atomically on session start and end
// so the forwarding path takes no lock.
class Router {
 public:
  explicit Router(std::shared_ptr<const RouteTable> table) : table_(std::move(table)) {}
  std::shared_ptr<const RouteTable> table() const { return table_.load(); }
  void publish(std::shared_ptr<const RouteTable> table) { table_.store(std::move(table)); }

 private:
  std::atomic<std::shared_ptr<const RouteTable>> table_;
};

}  // namespace qsplit::core
