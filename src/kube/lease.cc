#include "kube/lease.h"

#include <ctime>

namespace qsplit::kube {
namespace {

using nlohmann::json;

// RFC 3339 with microseconds, as Kubernetes' MicroTime.
std::string microTimeNow() {
  auto now = std::chrono::system_clock::now();
  auto seconds = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06lldZ", text, static_cast<long long>(micros));
  return out;
}

}  // namespace

std::string LeaseLock::path() const {
  return "/apis/coordination.k8s.io/v1/namespaces/" + namespace_ + "/leases/" + name_;
}

json LeaseLock::spec(int transitions, const std::string& acquired) const {
  return {{"holderIdentity", identity_},
          {"leaseDurationSeconds", duration_.count()},
          {"acquireTime", acquired},
          {"renewTime", microTimeNow()},
          {"leaseTransitions", transitions}};
}

Result<bool> LeaseLock::tryAcquireOrRenew() {
  auto current = client_.get(path());
  if (!current && current.error().code() == ErrorCode::kNotFound) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                  {"metadata", {{"name", name_}, {"namespace", namespace_}}},
                  {"spec", spec(0, microTimeNow())}};
    auto created = client_.create("/apis/coordination.k8s.io/v1/namespaces/" + namespace_ + "/leases", lease);
    if (!created && created.error().code() == ErrorCode::kAlreadyExists) return false;  // a race lost
    if (!created) return fail(created.error());
    holder_ = identity_;
    return true;
  }
  if (!current) return fail(current.error());
  json lease = *current;
  json old = lease.value("spec", json::object());
  holder_ = old.value("holderIdentity", "");
  int transitions = old.value("leaseTransitions", 0);
  std::string acquired = old.value("acquireTime", microTimeNow());
  if (holder_ != identity_ && !holder_.empty()) {
    // Someone else's: theirs until their record stops changing for a whole duration.
    std::string record = old.dump();
    auto now = std::chrono::steady_clock::now();
    if (record != observed_) {
      observed_ = record;
      observed_at_ = now;
      return false;
    }
    if (now - observed_at_ < duration_) return false;
    ++transitions;
    acquired = microTimeNow();
  }
  lease["spec"] = spec(transitions, acquired);
  auto written = client_.replace(path(), lease);  // carries the read resourceVersion
  if (!written && written.error().code() == ErrorCode::kFailedPrecondition) return false;
  if (!written) return fail(written.error());
  holder_ = identity_;
  return true;
}

}  // namespace qsplit::kube
