// JqProgram: one compiled jq program (Debian's libjq 1.6), and what its first output says.
//
// libjq 1.6 is not safe on several threads, and a running program cannot be interrupted. So
// a JqProgram is only used where jq owns the process: the jq worker (jq_worker.h), which
// qsplitd runs as a child it can kill, and the qsplit command before it starts any thread.
#pragma once

#include <string>

#include "common/result.h"
#include "core/filter.h"

struct jq_state;

namespace qsplit::jq {

class JqProgram {
 public:
  // Compiles `text`. A program may not import modules. The error is jq's own message, e.g.
  // "syntax error, unexpected INVALID_CHARACTER (Unix shell quoting issues?) at <top-level>,
  // line 1".
  static Result<JqProgram> compile(const std::string& text);

  JqProgram(JqProgram&& other) noexcept;
  JqProgram& operator=(JqProgram&& other) noexcept;
  ~JqProgram();

  // True when the program's first output for the JSON document `input` is `true`; false for
  // any other output, no output or an error. `input` must be valid JSON.
  bool matches(const std::string& input);

  // jq's own state, for the worker, which feeds it parsed values directly.
  jq_state* state() { return state_; }

 private:
  explicit JqProgram(jq_state* state) : state_(state) {}
  jq_state* state_ = nullptr;
};

// Whether `text` compiles, with jq's message if not. In this process: see above.
Result<void> checkProgram(const std::string& text);
// Whether a content filter's program compiles and its protobuf schema loads, in this process;
// errors start with the field ("jq_filter: ...", "payload_protobuf.message_type: ..."), as
// config::checkContentFilters wants them.
Result<void> checkContent(const core::ContentFilter& filter);

// The language version qsplit accepts: that of the libjq it is built with ("1.6").
const char* jqVersion();

}  // namespace qsplit::jq
