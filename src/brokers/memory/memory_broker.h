// MemoryBroker: an in-process broker with the semantics of the real ones, for `qsplit
// demo`, the engine's tests and benchmarks that leave the network out.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "brokers/memory/memory_store.h"
#include "common/clock.h"
#include "core/broker.h"

namespace qsplit::memory {

struct MemoryOptions {
  Duration visibility_timeout = std::chrono::seconds(30);  // as SQS's default
};

class MemoryBroker final : public core::Broker, private core::Admin {
 public:
  explicit MemoryBroker(Clock& clock = SystemClock::instance(), MemoryOptions options = {});

  // Creates an original queue or topic (what producers and the workload already use).
  Result<void> createQueue(const std::string& name) { return store_.createQueue(name); }
  Result<void> createTopic(const std::string& name, int32_t partitions) {
    return store_.createTopic(name, partitions);
  }
  std::vector<std::string> names() { return store_.names(); }

  core::Admin& admin() override { return *this; }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name,
                                                   const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::sqsNameRules(); }

 private:
  Result<core::QueueInfo> describe(const std::string& name) override { return store_.describe(name); }
  Result<void> createLike(const std::string& original, const std::string& name) override;
  Result<void> remove(const std::string& name) override { return store_.remove(name); }
  Result<uint64_t> backlog(const std::string& name, const std::string& group) override {
    return store_.backlog(name, group);
  }

  MemoryStore store_;
};

}  // namespace qsplit::memory
