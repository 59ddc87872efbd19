// The in-process storage behind the memory broker: queues with visibility timeouts and
// redelivery, and partitioned topics with consumer-group offsets. One lock for all.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "core/broker.h"

namespace qsplit::memory {

struct StoredMessage {
  uint64_t seq;  // arrival order, so redelivered messages go back to their place
  core::Message message;
};

struct StoredQueue {
  std::deque<StoredMessage> visible;
  struct InFlight {
    StoredMessage stored;
    TimePoint deadline;
  };
  std::map<uint64_t, InFlight> in_flight;  // by receipt
};

struct GroupMember {
  uint64_t id;
};

struct StoredGroup {
  std::vector<int64_t> committed;  // per partition: the next offset to read
  std::vector<std::map<int64_t, bool>> acked_ahead;  // acked offsets past `committed`
  std::vector<uint64_t> members;   // in join order; partition p goes to members[p % size]
  uint64_t generation = 0;
};

struct StoredTopic {
  std::vector<std::vector<core::Message>> partitions;
  std::map<std::string, StoredGroup> groups;
  uint64_t round_robin = 0;
};

class MemoryStore {
 public:
  static Unexpected notFound(const std::string& name) {
    return fail(ErrorCode::kNotFound, "queue or topic '" + name + "' does not exist");
  }

  MemoryStore(Clock& clock, Duration visibility_timeout)
      : clock_(clock), visibility_timeout_(visibility_timeout) {}

  Result<void> createQueue(const std::string& name);
  Result<void> createTopic(const std::string& name, int32_t partitions);
  Result<core::QueueInfo> describe(const std::string& name);
  Result<void> remove(const std::string& name);
  Result<uint64_t> backlog(const std::string& name, const std::string& group);
  std::vector<std::string> names();

  // Where a sink's queue was found, so its next appends skip the lookup among every queue.
  // Valid while no queue or topic has been removed since (`removals`).
  struct Found {
    StoredQueue* queue = nullptr;
    uint64_t removals = 0;
  };
  Result<void> append(const std::string& name, std::span<const core::Message> messages,
                      Found* found = nullptr);

  // Queues. `receipt`s are decimal strings.
  Result<std::vector<core::Message>> receiveQueue(const std::string& name, std::size_t max,
                                                  std::chrono::milliseconds wait);
  Result<void> settleQueue(const std::string& name, std::span<const core::Message> messages,
                           bool ack);

  // Topics: a member of a group reads the partitions the group assigns it.
  uint64_t joinGroup(const std::string& topic, const std::string& group);
  void leaveGroup(const std::string& topic, const std::string& group, uint64_t member);
  struct Position {
    uint64_t generation = UINT64_MAX;
    std::map<int32_t, int64_t> next;  // assigned partition -> next offset to read
  };
  Result<std::vector<core::Message>> receiveTopic(const std::string& topic,
                                                  const std::string& group, uint64_t member,
                                                  Position& position, std::size_t max,
                                                  std::chrono::milliseconds wait);
  // Commits the highest contiguous acknowledged offset per partition.
  Result<void> ackTopic(const std::string& topic, const std::string& group,
                        std::span<const core::Message> messages);
  // Rewinds `position` to the first released offset of each partition.
  void releaseTopic(Position& position, std::span<const core::Message> messages);

 private:
  void requeueExpired(StoredQueue& queue);
  void assign(StoredTopic& topic, StoredGroup& group, uint64_t member, Position& position);
  std::vector<core::Message> takeFromTopic(StoredTopic& topic, Position& position, std::size_t max);

  Clock& clock_;
  Duration visibility_timeout_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::unordered_map<std::string, StoredQueue> queues_;  // found per send: hashed
  std::map<std::string, StoredTopic> topics_;
  uint64_t removals_ = 0;  // queues and topics removed so far: invalidates every Found
  uint64_t next_seq_ = 1;
  uint64_t next_receipt_ = 1;
  uint64_t next_member_ = 1;
};

}  // namespace qsplit::memory
