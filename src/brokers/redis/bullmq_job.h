// BullMQ's wire protocol, as the bullmq package defines it: the keys of a queue
// (`bull:<queue>:wait`, `bull:<queue>:<job id>`, ...) and the package's own Lua scripts, taken
// from bullmq@kBullmqVersion at build time (scripts/bullmq.sh) and run with the keys and
// msgpack arguments the package passes them. A job travels through the engine as a message:
// its `data` is the body, its id the id, its name the key, its timestamp the timestamp, and
// its options (JSON, as the job hash keeps them) the attribute `opts`.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "brokers/redis/redis_connection.h"
#include "core/message.h"

namespace qsplit::redis {

struct BullmqScript {
  const char* name;  // as the package names it: name-keycount
  int keys;
  const char* text;
};

// Where a queue's keys are: `bull:<queue>:`.
class BullmqQueue {
 public:
  explicit BullmqQueue(std::string name) : name_(std::move(name)), prefix_("bull:" + name_ + ":") {}
  const std::string& name() const { return name_; }
  const std::string& prefix() const { return prefix_; }
  std::string key(const std::string& suffix) const { return prefix_ + suffix; }
  // The keys of `suffixes`, in order, as a script's KEYS.
  std::vector<std::string> keys(std::initializer_list<const char*> suffixes) const {
    std::vector<std::string> out;
    for (const char* s : suffixes) out.push_back(key(s));
    return out;
  }

 private:
  std::string name_, prefix_;
};

// The scripts a connection runs: the package's, and qsplit's own kRemoveTaken, loaded into the server (SCRIPT LOAD) on first use; their
// digests are kept per connection, as a restarted server forgets them.
class BullmqScripts {
 public:
  enum Id { kAddStandard, kAddDelayed, kAddPrioritized, kMoveToActive, kRemove, kActiveToWait, kStalled,
            kPromote, kRemoveTaken, kCount };
  // Loads every script on `connection`.
  Result<void> load(RedisConnection& connection);
  // EVALSHA of script `id` with `keys` then `args`.
  std::vector<std::string> call(Id id, const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) const;

 private:
  std::vector<std::string> sha_;
};

// The job of a moveToActive reply's HGETALL fields, as a message.
core::Message jobMessage(const std::string& id, const RedisReply& fields);
// The EVALSHA that adds `job` to `queue` with the same id, name, data, timestamp and options,
// through the script the package's Queue.add would choose (delayed, prioritised or standard).
// Fails when the job's options are not a JSON object.
Result<std::vector<std::string>> addJob(const BullmqScripts& scripts, const BullmqQueue& queue,
                                        const core::Message& job);

}  // namespace qsplit::redis
