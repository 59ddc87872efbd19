// SessionManager while another replica leads: forwarding by the leader's routes.
#include "common/log.h"
#include "control/sessions_internal.h"

namespace qsplit::control {

void SessionManager::follow() {
  std::lock_guard lock(follower_mutex_);
  if (follower_ || options_.replica.empty()) return;
  follower_ = std::make_unique<Follower>(
      store_, [this](const std::string& json) { return forwardSource(json); }, options_.replica,
      options_.lease, options_.split.forwarder);
}

void SessionManager::stopFollowing() {
  std::unique_ptr<Follower> follower;
  {
    std::lock_guard lock(follower_mutex_);
    follower.swap(follower_);
  }
  follower.reset();  // stops its forwarders outside the lock (metrics() takes it)
}

Result<ForwardSource> SessionManager::forwardSource(const std::string& split_json) {
  QSPLIT_ASSIGN_OR_RETURN(auto stored, parseStoredSplit("", split_json));
  QSPLIT_TRY(brokerFor(stored.plan, stored.workload));
  QSPLIT_ASSIGN_OR_RETURN(auto view, bodyView(stored.plan));
  return ForwardSource{stored.plan.broker, stored.plan.group, std::move(view), contentFor(stored.plan, false)};
}

}  // namespace qsplit::control
