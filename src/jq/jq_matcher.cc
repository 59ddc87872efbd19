#include "jq/jq_matcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "common/log.h"
#include "jq/jq_wire.h"

namespace qsplit::jq {
namespace {

// Messages per round trip (their answers fit in a socket's buffer), sent in pieces so the
// worker evaluates the first while the next are built.
constexpr std::size_t kRound = 512;
constexpr std::size_t kPiece = 32;
// Beyond the time limits, how long an answer may take before the worker counts as stuck.
constexpr std::chrono::milliseconds kSlack{2000};
constexpr std::chrono::milliseconds kCompileWait{5000};
// The least wait for a worker's first answer: a process to start first, which on a loaded or
// sanitized machine takes seconds (routing waits for it rather than match nothing).
constexpr std::chrono::milliseconds kStartWait{30000};
// Queries per worker below which a batch is not shared (an SQS batch is 40 at most).
constexpr std::size_t kShare = 256;

// Variables the worker keeps: the sanitizers' settings. Nothing else of qsplitd's environment
// (credentials among it) is visible to a filter through `env` or `$ENV`.
std::vector<std::string> workerEnvironment() {
  std::vector<std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  return env;
}

}  // namespace

JqMatcher::JqMatcher(JqMatcherOptions options)
    : options_(std::move(options)), workers_(std::max<std::size_t>(1, options_.workers)) {}

JqMatcher::~JqMatcher() {
  for (auto& w : workers_) stopWorker(w, false);
}

Result<void> JqMatcher::spawn(Worker& w) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return fail(ErrorCode::kInternal, std::string("jq worker: socketpair: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 3);  // dup2 clears close-on-exec
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::string time = std::to_string(options_.limits.time.count());
  std::string memory = std::to_string(options_.limits.memory_mb);
  std::vector<char*> argv = {options_.worker.data(), const_cast<char*>("--jq-worker"),
                             const_cast<char*>("3"), time.data(), memory.data(), nullptr};
  std::vector<std::string> env = workerEnvironment();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, options_.worker.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return fail(ErrorCode::kUnavailable,
                "cannot start the jq worker " + options_.worker + ": " + std::strerror(rc));
  }
  w.pid = pid;
  w.fd = fds[0];
  w.frames.clear();
  w.answered = false;
  return ok();
}

void JqMatcher::stopWorker(Worker& w, bool kill) {
  if (w.pid < 0) return;
  if (kill) ::kill(w.pid, SIGKILL);
  ::close(w.fd);  // a worker that is not stuck ends on its own when its socket closes
  w.fd = -1;
  int status = 0;
  if (!kill) {
    // A worker that reported a limit has exited; one that did not ends at EOF, at once.
    for (int i = 0; i < 100 && ::waitpid(w.pid, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (::waitpid(w.pid, &status, WNOHANG) == 0) ::kill(w.pid, SIGKILL);
  }
  ::waitpid(w.pid, &status, 0);
  w.pid = -1;
}

Result<void> JqMatcher::sendAll(Worker& w, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(w.fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::kUnavailable, "the jq worker closed its socket");
    sent += static_cast<std::size_t>(n);
  }
  return ok();
}

Result<void> JqMatcher::readFrame(Worker& w, std::string& frame, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + (w.answered ? wait : std::max(wait, kStartWait));
  for (;;) {
    if (w.frames.next(frame)) {
      w.answered = true;
      return ok();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail(ErrorCode::kTimeout, "the jq worker does not answer");
    pollfd p{w.fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[65536];
    ssize_t n = ::read(w.fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::kUnavailable, "the jq worker ended");
    w.frames.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<uint32_t> JqMatcher::compileIn(Worker& w, uint32_t id, const core::ContentFilter& filter) {
  std::string request;
  std::size_t at = wire::begin(request, 'C');
  wire::putU32(request, id);
  wire::putString(request, filter.program);
  wire::putString(request, filter.protobuf_descriptor);
  wire::putString(request, filter.protobuf_message);
  wire::finish(request, at);
  auto sent = sendAll(w, request);
  std::string frame;
  if (sent) sent = readFrame(w, frame, kCompileWait);
  if (!sent) {
    stopWorker(w, true);
    return fail(sent.error());
  }
  wire::Reader in(frame);
  auto kind = in.u8();
  in.u32();
  if (kind == 'O') return id;
  auto message = in.string();
  return fail(ErrorCode::kInvalidArgument, message ? std::string(*message) : "the program does not compile");
}

void JqMatcher::forget(Worker& w, uint32_t id) {
  if (w.pid < 0) return;
  std::string request;
  std::size_t at = wire::begin(request, 'F');
  wire::putU32(request, id);
  wire::finish(request, at);
  if (!sendAll(w, request)) stopWorker(w, true);
}

Result<void> JqMatcher::ensureWorker(Worker& w) {
  if (w.pid >= 0) return ok();
  QSPLIT_TRY(spawn(w));
  std::vector<std::pair<uint32_t, core::ContentFilter>> live;
  {
    std::lock_guard state(state_mutex_);
    for (const auto& [id, p] : programs_)
      if (!p.off) live.emplace_back(id, p.filter);
  }
  for (const auto& [id, filter] : live) {
    auto compiled = compileIn(w, id, filter);
    if (!compiled && w.pid < 0) return fail(compiled.error());
    if (!compiled) switchOff(id, "it no longer compiles: " + compiled.error().message());
  }
  return ok();
}

Result<uint32_t> JqMatcher::program(const std::string& session_id, const core::ContentFilter& filter) {
  std::lock_guard lock(mutex_);
  {
    std::lock_guard state(state_mutex_);
    if (auto it = by_session_.find(session_id); it != by_session_.end()) return it->second;
  }
  // The first worker tells whether it compiles; the others learn it now if they run, or
  // when they start.
  QSPLIT_TRY(ensureWorker(workers_[0]));
  uint32_t id = next_id_++;
  QSPLIT_TRY(compileIn(workers_[0], id, filter));
  for (std::size_t k = 1; k < workers_.size(); ++k)
    if (workers_[k].pid >= 0 && !compileIn(workers_[k], id, filter)) stopWorker(workers_[k], true);
  std::lock_guard state(state_mutex_);
  programs_[id] = Program{session_id, filter, false, {}};
  by_session_[session_id] = id;
  return id;
}

void JqMatcher::release(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  uint32_t id = 0;
  {
    std::lock_guard state(state_mutex_);
    auto it = by_session_.find(session_id);
    if (it == by_session_.end()) return;
    id = it->second;
    programs_.erase(id);
    by_session_.erase(it);
  }
  for (auto& w : workers_) forget(w, id);
}

Result<void> JqMatcher::check(const core::ContentFilter& filter) {
  std::lock_guard lock(mutex_);
  Worker& w = workers_[0];
  QSPLIT_TRY(ensureWorker(w));
  uint32_t id = next_id_++;
  QSPLIT_TRY(compileIn(w, id, filter));
  forget(w, id);
  return ok();
}

void JqMatcher::switchOff(uint32_t id, const std::string& reason) {
  std::string session;
  {
    std::lock_guard state(state_mutex_);
    auto it = programs_.find(id);
    if (it == programs_.end() || it->second.off) return;
    it->second.off = true;
    it->second.reason = reason;
    session = it->second.session_id;
  }
  if (options_.on_off) options_.on_off(session, reason);
}

std::map<std::string, std::string> JqMatcher::switchedOff() const {
  std::lock_guard state(state_mutex_);
  std::map<std::string, std::string> off;
  for (const auto& [id, p] : programs_)
    if (p.off) off[p.session_id] = p.reason;
  return off;
}

pid_t JqMatcher::workerPid(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return index < workers_.size() ? workers_[index].pid : -1;
}

std::size_t JqMatcher::round(Worker& w, std::span<core::ContentQuery> queries, std::size_t from) {
  std::string request;
  Document document;
  Result<void> written = ok();
  std::vector<std::size_t> sent;  // query indices, in the order of their answers
  std::vector<core::ContentCandidate> live;
  std::size_t end = from;
  for (; end < queries.size() && sent.size() < kRound; ++end) {
    auto& q = queries[end];
    live.clear();
    bool decodes = false;  // some candidate reads payload_decoded: the worker needs the bytes
    {
      std::lock_guard state(state_mutex_);
      for (const auto& c : q.candidates) {
        auto it = programs_.find(c.program);
        if (it == programs_.end() || it->second.off) continue;
        live.push_back(c);
        decodes = decodes || !it->second.filter.protobuf_message.empty();
      }
    }
    if (live.empty()) continue;
    options_.document(*q.message, document);
    if (document.tape.empty()) continue;  // no document (a payload that is not JSON): no match
    std::size_t at = wire::begin(request, 'Q');
    wire::putU32(request, static_cast<uint32_t>(live.size()));
    for (const auto& c : live) {
      wire::putU32(request, c.program);
      request.push_back(c.steal ? 1 : 0);
    }
    wire::putString(request, document.tape);
    wire::putString(request, document.body_field);
    wire::putString(request, document.body);
    wire::putString(request, decodes ? std::string_view(q.message->body) : std::string_view());
    wire::finish(request, at);
    sent.push_back(end);
    if (sent.size() % kPiece == 0 && written) {
      written = sendAll(w, request);
      request.clear();
    }
  }
  if (written) written = sendAll(w, request);  // on failure, the worker's last frame says why
  std::string frame;
  for (std::size_t index : sent) {
    auto& q = queries[index];
    auto wait = options_.limits.time * static_cast<long>(q.candidates.size()) + kSlack;
    auto read = readFrame(w, frame, wait);
    wire::Reader in(frame);
    auto kind = read ? in.u8() : std::nullopt;
    if (kind == 'R') {
      uint32_t count = in.u32().value_or(0);
      for (uint32_t k = 0; k < count; ++k) {
        auto id = in.u32();
        for (std::size_t c = 0; id && c < q.candidates.size(); ++c)
          if (q.candidates[c].program == *id) q.matched[c] = 1;
      }
      w.failures = 0;
      continue;
    }
    if (kind == 'T' || kind == 'M') {
      auto id = in.u32().value_or(0);
      switchOff(id, kind == 'T' ? "it ran longer than the " +
                                      std::to_string(options_.limits.time.count()) + " ms limit"
                                : "it used more than the " +
                                      std::to_string(options_.limits.memory_mb) + " MiB limit");
      stopWorker(w, false);
      return index;  // this message again, with a new worker and without that program
    }
    logger("jq")->warn("the jq worker failed ({}); starting a new one",
                       read ? "unexpected answer" : read.error().message());
    stopWorker(w, true);
    if (++w.failures < 2) return index;
    w.failures = 0;
    return index + 1;  // twice on this message: it matches none of these filters
  }
  if (!written) stopWorker(w, true);
  return end;
}

void JqMatcher::evaluate(Worker& w, std::span<core::ContentQuery> queries) {
  std::size_t next = 0;
  while (next < queries.size()) {
    auto started = ensureWorker(w);
    if (!started) {  // once more: a worker killed mid-start is not a jq that cannot start
      logger("jq")->warn("{}; starting another", started.error().message());
      started = ensureWorker(w);
    }
    if (!started) {
      logger("jq")->error("{}; content filters match nothing until it starts", started.error().message());
      return;
    }
    next = round(w, queries, next);
  }
}

void JqMatcher::match(std::span<core::ContentQuery> queries) {
  std::lock_guard lock(mutex_);
  for (auto& q : queries) q.matched.assign(q.candidates.size(), 0);
  // Each worker takes an equal share, all at once; below kShare queries a worker, a share
  // is not worth its thread.
  std::size_t parts = std::clamp<std::size_t>(queries.size() / kShare, 1, workers_.size());
  std::size_t each = (queries.size() + parts - 1) / parts;
  std::vector<std::thread> helpers;
  for (std::size_t k = 1; k < parts; ++k) {
    auto share = queries.subspan(std::min(k * each, queries.size()));
    share = share.first(std::min(each, share.size()));
    try {
      helpers.emplace_back([this, k, share] { evaluate(workers_[k], share); });
    } catch (const std::system_error&) {
      evaluate(workers_[k], share);  // no thread to be had: in turn, as with one worker
    }
  }
  evaluate(workers_[0], queries.first(std::min(each, queries.size())));
  for (auto& t : helpers) t.join();
}

}  // namespace qsplit::jq
