#include "brokers/memory/memory_store.h"

#include <algorithm>

namespace qsplit::memory {
Result<void> MemoryStore::createQueue(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (queues_.count(name) || topics_.count(name))
    return fail(ErrorCode::kAlreadyExists, "queue or topic '" + name + "' already exists");
  queues_[name];
  return ok();
}

Result<void> MemoryStore::createTopic(const std::string& name, int32_t partitions) {
  if (partitions < 1)
    return fail(ErrorCode::kInvalidArgument, "topic '" + name + "' needs at least one partition");
  std::lock_guard lock(mutex_);
  if (queues_.count(name) || topics_.count(name))
    return fail(ErrorCode::kAlreadyExists, "queue or topic '" + name + "' already exists");
  topics_[name].partitions.resize(static_cast<std::size_t>(partitions));
  return ok();
}

Result<core::QueueInfo> MemoryStore::describe(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (queues_.count(name)) return core::QueueInfo{name, core::QueueKind::kQueue, 1};
  auto topic = topics_.find(name);
  if (topic == topics_.end()) return notFound(name);
  return core::QueueInfo{name, core::QueueKind::kTopic,
                         static_cast<int32_t>(topic->second.partitions.size())};
}

Result<void> MemoryStore::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (queues_.erase(name) + topics_.erase(name) == 0) return notFound(name);
  ++removals_;
  arrived_.notify_all();
  return ok();
}

std::vector<std::string> MemoryStore::names() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> all;
  for (const auto& [name, q] : queues_) all.push_back(name);
  for (const auto& [name, t] : topics_) all.push_back(name);
  std::sort(all.begin(), all.end());
  return all;
}

Result<uint64_t> MemoryStore::backlog(const std::string& name, const std::string& group) {
  std::lock_guard lock(mutex_);
  if (auto q = queues_.find(name); q != queues_.end())
    return static_cast<uint64_t>(q->second.visible.size() + q->second.in_flight.size());
  auto t = topics_.find(name);
  if (t == topics_.end()) return notFound(name);
  auto g = t->second.groups.find(group);
  uint64_t lag = 0;
  for (std::size_t p = 0; p < t->second.partitions.size(); ++p) {
    int64_t committed = g == t->second.groups.end() ? 0 : g->second.committed[p];
    lag += static_cast<uint64_t>(static_cast<int64_t>(t->second.partitions[p].size()) - committed);
  }
  return lag;
}

Result<void> MemoryStore::append(const std::string& name, std::span<const core::Message> messages,
                                 Found* found) {
  std::lock_guard lock(mutex_);
  StoredQueue* queue = found && found->queue && found->removals == removals_ ? found->queue : nullptr;
  if (!queue) {
    auto q = queues_.find(name);
    if (q != queues_.end()) queue = &q->second;
    if (found) *found = {queue, removals_};
  }
  if (queue) {
    for (const auto& m : messages) {
      StoredMessage stored{next_seq_++, m};
      stored.message.id = "m-" + std::to_string(stored.seq);
      stored.message.receipt.clear();
      stored.message.partition = -1;
      stored.message.offset = -1;
      queue->visible.push_back(std::move(stored));
    }
  } else if (auto t = topics_.find(name); t != topics_.end()) {
    auto& topic = t->second;
    auto count = static_cast<int32_t>(topic.partitions.size());
    for (const auto& m : messages) {
      int32_t p = m.partition;
      if (p < 0 || p >= count)
        p = m.key ? static_cast<int32_t>(std::hash<std::string>{}(*m.key) % count)
                  : static_cast<int32_t>(topic.round_robin++ % count);
      auto& log = topic.partitions[static_cast<std::size_t>(p)];
      core::Message stored = m;
      stored.partition = p;
      stored.offset = static_cast<int64_t>(log.size());
      stored.receipt.clear();
      log.push_back(std::move(stored));
    }
  } else {
    return notFound(name);
  }
  arrived_.notify_all();
  return ok();
}

void MemoryStore::requeueExpired(StoredQueue& queue) {
  TimePoint now = clock_.now();
  std::vector<StoredMessage> expired;
  for (auto it = queue.in_flight.begin(); it != queue.in_flight.end();) {
    if (it->second.deadline <= now) {
      expired.push_back(std::move(it->second.stored));
      it = queue.in_flight.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(expired.begin(), expired.end(), [](auto& a, auto& b) { return a.seq > b.seq; });
  for (auto& m : expired) queue.visible.push_front(std::move(m));
}

Result<std::vector<core::Message>> MemoryStore::receiveQueue(const std::string& name,
                                                             std::size_t max,
                                                             std::chrono::milliseconds wait) {
  auto until = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(mutex_);
  while (true) {
    auto q = queues_.find(name);
    if (q == queues_.end()) return notFound(name);
    requeueExpired(q->second);
    if (!q->second.visible.empty() || std::chrono::steady_clock::now() >= until) {
      std::vector<core::Message> out;
      TimePoint deadline = clock_.now() + visibility_timeout_;
      while (out.size() < max && !q->second.visible.empty()) {
        StoredMessage stored = std::move(q->second.visible.front());
        q->second.visible.pop_front();
        uint64_t receipt = next_receipt_++;
        stored.message.receipt = std::to_string(receipt);
        out.push_back(stored.message);
        q->second.in_flight.emplace(receipt, StoredQueue::InFlight{std::move(stored), deadline});
      }
      return out;
    }
    // Wake at least every 50 ms so visibility expiry under a manual clock is noticed.
    arrived_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() +
                                                  std::chrono::milliseconds(50)));
  }
}

Result<void> MemoryStore::settleQueue(const std::string& name,
                                      std::span<const core::Message> messages, bool ack) {
  std::lock_guard lock(mutex_);
  auto q = queues_.find(name);
  if (q == queues_.end()) return notFound(name);
  std::vector<StoredMessage> released;
  for (const auto& m : messages) {
    // A receipt that expired and was handed out again is stale: ignore it, as SQS does.
    auto it = q->second.in_flight.find(std::stoull(m.receipt));
    if (it == q->second.in_flight.end()) continue;
    if (!ack) released.push_back(std::move(it->second.stored));
    q->second.in_flight.erase(it);
  }
  std::sort(released.begin(), released.end(), [](auto& a, auto& b) { return a.seq > b.seq; });
  for (auto& m : released) q->second.visible.push_front(std::move(m));
  if (!released.empty()) arrived_.notify_all();
  return ok();
}

}  // namespace qsplit::memory
