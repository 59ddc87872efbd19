// JqMatcher: the ContentMatcher of one queue, backed by a jq worker process (jq_worker.h)
// that it starts on first use and again after the worker ends.
//
// When a program runs past the time or memory limit, the worker ends; the matcher switches
// that session's filter off (it then matches nothing), reports it once through `on_off`,
// starts a new worker with the other programs, and evaluates the rest of the batch there.
// Nothing is left running: a worker that stops answering is killed.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "core/content.h"
#include "jq/jq_wire.h"
#include "jq/jq_worker.h"

namespace qsplit::jq {

// The document a program reads, in two parts: `tape` (doc_tape.h) holds every field but the
// body, which the worker adds as the string field `body_field` (so a body is never copied
// into the tape). The body is also what fromjson most likely
// parses: the worker parses it once per message for every program. No body_field: the body is
// in `json` already (as base64, when it is not UTF-8), or there is none.
struct Document {
  std::string tape;
  std::string body_field;
  std::string body;
};
using DocumentBuilder = std::function<void(const core::Message& message, Document& out)>;

struct JqMatcherOptions {
  std::string worker;  // the executable that serves `--jq-worker FD TIME_MS MEMORY_MB`
  JqLimits limits;
  DocumentBuilder document;
  // Called once when a session's filter is switched off, with the session and the reason
  // ("ran longer than the 200 ms limit"); from the forwarding thread.
  std::function<void(const std::string& session_id, const std::string& reason)> on_off;
};

class JqMatcher : public core::ContentMatcher {
 public:
  explicit JqMatcher(JqMatcherOptions options);
  ~JqMatcher() override;

  Result<uint32_t> program(const std::string& session_id, const core::ContentFilter& filter) override;
  void release(const std::string& session_id) override;
  void match(std::span<core::ContentQuery> queries) override;

  // Compiles `filter` and forgets it: whether a program compiles and its schema loads; errors
  // start with the field, as jq::checkContent's.
  Result<void> check(const core::ContentFilter& filter);

  // The sessions whose filter is off, with the reason.
  std::map<std::string, std::string> switchedOff() const;
  // The worker process now, or -1 when none runs.
  pid_t workerPid() const;

 private:
  struct Program {
    std::string session_id;
    core::ContentFilter filter;
    bool off = false;
    std::string reason;  // why it is off
  };
  enum class Answer { kFrame, kLimit, kGone };

  Result<void> ensureWorker();
  Result<void> spawn();
  void stopWorker(bool kill);
  Result<void> sendAll(const std::string& data);
  // Reads the next frame into `frame`, waiting at most `wait`.
  Result<void> readFrame(std::string& frame, std::chrono::milliseconds wait);
  Result<uint32_t> compileIn(uint32_t id, const core::ContentFilter& filter);
  // Evaluates queries [from, end) in one round; returns where the next round starts.
  std::size_t round(std::span<core::ContentQuery> queries, std::size_t from);
  void switchOff(uint32_t id, const std::string& reason);

  JqMatcherOptions options_;
  mutable std::mutex mutex_;
  std::map<uint32_t, Program> programs_;
  std::map<std::string, uint32_t> by_session_;
  uint32_t next_id_ = 1;
  pid_t pid_ = -1;
  int fd_ = -1;
  wire::Frames frames_;
  int failures_ = 0;  // consecutive worker ends without a reason
};

}  // namespace qsplit::jq
