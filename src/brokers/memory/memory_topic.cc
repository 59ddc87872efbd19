// MemoryStore: the topic half (partitions, consumer groups, offsets).
#include <algorithm>

#include "brokers/memory/memory_store.h"

namespace qsplit::memory {

uint64_t MemoryStore::joinGroup(const std::string& topic, const std::string& group) {
  std::lock_guard lock(mutex_);
  uint64_t member = next_member_++;
  auto t = topics_.find(topic);
  if (t == topics_.end()) return member;  // receive() reports the missing topic
  auto& g = t->second.groups[group];
  g.committed.resize(t->second.partitions.size(), 0);
  g.acked_ahead.resize(t->second.partitions.size());
  g.members.push_back(member);
  ++g.generation;
  return member;
}

void MemoryStore::leaveGroup(const std::string& topic, const std::string& group, uint64_t member) {
  std::lock_guard lock(mutex_);
  auto t = topics_.find(topic);
  if (t == topics_.end()) return;
  auto g = t->second.groups.find(group);
  if (g == t->second.groups.end()) return;
  auto& members = g->second.members;
  members.erase(std::remove(members.begin(), members.end(), member), members.end());
  ++g->second.generation;
}

void MemoryStore::assign(StoredTopic& topic, StoredGroup& group, uint64_t member,
                         Position& position) {
  // A rebalance: read from the committed offsets of the partitions now owned, so what the
  // previous owner had not committed is delivered again (at least once, as Kafka does).
  position.generation = group.generation;
  position.next.clear();
  auto index = std::find(group.members.begin(), group.members.end(), member) - group.members.begin();
  auto size = static_cast<std::ptrdiff_t>(group.members.size());
  for (std::size_t p = 0; p < topic.partitions.size(); ++p)
    if (index < size && static_cast<std::ptrdiff_t>(p) % size == index)
      position.next[static_cast<int32_t>(p)] = group.committed[p];
}

std::vector<core::Message> MemoryStore::takeFromTopic(StoredTopic& topic, Position& position,
                                                      std::size_t max) {
  std::vector<core::Message> out;
  bool progress = true;
  // Round-robin over partitions so one busy partition does not starve the others.
  while (out.size() < max && progress) {
    progress = false;
    for (auto& [p, next] : position.next) {
      const auto& log = topic.partitions[static_cast<std::size_t>(p)];
      if (next >= static_cast<int64_t>(log.size()) || out.size() >= max) continue;
      out.push_back(log[static_cast<std::size_t>(next++)]);
      progress = true;
    }
  }
  return out;
}

Result<std::vector<core::Message>> MemoryStore::receiveTopic(const std::string& topic,
                                                             const std::string& group,
                                                             uint64_t member, Position& position,
                                                             std::size_t max,
                                                             std::chrono::milliseconds wait) {
  auto until = std::chrono::steady_clock::now() + wait;
  std::unique_lock lock(mutex_);
  while (true) {
    auto t = topics_.find(topic);
    if (t == topics_.end())
      return notFound(topic);
    auto& g = t->second.groups[group];
    if (g.committed.size() != t->second.partitions.size()) {
      g.committed.resize(t->second.partitions.size(), 0);
      g.acked_ahead.resize(t->second.partitions.size());
    }
    if (position.generation != g.generation) assign(t->second, g, member, position);
    auto out = takeFromTopic(t->second, position, max);
    if (!out.empty() || std::chrono::steady_clock::now() >= until) return out;
    arrived_.wait_until(lock, until);
  }
}

Result<void> MemoryStore::ackTopic(const std::string& topic, const std::string& group,
                                   std::span<const core::Message> messages) {
  std::lock_guard lock(mutex_);
  auto t = topics_.find(topic);
  if (t == topics_.end())
    return notFound(topic);
  auto& g = t->second.groups[group];
  for (const auto& m : messages) {
    auto p = static_cast<std::size_t>(m.partition);
    if (p >= g.committed.size() || m.offset < g.committed[p]) continue;
    g.acked_ahead[p][m.offset] = true;
    while (!g.acked_ahead[p].empty() && g.acked_ahead[p].begin()->first == g.committed[p]) {
      g.acked_ahead[p].erase(g.acked_ahead[p].begin());
      ++g.committed[p];
    }
  }
  return ok();
}

void MemoryStore::releaseTopic(Position& position, std::span<const core::Message> messages) {
  std::lock_guard lock(mutex_);
  for (const auto& m : messages) {
    auto it = position.next.find(m.partition);
    if (it != position.next.end()) it->second = std::min(it->second, m.offset);
  }
}

}  // namespace qsplit::memory
