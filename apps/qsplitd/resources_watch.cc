#include "resources_watch.h"

#include <filesystem>
#include <set>

#include "common/log.h"

namespace qsplit::daemon {

ResourcesWatch::ResourcesWatch(std::string dir, std::string fingerprint,
                               std::shared_ptr<const config::ResourceSet> set)
    : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)), set_(std::move(set)) {}

std::string ResourcesWatch::fingerprint(const std::string& dir) {
  std::set<std::string> entries;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    auto ext = e.path().extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    auto size = e.file_size(ec);
    auto time = e.last_write_time(ec).time_since_epoch().count();
    entries.insert(e.path().filename().string() + ":" + std::to_string(size) + ":" +
                   std::to_string(time));
  }
  std::string out;
  for (const auto& e : entries) out += e + "\n";
  return out;
}

Result<std::unique_ptr<ResourcesWatch>> ResourcesWatch::load(std::string dir) {
  if (!std::filesystem::is_directory(dir))
    return fail(ErrorCode::kNotFound, "resources: " + dir + " is not a directory");
  std::string print = fingerprint(dir);
  QSPLIT_ASSIGN_OR_RETURN(auto set, config::loadResourceDir(dir));
  logger("resources")->info("{}: {} queue registries, {} split configs", dir, set.registries.size(),
                            set.split_configs.size());
  auto shared = std::make_shared<const config::ResourceSet>(std::move(set));
  return std::unique_ptr<ResourcesWatch>(new ResourcesWatch(std::move(dir), print, shared));
}

std::shared_ptr<const config::ResourceSet> ResourcesWatch::current() const {
  std::lock_guard lock(mutex_);
  return set_;
}

void ResourcesWatch::poll() {
  std::string print = fingerprint(dir_);
  if (print == fingerprint_) return;
  fingerprint_ = print;
  auto set = config::loadResourceDir(dir_);
  if (!set) {
    logger("resources")->error("{} changed and does not load; keeping the previous resources: {}",
                               dir_, set.error().message());
    return;
  }
  logger("resources")->info("{} reloaded: {} queue registries; running sessions keep the queues "
                            "they started with", dir_, set->registries.size());
  std::lock_guard lock(mutex_);
  set_ = std::make_shared<const config::ResourceSet>(std::move(set).value());
}

}  // namespace qsplit::daemon
