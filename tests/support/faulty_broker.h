// A decorator over a real broker adapter that makes sends to chosen destinations fail a
// given number of times, to prove that nothing unsent is acknowledged.
#pragma once

#include <algorithm>
#include <atomic>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/broker.h"

namespace qsplit::testing {

class FaultyBroker : public core::Broker {
 public:
  // `overlap`: let forwarders overlap batches even where `inner` does not (its sinks then
  // wait for everything at each round, which is correct, only slower).
  explicit FaultyBroker(core::Broker& inner, bool overlap = false)
      : inner_(inner), overlap_(overlap) {}

  // The next `times` sends to any queue whose name contains `fragment` fail.
  void failSends(const std::string& fragment, int times) {
    std::lock_guard lock(mutex_);
    failures_[fragment] = times;
  }

  core::Admin& admin() override { return inner_.admin(); }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name,
                                                   const std::string& group) override {
    return inner_.openSource(name, group);
  }
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override {
    auto sink = inner_.openSink(name);
    if (!sink) return sink;
    return std::unique_ptr<core::Sink>(new FaultySink(*this, name, std::move(sink).value()));
  }
  core::NameRules nameRules() const override { return inner_.nameRules(); }
  std::size_t batchSize() const override { return inner_.batchSize(); }
  bool overlapsBatches() const override { return overlap_ || inner_.overlapsBatches(); }
  Result<std::unique_ptr<core::TransactionalPipe>> openTransactionalPipe(
      const std::string& name, const std::string& group, const std::string& instance) override {
    auto pipe = inner_.openTransactionalPipe(name, group, instance);
    if (!pipe) return pipe;
    return std::unique_ptr<core::TransactionalPipe>(new FaultyPipe(*this, std::move(pipe).value()));
  }

 private:
  class FaultyPipe;
  class FaultySink : public core::Sink {
   public:
    FaultySink(FaultyBroker& owner, std::string name, std::unique_ptr<core::Sink> inner)
        : owner_(owner), name_(std::move(name)), owned_(std::move(inner)), inner_(owned_.get()) {}
    FaultySink(FaultyBroker& owner, std::string name, core::Sink* borrowed)
        : owner_(owner), name_(std::move(name)), inner_(borrowed) {}
    void submit(std::span<const core::Message> messages) override {
      if (owner_.shouldFail(name_)) {
        failed_ = true;
        return;
      }
      inner_->submit(messages);
    }
    Result<void> await() override { return awaitRound(endRound()); }
    // Rounds are numbered here, as the inner sink may number none (then all are 0).
    uint64_t endRound() override {
      rounds_[++last_round_] = {inner_->endRound(), std::exchange(failed_, false)};
      return last_round_;
    }
    Result<void> awaitRound(uint64_t round) override {
      auto end = rounds_.upper_bound(round);
      if (end == rounds_.begin()) return inner_->awaitRound(0);
      auto inner = inner_->awaitRound(std::prev(end)->second.first);
      bool failed =
          std::any_of(rounds_.begin(), end, [](const auto& r) { return r.second.second; });
      rounds_.erase(rounds_.begin(), end);
      if (failed) return fail(ErrorCode::kUnavailable, "injected send failure");
      return inner;
    }

   private:
    FaultyBroker& owner_;
    std::string name_;
    std::unique_ptr<core::Sink> owned_;
    core::Sink* inner_;
    bool failed_ = false;  // in the open round
    // Rounds not awaited yet: the inner sink's number, and whether a submit failed.
    std::map<uint64_t, std::pair<uint64_t, bool>> rounds_;
    uint64_t last_round_ = 0;
  };

  // The pipe's own sinks, each behind a FaultySink.
  class FaultyPipe : public core::TransactionalPipe {
   public:
    FaultyPipe(FaultyBroker& owner, std::unique_ptr<core::TransactionalPipe> inner)
        : owner_(owner), inner_(std::move(inner)) {}
    core::Source& source() override { return inner_->source(); }
    Result<core::Sink*> sink(const std::string& destination) override {
      auto& wrapped = sinks_[destination];
      if (!wrapped) {
        auto inner = inner_->sink(destination);
        if (!inner) return fail(inner.error());
        wrapped = std::make_unique<FaultySink>(owner_, destination, *inner);
      }
      return wrapped.get();
    }
    Result<void> begin() override { return inner_->begin(); }
    Result<void> commit(std::span<const core::Message> consumed) override { return inner_->commit(consumed); }
    Result<void> abort(std::span<const core::Message> consumed) override { return inner_->abort(consumed); }

   private:
    FaultyBroker& owner_;
    std::unique_ptr<core::TransactionalPipe> inner_;
    std::map<std::string, std::unique_ptr<core::Sink>> sinks_;
  };

  bool shouldFail(const std::string& name) {
    std::lock_guard lock(mutex_);
    for (auto& [fragment, left] : failures_)
      if (left > 0 && name.find(fragment) != std::string::npos) {
        --left;
        return true;
      }
    return false;
  }

  core::Broker& inner_;
  bool overlap_;
  std::mutex mutex_;
  std::map<std::string, int> failures_;
};

}  // namespace qsplit::testing
