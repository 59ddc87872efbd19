#include "core/router.h"

#include <algorithm>

namespace qsplit::core {
namespace {

// Below these sizes plain regex searches beat an RE2::Set's fixed cost (a DFA walk and a
// match-set allocation per call); the cross-overs were measured with bench/router_bench.
constexpr size_t kLoopAtMost = 2;          // patterns on one attribute name
constexpr size_t kLoopSessionsAtMost = 3;  // sessions in the table

// Per-thread working memory of route(), sized to the largest table seen on this thread.
struct Scratch {
  std::vector<uint8_t> satisfied;        // per pattern
  std::vector<uint32_t> counts;          // per session: satisfied patterns
  std::vector<uint32_t> touched_patterns;
  std::vector<uint32_t> touched_sessions;
  std::vector<int> hits;
  std::string name;
  std::vector<uint32_t> matched;  // attributeMatches of one message
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// `text` lowercased: itself when it has no uppercase letter, else a copy in `buffer`.
std::string_view lowered(const std::string& text, std::string& buffer) {
  bool upper = false;
  for (char c : text) upper = upper || (c >= 'A' && c <= 'Z');
  if (!upper) return text;
  buffer.assign(text);
  for (char& c : buffer) c = asciiLower(c);
  return buffer;
}

}  // namespace

const char* queueModeName(QueueMode mode) {
  switch (mode) {
    case QueueMode::kSteal: return "steal";
    case QueueMode::kMirror: return "mirror";
  }
  return "?";
}

Result<QueueMode> queueModeFromName(const std::string& name) {
  if (name == "steal") return QueueMode::kSteal;
  if (name == "mirror") return QueueMode::kMirror;
  return fail(ErrorCode::kInvalidArgument,
              "unknown queue mode '" + name + "': expected \"steal\" or \"mirror\"");
}

Result<std::shared_ptr<const RouteTable>> RouteTable::build(
    std::vector<SessionRoute> sessions, std::string fallback, uint64_t generation,
    std::shared_ptr<ContentMatcher> content) {
  std::shared_ptr<RouteTable> table(new RouteTable());
  table->generation_ = generation;
  table->destinations_.push_back(std::move(fallback));
  for (uint32_t s = 0; s < sessions.size(); ++s) {
    table->destinations_.push_back(sessions[s].destination);
    table->programs_.push_back(kNoProgram);
    if (const ContentFilter& filter = sessions[s].filter.content(); !filter.empty()) {
      std::string where = "session " + sessions[s].session_id;
      if (!content)
        return fail(ErrorCode::kFailedPrecondition, where + ": jq_filter: content filters are not available here");
      auto program = content->program(sessions[s].session_id, filter);
      if (!program) return fail(program.error().withContext(where));
      table->programs_.back() = *program;
      table->has_content_ = true;
      if (sessions[s].filter.rules().empty()) table->content_only_.push_back(s);
    }
    table->required_.push_back(static_cast<uint32_t>(sessions[s].filter.rules().size()));
    for (const auto& rule : sessions[s].filter.rules()) {
      auto& name_set = table->by_name_[rule.name_lower];
      if (!name_set.set) {
        RE2::Options options = filterRegexOptions();
        options.set_max_mem(64 << 20);
        name_set.set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
      }
      std::string error;
      if (name_set.set->Add(rule.pattern, &error) < 0) {
        return fail(ErrorCode::kInvalidArgument, "session " + sessions[s].session_id +
                                                     ": message_filter." + rule.name + ": " + error);
      }
      name_set.pattern_ids.push_back(static_cast<uint32_t>(table->patterns_.size()));
      table->patterns_.push_back(Pattern{s, rule.regex.get()});
    }
  }
  for (auto& [name, name_set] : table->by_name_) {
    if (!name_set.set->Compile())
      return fail(ErrorCode::kInternal, "cannot compile the filters on attribute '" + name +
                                            "' into one RE2::Set (out of memory)");
  }
  table->sessions_ = std::move(sessions);
  table->content_ = std::move(content);
  return std::shared_ptr<const RouteTable>(std::move(table));
}

void RouteTable::matchName(const NameSet& name_set, const std::string& value,
                           std::vector<int>& hits) const {
  hits.clear();
  if (name_set.pattern_ids.size() <= kLoopAtMost) {
    for (size_t i = 0; i < name_set.pattern_ids.size(); ++i)
      if (RE2::PartialMatch(value, *patterns_[name_set.pattern_ids[i]].regex))
        hits.push_back(static_cast<int>(i));
    return;
  }
  RE2::Set::ErrorInfo info{};
  if (name_set.set->Match(value, &hits, &info) || info.kind == RE2::Set::kNoError) return;
  // The set's DFA ran out of memory on this input: match its patterns one at a time.
  set_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  hits.clear();
  for (size_t i = 0; i < name_set.pattern_ids.size(); ++i)
    if (RE2::PartialMatch(value, *patterns_[name_set.pattern_ids[i]].regex))
      hits.push_back(static_cast<int>(i));
}

void RouteTable::attributeMatches(const Message& message, std::vector<uint32_t>& out) const {
  out.clear();
  if (sessions_.size() <= kLoopSessionsAtMost || by_name_.empty()) {
    for (uint32_t i = 0; i < sessions_.size(); ++i) {
      if (!sessions_[i].filter.matches(message)) continue;
      out.push_back(i);
      if (ends(i)) return;
    }
    return;
  }
  Scratch& s = scratch();
  if (s.satisfied.size() < patterns_.size()) s.satisfied.resize(patterns_.size(), 0);
  if (s.counts.size() < sessions_.size()) s.counts.resize(sessions_.size(), 0);

  for (const auto& attribute : message.routingAttributes()) {
    auto it = by_name_.find(lowered(attribute.name, s.name));
    if (it == by_name_.end()) continue;
    matchName(it->second, attribute.value, s.hits);
    for (int hit : s.hits) {
      uint32_t pattern = it->second.pattern_ids[static_cast<size_t>(hit)];
      if (s.satisfied[pattern]) continue;  // a repeated attribute name satisfies a rule once
      s.satisfied[pattern] = 1;
      s.touched_patterns.push_back(pattern);
      uint32_t session = patterns_[pattern].session;
      if (s.counts[session]++ == 0) s.touched_sessions.push_back(session);
    }
  }
  // Content-only sessions have no rule to satisfy: their counts stay at the required zero.
  s.touched_sessions.insert(s.touched_sessions.end(), content_only_.begin(), content_only_.end());
  std::sort(s.touched_sessions.begin(), s.touched_sessions.end());
  for (uint32_t session : s.touched_sessions) {
    if (s.counts[session] != required_[session]) continue;
    out.push_back(session);
    if (ends(session)) break;
  }

  for (uint32_t p : s.touched_patterns) s.satisfied[p] = 0;
  for (uint32_t session : s.touched_sessions) s.counts[session] = 0;
  s.touched_patterns.clear();
  s.touched_sessions.clear();
}

void RouteTable::decide(const std::vector<uint32_t>& sessions, const uint8_t* content,
                        Decision& out) const {
  out.destinations.clear();
  for (uint32_t session : sessions) {
    if (programs_[session] != kNoProgram && !*content++) continue;
    out.destinations.push_back(session + 1);
    if (sessions_[session].mode == QueueMode::kSteal) return;
  }
  out.destinations.push_back(kFallback);
}

void RouteTable::route(std::span<const Message> messages, std::span<Decision> out) const {
  Scratch& s = scratch();
  std::vector<ContentQuery> queries;
  std::vector<std::pair<std::size_t, std::vector<uint32_t>>> asked;  // message -> its sessions
  for (std::size_t i = 0; i < messages.size(); ++i) {
    attributeMatches(messages[i], s.matched);
    ContentQuery query;
    for (uint32_t session : s.matched)
      if (programs_[session] != kNoProgram)
        query.candidates.push_back({programs_[session], sessions_[session].mode == QueueMode::kSteal});
    if (query.candidates.empty()) {
      decide(s.matched, nullptr, out[i]);
      continue;
    }
    query.message = &messages[i];
    queries.push_back(std::move(query));
    asked.emplace_back(i, s.matched);
  }
  if (queries.empty()) return;
  content_->match(queries);
  for (std::size_t q = 0; q < queries.size(); ++q)
    decide(asked[q].second, queries[q].matched.data(), out[asked[q].first]);
}

}  // namespace qsplit::core
