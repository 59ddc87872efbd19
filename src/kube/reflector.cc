#include "kube/reflector.h"

#include "common/log.h"

namespace qsplit::kube {
namespace {

std::string keyOf(const nlohmann::json& object) {
  if (!object.contains("metadata")) return "/";
  const auto& meta = object["metadata"];
  return meta.value("namespace", "") + "/" + meta.value("name", "");
}

}  // namespace

Reflector::Reflector(KubeClient& client, std::string path, std::function<void()> on_change,
                     std::chrono::seconds watch_timeout)
    : client_(client), path_(std::move(path)), on_change_(std::move(on_change)),
      watch_timeout_(watch_timeout) {
  thread_ = std::thread([this] { run(); });
}

Reflector::~Reflector() {
  stop_ = true;
  changed_.notify_all();
  thread_.join();
}

std::vector<nlohmann::json> Reflector::items() const {
  std::lock_guard lock(mutex_);
  std::vector<nlohmann::json> all;
  for (const auto& [key, object] : objects_) all.push_back(object);
  return all;
}

Result<void> Reflector::waitSynced(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  if (changed_.wait_for(lock, timeout, [&] { return synced_; })) return {};
  return fail(ErrorCode::kUnavailable,
              "list " + path_ + ": " + (last_error_.empty() ? "no answer yet" : last_error_));
}

Result<std::string> Reflector::list() {
  QSPLIT_ASSIGN_OR_RETURN(auto j, client_.get(path_));
  std::map<std::string, nlohmann::json> objects;
  for (auto& item : j["items"]) {
    std::string key = keyOf(item);  // first: json's assignment takes its operand by value
    objects[key] = std::move(item);
  }
  {
    std::lock_guard lock(mutex_);
    objects_ = std::move(objects);
    synced_ = true;
    last_error_.clear();
  }
  changed_.notify_all();
  return j["metadata"].value("resourceVersion", "");
}

void Reflector::apply(const WatchEvent& event) {
  {
    std::lock_guard lock(mutex_);
    if (event.type == "DELETED")
      objects_.erase(keyOf(event.object));
    else
      objects_[keyOf(event.object)] = event.object;
  }
  if (on_change_) on_change_();
}

void Reflector::run() {
  auto log = logger("kube");
  auto backoff = std::chrono::milliseconds(500);
  while (!stop_) {
    auto version = list();
    if (!version) {
      bool first = false;
      {
        std::lock_guard lock(mutex_);
        first = last_error_ != version.error().message();
        last_error_ = version.error().message();
      }
      changed_.notify_all();
      if (first) log->warn("{} (retrying)", version.error().message());
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, backoff, [&] { return stop_.load(); });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
      continue;
    }
    backoff = std::chrono::milliseconds(500);
    if (on_change_) on_change_();
    std::string rv = *version;
    while (!stop_) {
      auto end = client_.watch(
          path_, rv, watch_timeout_,
          [&](WatchEvent event) {
            if (!event.object.contains("metadata")) return;
            if (auto v = event.object["metadata"].value("resourceVersion", ""); !v.empty()) rv = v;
            if (event.type != "BOOKMARK") apply(event);
          },
          &stop_);
      if (!end) {
        log->warn("watch {}: {} (listing again)", path_, end.error().message());
        break;
      }
      if (*end != WatchEnd::kTimeout) break;  // expired: list again; cancelled: stop
    }
  }
}

}  // namespace qsplit::kube
