#include "jq/jq_worker.h"

extern "C" {
#include <jq.h>
#include <jv.h>
}

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jq/comparison.h"
#include "jq/jq_program.h"
#include "jq/protobuf_jv.h"
#include "jq/protobuf_schema.h"
#include "jq/jq_wire.h"
#include "jq/tape_jv.h"

namespace qsplit::jq {
namespace {

// Programs that call fromjson are compiled inside this prefix, which parses the message's
// body once for all of them: fromjson on that very string returns the parsed value, any other
// input goes to jq's own fromjson. The input is then [document, body or null, parsed body].
constexpr const char* kFromJsonOnce =
    ". as [$__qsplit_doc, $__qsplit_body, $__qsplit_parsed] | $__qsplit_doc | "
    "def __qsplit_fromjson: fromjson; "
    "def fromjson: if type == \"string\" and . == $__qsplit_body then $__qsplit_parsed "
    "else __qsplit_fromjson end; ";

// A left side shared by programs of the form `LEFT == LITERAL` (comparison.h): one run per
// message decides them all.
struct Left {
  JqProgram jq;
  bool wrapped;  // compiled inside kFromJsonOnce
  int users = 0;
};

struct Program {
  JqProgram jq;
  bool wrapped;     // compiled inside kFromJsonOnce
  int schema = -1;  // the payload_protobuf its payload_decoded comes from, in Worker::schemas_
  // Set when the program is `LEFT == LITERAL`: the key of its LEFT in Worker::lefts_. The
  // program then does not run: LEFT's first output is compared with `literal`.
  std::string left;
  OwnedJv literal;
  bool equal = true;  // `==`; false for `!=`
};

// A schema, shared by the programs that name the same descriptor and message type.
struct Schema {
  std::string descriptor;
  std::string message_type;
  ProtobufSchema loaded;
};

// What one message's programs share, each made at most once: its document, its body as a
// string, the body parsed for fromjson, the payload decoded per schema, and the first output
// of each shared left side.
struct Shared {
  std::string_view body;
  std::string_view payload;
  jv doc = jv_invalid();
  jv text = jv_null();
  jv body_pair = jv_invalid();  // [body or null, parsed body or null]
  std::vector<jv> decodings;    // per schema
  std::map<const Left*, jv> lefts;
  Shared() = default;
  Shared(const Shared&) = delete;
  ~Shared() {
    jv_free(doc), jv_free(text), jv_free(body_pair);
    for (jv d : decodings) jv_free(d);
    for (auto& [left, output] : lefts) jv_free(output);
  }
};

// What the watchdog and the crash handler read: the evaluation in progress, if any.
int g_fd = -1;
std::atomic<bool> g_running{false};
std::atomic<uint32_t> g_program{0};
std::atomic<int64_t> g_started_ns{0};
std::mutex g_write;

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sendAll(const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(g_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) _exit(0);  // qsplitd is gone
    sent += static_cast<std::size_t>(n);
  }
}

std::string limitFrame(char kind, uint32_t program) {
  std::string frame;
  std::size_t at = wire::begin(frame, kind);
  wire::putU32(frame, program);
  wire::finish(frame, at);
  return frame;
}

// jq aborts when it cannot allocate; a crash inside a program is reported like a memory overrun.
extern "C" void onCrash(int) {
  if (g_running.load()) {
    std::string frame = limitFrame('M', g_program.load());
    ssize_t ignored = ::write(g_fd, frame.data(), frame.size());
    (void)ignored;
  }
  _exit(3);
}

std::size_t residentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

void watch(JqLimits limits) {
  const int64_t limit_ns = std::chrono::nanoseconds(limits.time).count();
  std::size_t memory = limits.memory_mb << 20;
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer (the tests' second pass), a busy worker's resident set holds about
  // 250 MiB of the sanitizer's own allocator caches and shadow pages: the bound is about the
  // programs' memory, not the sanitizer's.
  memory += std::size_t{512} << 20;
#endif
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!g_running.load()) continue;
    char kind = 0;
    if (nowNs() - g_started_ns.load() > limit_ns) kind = 'T';
    else if (residentBytes() > memory) kind = 'M';
    if (!kind) continue;
    std::lock_guard lock(g_write);
    if (!g_running.load()) continue;
    sendAll(limitFrame(kind, g_program.load()));
    _exit(0);
  }
}

class Worker {
 public:
  void serve();

 private:
  bool readFrame(std::string& frame);
  void compile(wire::Reader& in);
  // Makes `program` a comparison sharing its left side, when it is one (comparison.h).
  void share(Program& program, const std::string& text);
  void forget(uint32_t id);
  void query(wire::Reader& in);
  bool matches(Shared& message, Program& program, uint32_t id);
  // The input of a program with this schema and wrapping; jv_invalid when its payload does
  // not decode (it then never matches).
  jv input(Shared& message, int schema, bool wrapped, uint32_t id);
  Result<int> schema(std::string_view descriptor, std::string_view message_type);
  // The message decoded by schema `index` (jv_null when it does not decode), once per message.
  jv decoded(int index, uint32_t program, Shared& message);
  // Answers go out together, when every request read so far is answered: one write, and one
  // wake-up of qsplitd, per batch rather than per message.
  void answer(const std::string& frame) { out_ += frame; }
  void flush() {
    if (out_.empty()) return;
    std::lock_guard lock(g_write);
    sendAll(out_);
    out_.clear();
  }

  std::map<uint32_t, Program> programs_;
  std::map<std::string, Left> lefts_;  // by schema and text
  std::vector<Schema> schemas_;  // kept while the worker lives; a session's end is rare
  TapeToJv tapes_;
  wire::Frames frames_;
  std::string out_;       // answers not yet written
};

bool Worker::readFrame(std::string& frame) {
  for (;;) {
    if (frames_.next(frame)) return true;
    flush();  // nothing more to answer before the next read
    char chunk[65536];
    ssize_t n = ::read(g_fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    frames_.append(chunk, static_cast<std::size_t>(n));
  }
}

Result<int> Worker::schema(std::string_view descriptor, std::string_view message_type) {
  if (message_type.empty()) return -1;
  for (std::size_t i = 0; i < schemas_.size(); ++i)
    if (schemas_[i].descriptor == descriptor && schemas_[i].message_type == message_type)
      return static_cast<int>(i);
  std::string type(message_type);
  QSPLIT_ASSIGN_OR_RETURN(auto loaded, ProtobufSchema::load(descriptor, type));
  schemas_.push_back(Schema{std::string(descriptor), type, std::move(loaded)});
  return static_cast<int>(schemas_.size() - 1);
}

// `text` compiled, inside kFromJsonOnce when it calls fromjson (and .second says so). One
// that does not compile there (only definitions, a module directive, or a syntax error) is
// compiled as written: it then parses the body itself, or fails with jq's message about its
// own text.
Result<std::pair<JqProgram, bool>> compileWrapped(const std::string& text) {
  if (text.find("fromjson") != std::string::npos && text.find("__qsplit") == std::string::npos) {
    if (auto wrapped = JqProgram::compile(kFromJsonOnce + text))
      return std::pair<JqProgram, bool>{std::move(wrapped).value(), true};
  }
  QSPLIT_ASSIGN_OR_RETURN(auto plain, JqProgram::compile(text));
  return std::pair<JqProgram, bool>{std::move(plain), false};
}

void Worker::compile(wire::Reader& in) {
  auto id = in.u32();
  auto text = in.string();
  auto descriptor = in.string();
  auto message_type = in.string();
  if (!id || !text || !descriptor || !message_type) return;
  std::string reply;
  std::size_t at;
  std::string program(*text);
  auto compiled = compileWrapped(program);
  if (!compiled) compiled = fail(compiled.error().withContext("jq_filter"));
  auto schema_index = compiled ? schema(*descriptor, *message_type) : Result<int>(-1);
  if (!compiled || !schema_index) {
    at = wire::begin(reply, 'E');
    wire::putU32(reply, *id);
    wire::putString(reply, compiled ? schema_index.error().message() : compiled.error().message());
  } else {
    forget(*id);
    Program compiled_program{std::move(compiled->first), compiled->second, *schema_index, {}, {}, true};
    share(compiled_program, program);
    programs_.insert_or_assign(*id, std::move(compiled_program));
    at = wire::begin(reply, 'O');
    wire::putU32(reply, *id);
  }
  wire::finish(reply, at);
  answer(reply);
}

void Worker::share(Program& program, const std::string& text) {
  auto comparison = splitComparison(text);
  if (!comparison) return;
  OwnedJv literal(jv_parse_sized(comparison->literal.data(), static_cast<int>(comparison->literal.size())));
  jv_kind kind = jv_get_kind(literal.copy());
  if (kind == JV_KIND_INVALID || kind == JV_KIND_ARRAY || kind == JV_KIND_OBJECT) return;
  std::string key = std::to_string(program.schema) + ":" + comparison->left;
  auto it = lefts_.find(key);
  if (it == lefts_.end()) {
    auto left = compileWrapped(comparison->left);
    if (!left) return;
    it = lefts_.emplace(key, Left{std::move(left->first), left->second}).first;
  }
  ++it->second.users;
  program.left = key;
  program.literal = std::move(literal);
  program.equal = comparison->equal;
}

void Worker::forget(uint32_t id) {
  auto it = programs_.find(id);
  if (it == programs_.end()) return;
  if (auto left = lefts_.find(it->second.left); left != lefts_.end() && --left->second.users == 0)
    lefts_.erase(left);
  programs_.erase(it);
}

jv Worker::decoded(int index, uint32_t program, Shared& message) {
  auto& cache = message.decodings;
  if (cache.size() < schemas_.size()) cache.resize(schemas_.size(), jv_invalid());
  if (jv_is_valid(cache[index])) return jv_copy(cache[index]);
  // Decoding runs under the watchdog too, counted to the program that asked for it.
  g_program.store(program);
  g_started_ns.store(nowNs());
  g_running.store(true);
  const google::protobuf::Message* decoded =
      message.payload.empty() ? nullptr : schemas_[index].loaded.parse(message.payload);
  cache[index] = decoded ? protobufToJv(*decoded) : jv_null();
  g_running.store(false);
  return jv_copy(cache[index]);
}

// The first output of `jq` for `input`, run under the watchdog as program `id`.
jv firstOutput(JqProgram& jq, jv input, uint32_t id) {
  g_program.store(id);
  g_started_ns.store(nowNs());
  g_running.store(true);
  jq_start(jq.state(), input, 0);
  jv first = jq_next(jq.state());
  g_running.store(false);
  return first;
}

jv Worker::input(Shared& message, int schema, bool wrapped, uint32_t id) {
  jv input = jv_copy(message.doc);
  if (schema >= 0) {
    jv decoded = this->decoded(schema, id, message);
    if (jv_get_kind(decoded) == JV_KIND_NULL) {  // a payload that does not decode never matches
      jv_free(decoded);
      jv_free(input);
      return jv_invalid();
    }
    input = jv_object_set(input, jv_string("payload_decoded"), decoded);
  }
  if (!wrapped) return input;
  if (!jv_is_valid(message.body_pair)) {
    bool text = jv_get_kind(message.text) == JV_KIND_STRING;
    jv parsed = text ? jv_parse_sized(message.body.data(), static_cast<int>(message.body.size())) : jv_invalid();
    bool ok = jv_is_valid(parsed);
    message.body_pair = JV_ARRAY(ok ? jv_copy(message.text) : jv_null(), ok ? parsed : jv_null());
    if (!ok) jv_free(parsed);
  }
  return JV_ARRAY(input, jv_array_get(jv_copy(message.body_pair), 0), jv_array_get(jv_copy(message.body_pair), 1));
}

bool Worker::matches(Shared& message, Program& program, uint32_t id) {
  auto left = program.left.empty() ? lefts_.end() : lefts_.find(program.left);
  if (left == lefts_.end()) {
    jv in = input(message, program.schema, program.wrapped, id);
    if (!jv_is_valid(in)) return false;
    jv first = firstOutput(program.jq, in, id);
    bool matched = jv_get_kind(first) == JV_KIND_TRUE;
    jv_free(first);
    return matched;
  }
  auto [output, fresh] = message.lefts.try_emplace(&left->second, jv_invalid());
  if (fresh) {
    jv in = input(message, program.schema, left->second.wrapped, id);
    if (jv_is_valid(in)) output->second = firstOutput(left->second.jq, in, id);
  }
  // An error or no output of LEFT is no output of the program: no match, for `!=` too.
  if (!jv_is_valid(output->second)) return false;
  return jv_equal(jv_copy(output->second), program.literal.copy()) == program.equal;
}

void Worker::query(wire::Reader& in) {
  auto count = in.u32();
  if (!count) return;
  std::vector<std::pair<uint32_t, bool>> candidates;
  for (uint32_t i = 0; i < *count; ++i) {
    auto id = in.u32();
    auto steal = in.u8();
    if (!id || !steal) return;
    candidates.emplace_back(*id, *steal != 0);
  }
  auto document = in.string();
  auto body_field = in.string();
  auto body = in.string();
  auto payload = in.string();
  if (!document || !body_field || !body || !payload) return;

  Shared message;
  message.body = *body;
  message.payload = *payload;
  wire::Reader tape(*document);
  message.doc = tapes_.read(tape);
  // One string value for the body, in the document and beside it: fromjson's check that its
  // input is the body is then a pointer comparison. qsplitd sends a body_field only for a body
  // that is UTF-8 (documents.cc).
  if (!body_field->empty()) message.text = checkedUtf8String(*body);
  if (jv_is_valid(message.doc) && !body_field->empty())
    message.doc = jv_object_set(message.doc, jv_string_sized(body_field->data(), static_cast<int>(body_field->size())),
                                jv_copy(message.text));
  std::vector<uint32_t> matched;
  if (jv_get_kind(message.doc) == JV_KIND_OBJECT) {
    for (const auto& [id, steal] : candidates) {
      auto it = programs_.find(id);
      if (it == programs_.end() || !matches(message, it->second, id)) continue;
      matched.push_back(id);
      if (steal) break;
    }
  }
  std::string reply;
  std::size_t at = wire::begin(reply, 'R');
  wire::putU32(reply, static_cast<uint32_t>(matched.size()));
  for (uint32_t id : matched) wire::putU32(reply, id);
  wire::finish(reply, at);
  answer(reply);
}

void Worker::serve() {
  std::string frame;
  while (readFrame(frame)) {
    wire::Reader in(frame);
    auto kind = in.u8();
    if (!kind) continue;
    if (*kind == 'C') compile(in);
    else if (*kind == 'Q') query(in);
    else if (*kind == 'F') {
      if (auto id = in.u32()) forget(*id);
    }
  }
}

}  // namespace

bool parseJqWorkerArgs(int argc, char** argv, int& fd, JqLimits& limits) {
  if (argc != 5) return false;
  char* end = nullptr;
  long values[3];
  for (int i = 0; i < 3; ++i) {
    values[i] = std::strtol(argv[2 + i], &end, 10);
    if (*end || values[i] <= 0) return false;
  }
  fd = static_cast<int>(values[0]);
  limits.time = std::chrono::milliseconds(values[1]);
  limits.memory_mb = static_cast<std::size_t>(values[2]);
  return true;
}

int runJqWorker(int fd, JqLimits limits) {
  g_fd = fd;
  std::signal(SIGABRT, onCrash);
  std::signal(SIGSEGV, onCrash);
  std::signal(SIGBUS, onCrash);
#if !defined(__SANITIZE_ADDRESS__)
  // A hard stop behind the watchdog, for an allocation faster than it looks (sanitizers
  // reserve terabytes of address space, so they run without it).
  rlim_t bytes = static_cast<rlim_t>(limits.memory_mb + 512) << 20;
  rlimit limit{bytes, bytes};
  setrlimit(RLIMIT_AS, &limit);
#endif
  std::thread(watch, limits).detach();
  Worker worker;
  worker.serve();
  return 0;
}

}  // namespace qsplit::jq
