// Temporary queue and topic names: the user's template, and each broker's name rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/result.h"

namespace qsplit::core {

// What a broker accepts as a queue or topic name.
struct NameRules {
  std::string broker;       // for messages: "SQS", "Kafka", ...
  std::size_t max_length;   // the whole name, suffix included
  std::string extra_chars;  // allowed besides [A-Za-z0-9]
  std::string keep_suffix;  // kept at the very end when the original has it (".fifo")
};

NameRules sqsNameRules();    // at most 80 chars of [A-Za-z0-9_-]; ".fifo" kept
NameRules kafkaNameRules();  // at most 249 chars of [A-Za-z0-9._-]
NameRules rabbitNameRules();  // at most 255 chars of [A-Za-z0-9._-] (AMQP allows more)
NameRules redisNameRules();   // at most 255 chars of [A-Za-z0-9._:-] (keys allow any bytes)
NameRules bullmqNameRules();  // the same without ':', which BullMQ refuses in a queue name
NameRules pubsubNameRules();  // at most 255 chars of [A-Za-z0-9._~+%-] (a topic or subscription ID)

// The default, as in the reference operator.
inline constexpr std::string_view kDefaultNameTemplate =
    "mirrord-tmp-{{RANDOM}}{{FALLBACK}}{{ORIGINAL_TOPIC}}";

// A parsed name template. Placeholders: {{RANDOM}} (10 random digits), {{FALLBACK}}
// ("-fallback-" for the deployed workload's queue, "-" for a session's), and
// {{ORIGINAL_TOPIC}} (or its v1 spelling {{ORIGINAL}}): the original name. All three are
// required, so that every name is unique and says where it comes from.
class NameTemplate {
 public:
  static Result<NameTemplate> parse(std::string_view text);
  NameTemplate() : NameTemplate(*parse(kDefaultNameTemplate)) {}

  const std::string& text() const { return text_; }

  // The name for `original` under `rules`, with a fresh random part. Characters the broker
  // does not accept become '-'; a name that would be too long is cut and given a hash
  // suffix of the whole name, so it stays unique and is never rejected.
  std::string generate(std::string_view original, bool fallback, const NameRules& rules,
                       Random& random) const;

 private:
  struct Empty {};
  explicit NameTemplate(Empty) {}
  enum class Part { kText, kRandom, kFallback, kOriginal };
  struct Piece {
    Part part;
    std::string text;
  };
  std::string text_;
  std::vector<Piece> pieces_;
};

// The dummy exchange a RabbitMQ app is given, in an exchangeSource variable, while it reads
// `queue`: "mirrord-exchange-" + queue, cut to AMQP's 255 characters with a hash.
std::string dummyExchangeName(std::string_view queue);

// Cuts `name` to `max_length` keeping its start and ending with "-" and 12 hex digits of
// a hash of the whole name. Unchanged if it already fits.
std::string shortenWithHash(std::string_view name, std::size_t max_length);

}  // namespace qsplit::core
