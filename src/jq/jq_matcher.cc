#include "jq/jq_matcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

// Variables the worker keeps: the sanitizers' settings. Nothing else of qsplitd's environment
// (credentials among it) is visible to a filter through `env` or `$ENV`.
std::vector<std::string> workerEnvironment() {
  std::vector<std::string> env;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  return env;
}

}  // namespace

JqMatcher::JqMatcher(JqMatcherOptions options) : options_(std::move(options)) {}

JqMatcher::~JqMatcher() { stopWorker(false); }

Result<void> JqMatcher::spawn() {
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
  pid_ = pid;
  fd_ = fds[0];
  frames_.clear();
  return ok();
}

void JqMatcher::stopWorker(bool kill) {
  if (pid_ < 0) return;
  if (kill) ::kill(pid_, SIGKILL);
  ::close(fd_);  // a worker that is not stuck ends on its own when its socket closes
  fd_ = -1;
  int status = 0;
  if (!kill) {
    // A worker that reported a limit has exited; one that did not ends at EOF, at once.
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (::waitpid(pid_, &status, WNOHANG) == 0) ::kill(pid_, SIGKILL);
  }
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Result<void> JqMatcher::sendAll(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::kUnavailable, "the jq worker closed its socket");
    sent += static_cast<std::size_t>(n);
  }
  return ok();
}

Result<void> JqMatcher::readFrame(std::string& frame, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (frames_.next(frame)) return ok();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return fail(ErrorCode::kTimeout, "the jq worker does not answer");
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::kUnavailable, "the jq worker ended");
    frames_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<uint32_t> JqMatcher::compileIn(uint32_t id, const core::ContentFilter& filter) {
  std::string request;
  std::size_t at = wire::begin(request, 'C');
  wire::putU32(request, id);
  wire::putString(request, filter.program);
  wire::putString(request, filter.protobuf_descriptor);
  wire::putString(request, filter.protobuf_message);
  wire::finish(request, at);
  auto sent = sendAll(request);
  std::string frame;
  if (sent) sent = readFrame(frame, kCompileWait);
  if (!sent) {
    stopWorker(true);
    return fail(sent.error());
  }
  wire::Reader in(frame);
  auto kind = in.u8();
  in.u32();
  if (kind == 'O') return id;
  auto message = in.string();
  return fail(ErrorCode::kInvalidArgument, message ? std::string(*message) : "the program does not compile");
}

Result<void> JqMatcher::ensureWorker() {
  if (pid_ >= 0) return ok();
  QSPLIT_TRY(spawn());
  for (auto& [id, p] : programs_) {
    if (p.off) continue;
    auto compiled = compileIn(id, p.filter);
    if (!compiled && pid_ < 0) return fail(compiled.error());
    if (!compiled) switchOff(id, "it no longer compiles: " + compiled.error().message());
  }
  return ok();
}

Result<uint32_t> JqMatcher::program(const std::string& session_id, const core::ContentFilter& filter) {
  std::lock_guard lock(mutex_);
  if (auto it = by_session_.find(session_id); it != by_session_.end()) return it->second;
  QSPLIT_TRY(ensureWorker());
  uint32_t id = next_id_++;
  QSPLIT_TRY(compileIn(id, filter));
  programs_[id] = Program{session_id, filter, false, {}};
  by_session_[session_id] = id;
  return id;
}

void JqMatcher::release(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto it = by_session_.find(session_id);
  if (it == by_session_.end()) return;
  uint32_t id = it->second;
  programs_.erase(id);
  by_session_.erase(it);
  if (pid_ < 0) return;
  std::string request;
  std::size_t at = wire::begin(request, 'F');
  wire::putU32(request, id);
  wire::finish(request, at);
  if (!sendAll(request)) stopWorker(true);
}

Result<void> JqMatcher::check(const core::ContentFilter& filter) {
  std::lock_guard lock(mutex_);
  QSPLIT_TRY(ensureWorker());
  uint32_t id = next_id_++;
  QSPLIT_TRY(compileIn(id, filter));
  std::string request;
  std::size_t at = wire::begin(request, 'F');
  wire::putU32(request, id);
  wire::finish(request, at);
  if (!sendAll(request)) stopWorker(true);
  return ok();
}

void JqMatcher::switchOff(uint32_t id, const std::string& reason) {
  auto it = programs_.find(id);
  if (it == programs_.end() || it->second.off) return;
  it->second.off = true;
  it->second.reason = reason;
  if (options_.on_off) options_.on_off(it->second.session_id, reason);
}

std::map<std::string, std::string> JqMatcher::switchedOff() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, std::string> off;
  for (const auto& [id, p] : programs_)
    if (p.off) off[p.session_id] = p.reason;
  return off;
}

pid_t JqMatcher::workerPid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

std::size_t JqMatcher::round(std::span<core::ContentQuery> queries, std::size_t from) {
  std::string request;
  Document document;
  Result<void> written = ok();
  std::vector<std::size_t> sent;  // query indices, in the order of their answers
  std::size_t end = from;
  for (; end < queries.size() && sent.size() < kRound; ++end) {
    auto& q = queries[end];
    std::vector<core::ContentCandidate> live;
    bool decodes = false;  // some candidate reads payload_decoded: the worker needs the bytes
    for (const auto& c : q.candidates) {
      auto it = programs_.find(c.program);
      if (it == programs_.end() || it->second.off) continue;
      live.push_back(c);
      decodes = decodes || !it->second.filter.protobuf_message.empty();
    }
    if (live.empty()) continue;
    options_.document(*q.message, document);
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
      written = sendAll(request);
      request.clear();
    }
  }
  if (written) written = sendAll(request);  // on failure, the worker's last frame says why
  std::string frame;
  for (std::size_t index : sent) {
    auto& q = queries[index];
    auto wait = options_.limits.time * static_cast<long>(q.candidates.size()) + kSlack;
    auto read = readFrame(frame, wait);
    wire::Reader in(frame);
    auto kind = read ? in.u8() : std::nullopt;
    if (kind == 'R') {
      uint32_t count = in.u32().value_or(0);
      for (uint32_t k = 0; k < count; ++k) {
        auto id = in.u32();
        for (std::size_t c = 0; id && c < q.candidates.size(); ++c)
          if (q.candidates[c].program == *id) q.matched[c] = 1;
      }
      failures_ = 0;
      continue;
    }
    if (kind == 'T' || kind == 'M') {
      auto id = in.u32().value_or(0);
      switchOff(id, kind == 'T' ? "it ran longer than the " +
                                      std::to_string(options_.limits.time.count()) + " ms limit"
                                : "it used more than the " +
                                      std::to_string(options_.limits.memory_mb) + " MiB limit");
      stopWorker(false);
      return index;  // this message again, with a new worker and without that program
    }
    logger("jq")->warn("the jq worker failed ({}); starting a new one",
                       read ? "unexpected answer" : read.error().message());
    stopWorker(true);
    if (++failures_ < 2) return index;
    failures_ = 0;
    return index + 1;  // twice on this message: it matches none of these filters
  }
  if (!written) stopWorker(true);
  return end;
}

void JqMatcher::match(std::span<core::ContentQuery> queries) {
  std::lock_guard lock(mutex_);
  for (auto& q : queries) q.matched.assign(q.candidates.size(), 0);
  std::size_t next = 0;
  while (next < queries.size()) {
    if (auto started = ensureWorker(); !started) {
      logger("jq")->error("{}; content filters match nothing until it starts", started.error().message());
      return;
    }
    next = round(queries, next);
  }
}

}  // namespace qsplit::jq
