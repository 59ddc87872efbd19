#include "brokers/memory/memory_broker.h"

#include <utility>

namespace qsplit::memory {
namespace {

class QueueSource final : public core::Source {
 public:
  QueueSource(MemoryStore& store, std::string name) : store_(store), name_(std::move(name)) {}
  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override {
    return store_.receiveQueue(name_, max, wait);
  }
  Result<void> ack(std::span<const core::Message> messages) override {
    return store_.settleQueue(name_, messages, true);
  }
  Result<void> release(std::span<const core::Message> messages) override {
    return store_.settleQueue(name_, messages, false);
  }

 private:
  MemoryStore& store_;
  std::string name_;
};

class TopicSource final : public core::Source {
 public:
  TopicSource(MemoryStore& store, std::string topic, std::string group)
      : store_(store), topic_(std::move(topic)), group_(std::move(group)),
        member_(store_.joinGroup(topic_, group_)) {}
  ~TopicSource() override { store_.leaveGroup(topic_, group_, member_); }

  Result<std::vector<core::Message>> receive(std::size_t max, std::chrono::milliseconds wait) override {
    return store_.receiveTopic(topic_, group_, member_, position_, max, wait);
  }
  Result<void> ack(std::span<const core::Message> messages) override {
    return store_.ackTopic(topic_, group_, messages);
  }
  Result<void> release(std::span<const core::Message> messages) override {
    store_.releaseTopic(position_, messages);
    return ok();
  }

 private:
  MemoryStore& store_;
  std::string topic_;
  std::string group_;
  uint64_t member_;
  MemoryStore::Position position_;
};

class MemorySink final : public core::Sink {
 public:
  MemorySink(MemoryStore& store, std::string name) : store_(store), name_(std::move(name)) {}
  void submit(std::span<const core::Message> messages) override {
    auto appended = store_.append(name_, messages, &found_);
    if (!appended && result_) result_ = appended;  // keep the first error until await()
  }
  Result<void> await() override { return std::exchange(result_, ok()); }

 private:
  MemoryStore& store_;
  std::string name_;
  MemoryStore::Found found_;
  Result<void> result_;
};

}  // namespace

MemoryBroker::MemoryBroker(Clock& clock, MemoryOptions options)
    : store_(clock, options.visibility_timeout) {}

Result<std::unique_ptr<core::Source>> MemoryBroker::openSource(const std::string& name,
                                                               const std::string& group) {
  QSPLIT_ASSIGN_OR_RETURN(core::QueueInfo info, store_.describe(name));
  if (info.kind == core::QueueKind::kQueue)
    return std::unique_ptr<core::Source>(std::make_unique<QueueSource>(store_, name));
  if (group.empty())
    return fail(ErrorCode::kInvalidArgument, "reading topic '" + name + "' needs a consumer group");
  return std::unique_ptr<core::Source>(std::make_unique<TopicSource>(store_, name, group));
}

Result<std::unique_ptr<core::Sink>> MemoryBroker::openSink(const std::string& name) {
  QSPLIT_TRY(store_.describe(name));
  return std::unique_ptr<core::Sink>(std::make_unique<MemorySink>(store_, name));
}

Result<void> MemoryBroker::createLike(const std::string& original, const std::string& name) {
  QSPLIT_ASSIGN_OR_RETURN(core::QueueInfo info, store_.describe(original));
  if (info.kind == core::QueueKind::kQueue) return store_.createQueue(name);
  return store_.createTopic(name, info.partitions);
}

}  // namespace qsplit::memory
