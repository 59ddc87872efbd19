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

#include "jq/jq_program.h"
#include "jq/protobuf_jv.h"
#include "jq/protobuf_schema.h"
#include "jq/jq_wire.h"

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

struct Program {
  JqProgram jq;
  bool wrapped;     // compiled inside kFromJsonOnce
  int schema = -1;  // the payload_protobuf its payload_decoded comes from, in Worker::schemas_
};

// A schema, shared by the programs that name the same descriptor and message type.
struct Schema {
  std::string descriptor;
  std::string message_type;
  ProtobufSchema loaded;
};

// What the watchdog and the crash handler read: the evaluation in progress, if any.
int g_fd = -1;
std::atomic<bool> g_running{false};
std::atomic<uint32_t> g_program{0};
std::atomic<int64_t> g_started_ns{0};
std::mutex g_write;

// The value a tape (doc_tape.h) holds; jv_invalid when it is not one.
jv fromTape(wire::Reader& in, int depth = 0) {
  auto kind = in.u8();
  if (!kind || depth > 64) return jv_invalid();
  switch (*kind) {
    case '{': {
      jv object = jv_object();
      while (in.peek() != '}') {
        auto name = in.string();
        jv value = name ? fromTape(in, depth + 1) : jv_invalid();
        if (!jv_is_valid(value)) return jv_free(object), value;
        object = jv_object_set(object, jv_string_sized(name->data(), static_cast<int>(name->size())), value);
      }
      in.u8();
      return object;
    }
    case '[': {
      jv array = jv_array();
      while (in.peek() != ']') {
        jv value = fromTape(in, depth + 1);
        if (!jv_is_valid(value)) return jv_free(array), value;
        array = jv_array_append(array, value);
      }
      in.u8();
      return array;
    }
    case 's': {
      auto s = in.string();
      return s ? jv_string_sized(s->data(), static_cast<int>(s->size())) : jv_invalid();
    }
    case 'n': {
      auto d = in.f64();
      return d ? jv_number(*d) : jv_invalid();
    }
    case 't': return jv_true();
    case 'f': return jv_false();
    case 'z': return jv_null();
  }
  return jv_invalid();
}

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
  void query(wire::Reader& in);
  bool run(Program& program, jv input);
  Result<int> schema(std::string_view descriptor, std::string_view message_type);
  // The message decoded by schema `index` (jv_null when it does not decode), once per message.
  jv decoded(int index, uint32_t program, std::string_view payload, std::vector<jv>& cache);
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
  std::vector<Schema> schemas_;  // kept while the worker lives; a session's end is rare
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

void Worker::compile(wire::Reader& in) {
  auto id = in.u32();
  auto text = in.string();
  auto descriptor = in.string();
  auto message_type = in.string();
  if (!id || !text || !descriptor || !message_type) return;
  std::string reply;
  std::size_t at;
  std::string program(*text);
  // A program that calls fromjson is compiled inside kFromJsonOnce, once. One that does not
  // compile there (only definitions, a module directive, or a syntax error) is compiled as
  // written: it then parses the body itself, or fails with jq's message about its own text.
  bool wrapped = false;
  Result<JqProgram> compiled = fail(ErrorCode::kInvalidArgument, "not compiled");
  if (program.find("fromjson") != std::string::npos && program.find("__qsplit") == std::string::npos) {
    compiled = JqProgram::compile(kFromJsonOnce + program);
    wrapped = compiled.has_value();
  }
  if (!wrapped) compiled = JqProgram::compile(program);
  if (!compiled) compiled = fail(compiled.error().withContext("jq_filter"));
  auto schema_index = compiled ? schema(*descriptor, *message_type) : Result<int>(-1);
  if (!compiled || !schema_index) {
    at = wire::begin(reply, 'E');
    wire::putU32(reply, *id);
    wire::putString(reply, compiled ? schema_index.error().message() : compiled.error().message());
  } else {
    programs_.insert_or_assign(*id, Program{std::move(compiled).value(), wrapped, *schema_index});
    at = wire::begin(reply, 'O');
    wire::putU32(reply, *id);
  }
  wire::finish(reply, at);
  answer(reply);
}

jv Worker::decoded(int index, uint32_t program, std::string_view payload, std::vector<jv>& cache) {
  if (cache.size() < schemas_.size()) cache.resize(schemas_.size(), jv_invalid());
  if (jv_is_valid(cache[index])) return jv_copy(cache[index]);
  // Decoding runs under the watchdog too, counted to the program that asked for it.
  g_program.store(program);
  g_started_ns.store(nowNs());
  g_running.store(true);
  const google::protobuf::Message* message = payload.empty() ? nullptr : schemas_[index].loaded.parse(payload);
  cache[index] = message ? protobufToJv(*message) : jv_null();
  g_running.store(false);
  return jv_copy(cache[index]);
}

bool Worker::run(Program& program, jv input) {
  jq_state* jq = program.jq.state();
  g_started_ns.store(nowNs());
  g_running.store(true);
  jq_start(jq, input, 0);
  jv first = jq_next(jq);
  g_running.store(false);
  bool matched = jv_get_kind(first) == JV_KIND_TRUE;
  jv_free(first);
  return matched;
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

  std::vector<uint32_t> matched;
  wire::Reader tape(*document);
  jv doc = fromTape(tape);
  // One string value for the body, in the document and beside it: fromjson's check that its
  // input is the body is then a pointer comparison.
  jv text = body_field->empty() ? jv_null() : jv_string_sized(body->data(), static_cast<int>(body->size()));
  if (jv_is_valid(doc) && !body_field->empty())
    doc = jv_object_set(doc, jv_string_sized(body_field->data(), static_cast<int>(body_field->size())),
                        jv_copy(text));
  jv body_pair = jv_invalid();  // [body or null, parsed body or null], parsed once
  std::vector<jv> decodings;    // per schema, this message decoded
  if (jv_get_kind(doc) == JV_KIND_OBJECT) {
    for (const auto& [id, steal] : candidates) {
      auto it = programs_.find(id);
      if (it == programs_.end()) continue;
      jv input = jv_copy(doc);
      if (it->second.schema >= 0) {
        jv message = decoded(it->second.schema, id, *payload, decodings);
        if (jv_get_kind(message) == JV_KIND_NULL) {  // a payload that does not decode never matches
          jv_free(message);
          jv_free(input);
          continue;
        }
        input = jv_object_set(input, jv_string("payload_decoded"), message);
      }
      if (it->second.wrapped) {
        if (!jv_is_valid(body_pair)) {
          jv parsed = body_field->empty()
                          ? jv_invalid()
                          : jv_parse_sized(body->data(), static_cast<int>(body->size()));
          bool ok = jv_is_valid(parsed);
          body_pair = JV_ARRAY(ok ? jv_copy(text) : jv_null(), ok ? parsed : jv_null());
          if (!ok) jv_free(parsed);
        }
        input = JV_ARRAY(input, jv_array_get(jv_copy(body_pair), 0), jv_array_get(jv_copy(body_pair), 1));
      }
      g_program.store(id);
      if (!run(it->second, input)) continue;
      matched.push_back(id);
      if (steal) break;
    }
  }
  jv_free(doc);
  jv_free(text);
  jv_free(body_pair);
  for (jv d : decodings) jv_free(d);

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
      if (auto id = in.u32()) programs_.erase(*id);
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
