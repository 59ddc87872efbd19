#include "jq/jq_program.h"

extern "C" {
#include <jq.h>
#include <jv.h>
}

#include <utility>

#include "jq/protobuf_schema.h"

namespace qsplit::jq {
namespace {

// Collects the compiler's messages; jq reports one or more, then "jq: N compile errors".
void collectError(void* data, jv message) {
  auto* errors = static_cast<std::string*>(data);
  if (jv_get_kind(message) == JV_KIND_STRING) {
    std::string text = jv_string_value(message);
    if (text.starts_with("jq: error: ")) text = text.substr(11);
    // jq quotes the program's line after the message: the message alone, on one line.
    text = text.substr(0, text.find('\n'));
    if (text.ends_with(":")) text.pop_back();
    if (!text.starts_with("jq: ") || errors->empty()) *errors += (errors->empty() ? "" : "; ") + text;
  }
  jv_free(message);
}

void ignoreDebug(void*, jv message) { jv_free(message); }

}  // namespace

Result<JqProgram> JqProgram::compile(const std::string& text) {
  jq_state* state = jq_init();
  if (!state) return fail(ErrorCode::kInternal, "jq cannot start (out of memory)");
  JqProgram program(state);
  std::string errors;
  jq_set_error_cb(state, collectError, &errors);
  jq_set_debug_cb(state, ignoreDebug, nullptr);
  // No library path: `import` and `include` find nothing, so a filter cannot read files.
  jq_set_attr(state, jv_string("JQ_LIBRARY_PATH"), jv_array());
  if (!jq_compile(state, text.c_str())) {
    if (errors.empty()) errors = "the program does not compile";
    return fail(ErrorCode::kInvalidArgument, errors);
  }
  jq_set_error_cb(state, nullptr, nullptr);
  return program;
}

JqProgram::JqProgram(JqProgram&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}

JqProgram& JqProgram::operator=(JqProgram&& other) noexcept {
  std::swap(state_, other.state_);
  return *this;
}

JqProgram::~JqProgram() {
  if (state_) jq_teardown(&state_);
}

bool JqProgram::matches(const std::string& input) {
  jv value = jv_parse_sized(input.data(), static_cast<int>(input.size()));
  if (!jv_is_valid(value)) {
    jv_free(value);
    return false;
  }
  jq_start(state_, value, 0);
  jv first = jq_next(state_);
  bool matched = jv_get_kind(first) == JV_KIND_TRUE;
  jv_free(first);
  return matched;
}

Result<void> checkProgram(const std::string& text) {
  QSPLIT_TRY(JqProgram::compile(text));
  return ok();
}

Result<void> checkContent(const core::ContentFilter& filter) {
  if (auto compiled = JqProgram::compile(filter.program); !compiled)
    return fail(compiled.error().withContext("jq_filter"));
  if (!filter.protobuf_message.empty())
    QSPLIT_TRY(ProtobufSchema::load(filter.protobuf_descriptor, filter.protobuf_message));
  return ok();
}

const char* jqVersion() { return "1.6"; }

}  // namespace qsplit::jq
