// RedisSource: reads one stream in the workload's consumer group, as a consumer of its own
// (XREADGROUP), so the workload's group stands past what qsplit took when the workload reads
// the stream again. An entry is acknowledged (XACK) only after it was forwarded. One given
// back goes to the stream's end again with its fields, and is acknowledged in the same
// MULTI, so nothing is left pending under qsplit's name. Entries pending under a consumer that
// has been idle for `claim_idle` (a crashed qsplit, a workload moved to another stream) are
// claimed (XAUTOCLAIM) and forwarded too.
#pragma once

#include <chrono>
#include <optional>

#include "brokers/redis/redis_connection.h"
#include "core/broker.h"

namespace qsplit::redis {

class RedisSource final : public core::Source {
 public:
  // Connects; the caller has checked that the stream has the group (RedisAdmin::checkGroup).
  static Result<std::unique_ptr<RedisSource>> open(const RedisAddress& address, const std::string& stream,
                                                   const std::string& group, std::chrono::milliseconds claim_idle);
  ~RedisSource() override;

  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override;
  Result<void> ack(std::span<const core::Message> messages) override;
  Result<void> release(std::span<const core::Message> messages) override;

 private:
  RedisSource(RedisAddress address, std::string stream, std::string group, std::chrono::milliseconds claim_idle);
  Result<RedisConnection*> connection();
  // Entries pending too long under other consumers, claimed for this one.
  Result<std::vector<core::Message>> claim(std::size_t max);
  // XREADGROUP from `id` (">" for new entries, "0" for this consumer's pending ones).
  Result<std::vector<core::Message>> read(std::size_t max, std::chrono::milliseconds wait, const std::string& id);
  // A failed command leaves the connection unusable: the next call connects again.
  template <class T>
  Result<T> checked(Result<T> result) {
    if (!result) connection_.reset();
    return result;
  }

  RedisAddress address_;
  std::string stream_, group_, consumer_;
  std::chrono::milliseconds claim_idle_;
  std::optional<RedisConnection> connection_;
  // After a reconnection: what this consumer had pending when the connection broke (an
  // acknowledgement that never arrived) is read again first.
  bool reread_own_ = false;
  bool connected_once_ = false;
  std::chrono::steady_clock::time_point last_claim_{};
  std::string claim_cursor_ = "0-0";
};

// The entries of a stream reply ([[id, [field, value, ...]], ...]) as messages; an entry
// deleted since it was delivered (nil fields) is skipped.
std::vector<core::Message> entriesToMessages(const RedisReply& entries);
// XADD `stream` * with the message's attributes as the entry's fields, in order.
std::vector<std::string> xadd(const std::string& stream, const core::Message& message);

}  // namespace qsplit::redis
