// jq_bench: routing Kafka records with 1 KiB JSON payloads among N sessions that each have a
// jq_filter, through qsplit's RouteTable and jq worker, against the plain loop measured in the
// same run: for each session in start order, parse the record's document anew and run its
// program, until one matches. Prints one line per run:
//   sessions=N messages=M qsplit_per_s=... loop_per_s=... agree=1
// With `protobuf` (and SCHEMA, bench/tenant.proto), the same records encoded as protobuf and
// routed by `.payload_decoded.tenant`, against the JSON ones routed by fromjson, same run:
//   decode sessions=N messages=M protobuf_per_s=... json_per_s=... agree=1
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/router.h"
#include "jq/doc_tape.h"
#include "jq/documents.h"
#include "jq/jq_matcher.h"
#include "jq/jq_program.h"
#include "jq/protobuf_schema.h"

#include <google/protobuf/dynamic_message.h>

namespace {

using namespace qsplit;
using Clock = std::chrono::steady_clock;

std::string program(std::size_t session) {
  return ".payload | fromjson | .tenant == \"t" + std::to_string(session) + "\"";
}

// Payloads of about 1 KiB; one in ten names no session's tenant (the fallback's).
std::vector<core::Message> records(std::size_t count, std::size_t sessions) {
  std::vector<core::Message> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::size_t tenant = i % 10 == 9 ? sessions : (i * 7919) % sessions;
    std::string pad(900, static_cast<char>('a' + i % 26));
    out[i].partition = 0;
    out[i].offset = static_cast<int64_t>(i);
    out[i].body = fmt::format(R"({{"tenant": "t{}", "order": {}, "items": [1, 2, 3], "pad": "{}"}})",
                              tenant, i, pad);
  }
  return out;
}

double perSecond(std::size_t count, Clock::duration took) {
  return static_cast<double>(count) / std::chrono::duration<double>(took).count();
}

// qsplit: one route table, its matcher and worker, batches of 500 as a forwarder receives.
// Returns the records per second, and each record's decision in `decisions`.
double route(const std::string& worker, const std::vector<core::ContentFilter>& filters,
             const std::vector<core::Message>& batch, std::vector<core::Decision>& decisions) {
  auto content = std::make_shared<jq::JqMatcher>(jq::JqMatcherOptions{worker, {}, jq::kafkaDocument("orders"), {}});
  std::vector<core::SessionRoute> routes;
  for (std::size_t s = 0; s < filters.size(); ++s)
    routes.push_back({"s" + std::to_string(s), core::Filter().withContent(filters[s]),
                      core::QueueMode::kSteal, "q" + std::to_string(s)});
  auto table = core::RouteTable::build(routes, "fallback", 1, content);
  if (!table) fmt::print(stderr, "{}\n", table.error().message()), std::exit(1);
  decisions.assign(batch.size(), {});
  {
    std::vector<core::Decision> warm(1);
    (*table)->route({batch.data(), 1}, warm);  // the worker starts here, outside the clock
  }
  auto start = Clock::now();
  for (std::size_t at = 0; at < batch.size(); at += 500) {
    std::size_t n = std::min<std::size_t>(500, batch.size() - at);
    (*table)->route({batch.data() + at, n}, {decisions.data() + at, n});
  }
  return perSecond(batch.size(), Clock::now() - start);
}

// The same records as protobuf (bench/tenant.proto's Order), and the filters that read them.
int compareDecoding(const std::string& worker, const std::string& schema_file, std::size_t sessions,
                    std::size_t count) {
  auto descriptor = jq::compileSchema(schema_file, {});
  if (!descriptor) return fmt::print(stderr, "{}\n", descriptor.error().message()), 1;
  auto schema = jq::ProtobufSchema::load(*descriptor, "bench.Order");
  if (!schema) return fmt::print(stderr, "{}\n", schema.error().message()), 1;
  namespace pb = google::protobuf;
  pb::DynamicMessageFactory factory;
  const pb::Descriptor& type = schema->type();
  auto json_batch = records(count, sessions);
  auto proto_batch = json_batch;
  for (auto& m : proto_batch) {
    auto doc = nlohmann::json::parse(m.body);
    std::unique_ptr<pb::Message> order(factory.GetPrototype(&type)->New());
    const pb::Reflection* r = order->GetReflection();
    r->SetString(order.get(), type.FindFieldByName("tenant"), doc["tenant"]);
    r->SetInt64(order.get(), type.FindFieldByName("order"), doc["order"]);
    for (int item : doc["items"]) r->AddInt32(order.get(), type.FindFieldByName("items"), item);
    r->SetString(order.get(), type.FindFieldByName("pad"), doc["pad"]);
    m.body = order->SerializeAsString();
  }
  std::vector<core::ContentFilter> json_filters, proto_filters;
  for (std::size_t s = 0; s < sessions; ++s) {
    json_filters.push_back({program(s)});
    proto_filters.push_back({".payload_decoded.tenant == \"t" + std::to_string(s) + "\"", *descriptor, "bench.Order"});
  }
  std::vector<core::Decision> by_json, by_proto;
  double json_rate = route(worker, json_filters, json_batch, by_json);
  double proto_rate = route(worker, proto_filters, proto_batch, by_proto);
  bool agree = true;
  for (std::size_t i = 0; i < count; ++i) agree = agree && by_json[i].destinations == by_proto[i].destinations;
  fmt::print("decode sessions={} messages={} protobuf_per_s={:.0f} json_per_s={:.0f} agree={}\n", sessions,
             count, proto_rate, json_rate, agree ? 1 : 0);
  return agree ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 6 && std::string(argv[4]) == "protobuf")) {
    fmt::print(stderr, "usage: jq_bench WORKER SESSIONS MESSAGES [protobuf SCHEMA]\n");
    return 2;
  }
  std::string worker = argv[1];
  std::size_t sessions = std::strtoul(argv[2], nullptr, 10);
  std::size_t count = std::strtoul(argv[3], nullptr, 10);
  if (argc == 6) return compareDecoding(worker, argv[5], sessions, count);
  auto batch = records(count, sessions);
  auto document = jq::kafkaDocument("orders");

  // The plain loop, in this process (its only thread that runs jq).
  std::vector<jq::JqProgram> programs;
  for (std::size_t s = 0; s < sessions; ++s) programs.push_back(std::move(jq::JqProgram::compile(program(s))).value());
  std::vector<int> plain(count, -1);
  auto start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    jq::Document parts;
    document(batch[i], parts);
    auto whole = nlohmann::json::parse(jq::tapeToJson(parts.tape));
    if (!parts.body_field.empty()) whole[parts.body_field] = parts.body;
    std::string doc = whole.dump();
    for (std::size_t s = 0; s < sessions; ++s)
      if (programs[s].matches(doc)) {
        plain[i] = static_cast<int>(s);
        break;
      }
  }
  double loop = perSecond(count, Clock::now() - start);

  std::vector<core::ContentFilter> filters;
  for (std::size_t s = 0; s < sessions; ++s) filters.push_back({program(s)});
  std::vector<core::Decision> decisions;
  double routed = route(worker, filters, batch, decisions);

  bool agree = true;
  for (std::size_t i = 0; i < count; ++i) {
    int want = plain[i] < 0 ? 0 : plain[i] + 1;
    agree = agree && decisions[i].destinations == std::vector<uint32_t>{static_cast<uint32_t>(want)};
  }
  fmt::print("sessions={} messages={} qsplit_per_s={:.0f} loop_per_s={:.0f} agree={}\n", sessions,
             count, routed, loop, agree ? 1 : 0);
  return agree ? 0 : 1;
}
