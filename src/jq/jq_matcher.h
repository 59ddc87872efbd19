// JqMatcher: the ContentMatcher of one queue, backed by jq worker processes (jq_worker.h)
// that it starts on first use and again after one ends. A large batch is shared between the
// workers and evaluated on all of them at once (libjq runs one program at a time per process,
// so a second worker is what lets a batch's filters use a second core); a small batch goes
// to the first worker alone.
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
#include <vector>

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
// Writes the message's document; an empty tape means it has none, and matches no filter.
using DocumentBuilder = std::function<void(const core::Message& message, Document& out)>;

struct JqMatcherOptions {
  std::string worker;  // the executable that serves `--jq-worker FD TIME_MS MEMORY_MB`
  JqLimits limits;
  DocumentBuilder document;
  // Called once when a session's filter is switched off, with the session and the reason
  // ("ran longer than the 200 ms limit"); from a thread that runs match().
  std::function<void(const std::string& session_id, const std::string& reason)> on_off;
  // Worker processes that share a large batch (at least 1); each has the limits above.
  std::size_t workers = 1;
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
  // Worker `index`'s process now, or -1 when none runs.
  pid_t workerPid(std::size_t index = 0) const;

 private:
  struct Program {
    std::string session_id;
    core::ContentFilter filter;
    bool off = false;
    std::string reason;  // why it is off
  };
  // One worker process and its socket.
  struct Worker {
    pid_t pid = -1;
    int fd = -1;
    wire::Frames frames;
    int failures = 0;  // consecutive ends without a reason
    bool answered = false;  // since it started: its first answer waits longer (kStartWait)
  };

  Result<void> ensureWorker(Worker& w);
  Result<void> spawn(Worker& w);
  void stopWorker(Worker& w, bool kill);
  Result<void> sendAll(Worker& w, const std::string& data);
  // Reads the next frame into `frame`, waiting at most `wait`.
  Result<void> readFrame(Worker& w, std::string& frame, std::chrono::milliseconds wait);
  Result<uint32_t> compileIn(Worker& w, uint32_t id, const core::ContentFilter& filter);
  // Tells a running worker to forget program `id`.
  void forget(Worker& w, uint32_t id);
  // Answers every query of `queries` on `w`, starting it again after it ends.
  void evaluate(Worker& w, std::span<core::ContentQuery> queries);
  // Evaluates queries [from, end) in one round; returns where the next round starts.
  std::size_t round(Worker& w, std::span<core::ContentQuery> queries, std::size_t from);
  void switchOff(uint32_t id, const std::string& reason);

  JqMatcherOptions options_;
  mutable std::mutex mutex_;  // one call at a time (program, release, check, match)
  // Guards programs_ and by_session_, which the workers of one match() read and switch off.
  mutable std::mutex state_mutex_;
  std::map<uint32_t, Program> programs_;
  std::map<std::string, uint32_t> by_session_;
  uint32_t next_id_ = 1;
  std::vector<Worker> workers_;
};

}  // namespace qsplit::jq
