// The custom resources of local mode: every YAML file of a directory, reloaded when a file
// changes. A change that does not parse is logged and the previous set stays in force.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "common/result.h"
#include "config/resources.h"

namespace qsplit::daemon {

class ResourcesWatch {
 public:
  static Result<std::unique_ptr<ResourcesWatch>> load(std::string dir);
  std::shared_ptr<const config::ResourceSet> current() const;
  // Reloads when a file was added, removed or changed since the last look. Cheap otherwise.
  void poll();

 private:
  ResourcesWatch(std::string dir, std::string fingerprint,
                 std::shared_ptr<const config::ResourceSet> set);
  static std::string fingerprint(const std::string& dir);

  std::string dir_;
  std::string fingerprint_;
  mutable std::mutex mutex_;
  std::shared_ptr<const config::ResourceSet> set_;
};

}  // namespace qsplit::daemon
