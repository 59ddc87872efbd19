#include "demo/apps.h"

#include "common/log.h"

namespace qsplit::demo {

void Consumer::start(const std::string& queue) {
  stop();
  stopping_ = false;
  thread_ = std::thread([this, queue] { run(queue); });
}

void Consumer::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  thread_.join();
}

void Consumer::run(std::string queue) {
  auto source = broker_.openSource(queue, "meme-app");
  if (!source) {
    logger("demo")->error("{} cannot read {}: {}", who_, queue, source.error().message());
    return;
  }
  while (!stopping_) {
    auto batch = (*source)->receive(10, std::chrono::milliseconds(20));
    if (!batch || batch->empty()) continue;
    for (const auto& m : *batch) ledger_.consumed(m, queue, who_);
    (void)(*source)->ack(*batch);
  }
}

DeployedWorkload::DeployedWorkload(core::Broker& broker, Ledger& ledger, std::string name,
                                   std::map<std::string, std::string> env, std::string queue_var,
                                   Notify notify)
    : consumer_(broker, name, ledger), name_(std::move(name)), env_(std::move(env)),
      queue_var_(std::move(queue_var)), notify_(std::move(notify)) {}

void DeployedWorkload::start() { consumer_.start(env_.at(queue_var_)); }

void DeployedWorkload::restartWith(const std::string& value, const std::string& why) {
  // SIGTERM, finish the message in hand, start again with the new environment.
  consumer_.stop();
  {
    std::lock_guard lock(mutex_);
    env_[queue_var_] = value;
  }
  consumer_.start(value);
  notify_(name_ + " restarted (" + why + "): " + queue_var_ + "=" + value);
}

Result<void> DeployedWorkload::patch(const std::string& original, const std::string& replacement) {
  {
    std::lock_guard lock(mutex_);
    if (env_.at(queue_var_) != original)
      return fail(ErrorCode::kFailedPrecondition,
                  name_ + " reads " + env_.at(queue_var_) + ", not " + original);
  }
  restartWith(replacement, "patched");
  return ok();
}

Result<void> DeployedWorkload::restore(const std::string& original) {
  restartWith(original, "restored");
  return ok();
}

}  // namespace qsplit::demo
