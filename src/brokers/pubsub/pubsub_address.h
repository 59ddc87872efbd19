// Where a Google Cloud Pub/Sub project is served, and the full names of its topics and
// subscriptions.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace qsplit::pubsub {

struct PubsubAddress {
  std::string project;  // the project ID of every topic and subscription named
  // host:port of a Pub/Sub emulator (PUBSUB_EMULATOR_HOST, as Google's libraries read it):
  // plaintext, no credentials.
  std::string emulator_host;
  std::chrono::milliseconds timeout{30000};  // the longest a call other than a pull may take

  std::string topicPath(const std::string& id) const { return "projects/" + project + "/topics/" + id; }
  std::string subscriptionPath(const std::string& id) const {
    return "projects/" + project + "/subscriptions/" + id;
  }
  // "project P at the emulator HOST"
  std::string describe() const;
  // The project ID as Google allows it (6 to 30 of [a-z0-9-], a letter first, no '-' last) and
  // where the service is; an error naming the field otherwise. qsplit does not read Google
  // credentials yet, so an address without an emulator is refused, saying so.
  Result<void> validate() const;
};

}  // namespace qsplit::pubsub
