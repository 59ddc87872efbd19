// Where a Google Cloud Pub/Sub project is served, and the full names of its topics and
// subscriptions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/result.h"

namespace qsplit::pubsub {

struct PubsubAddress {
  std::string project;  // the project ID of every topic and subscription named
  // host:port of a Pub/Sub emulator (PUBSUB_EMULATOR_HOST, as Google's libraries read it):
  // plaintext, no credentials. Empty: the service at `endpoint`, over TLS, with credentials.
  std::string emulator_host;
  std::string endpoint = "pubsub.googleapis.com:443";
  // A service-account key (JSON). Empty: Application Default Credentials, as Google's libraries
  // find them (GOOGLE_APPLICATION_CREDENTIALS, gcloud's, or GKE's metadata server). A secret:
  // never logged, never in describe() or an error.
  std::string credentials_json{};
  std::chrono::milliseconds timeout{30000};  // the longest a call other than a pull may take

  std::string topicPath(const std::string& id) const { return "projects/" + project + "/topics/" + id; }
  std::string subscriptionPath(const std::string& id) const {
    return "projects/" + project + "/subscriptions/" + id;
  }
  // "project P at the emulator HOST" or "project P at ENDPOINT"
  std::string describe() const;
  // The project ID as Google allows it (6 to 30 of [a-z0-9-], a letter first, no '-' last) and
  // where the service is (host:port); an error naming the field otherwise.
  Result<void> validate() const;

  // From a clientConfig property list: `project_id` (required), `credentials_json` (as the
  // reference) and qsplit's own `emulator_host` (else `emulator`, PUBSUB_EMULATOR_HOST of
  // qsplitd's environment) and `endpoint` (a regional or private endpoint); any other key is
  // refused by name.
  static Result<PubsubAddress> fromProperties(const std::map<std::string, std::string>& properties,
                                              const std::string& emulator);
};

// What a temporary subscription takes instead of the original's (a queueConfig property list):
// `ack_deadline_seconds` (10 to 600), `message_retention_seconds` (600 to 604800) and
// `expiration_seconds` (86400 or more, or `never`).
struct TemporarySettings {
  std::optional<int32_t> ack_deadline_seconds;
  std::optional<int64_t> message_retention_seconds;
  std::optional<int64_t> expiration_seconds;  // 0: never
  // An error naming the key and its range for a value out of it or another key.
  static Result<TemporarySettings> fromProperties(const std::map<std::string, std::string>& properties);
};

}  // namespace qsplit::pubsub
