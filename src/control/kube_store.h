// KubeStore: the store kept in the cluster, one QsplitRecord (deploy/crds/qsplitrecords.yaml)
// per record in the namespace qsplitd serves, so a replica that takes the lease over (or a pod
// restarted without a volume) finds every session, split and temporary queue where the last
// leader left them.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "control/store.h"
#include "kube/kube_client.h"

namespace qsplit::control {

// Thread-safe. A write returns once the API server has committed it (to etcd). Only the
// leader writes, so records are never written concurrently by two replicas.
class KubeStore final : public Store {
 public:
  // `owner` tells apart the stores of two qsplitd installations in one namespace (the
  // lease's name). Checks that the store's records can be listed, so a missing CRD or RBAC
  // rule is a clear error at start rather than at the first session.
  static Result<std::unique_ptr<KubeStore>> open(kube::KubeClient& client, std::string ns,
                                                 std::string owner);
  ~KubeStore() override;

  Result<void> put(const std::string& kind, const std::string& key, const std::string& json) override;
  Result<void> remove(const std::string& kind, const std::string& key) override;
  Result<std::vector<StoredRecord>> list(const std::string& kind) override;
  core::TemporaryJournal& journal(const std::string& broker) override;

  // Each record's kind and owner, as label values.
  static constexpr char kKindLabel[] = "qsplit.dev/store";
  static constexpr char kOwnerLabel[] = "qsplit.dev/owner";

  class Journal;

 private:
  KubeStore(kube::KubeClient& client, std::string ns, std::string owner);
  std::string selector(const std::string& kind) const;
  std::string collection() const;
  Result<void> create(const std::string& kind, const std::string& key, const std::string& json);

  kube::KubeClient& client_;
  std::string namespace_;
  std::string owner_;
  std::mutex mutex_;  // one put at a time: a record's seq comes from the records listed
  std::vector<std::unique_ptr<Journal>> journals_;  // guarded by mutex_
};

}  // namespace qsplit::control
