// Bearer tokens for qsplitd's API, from a YAML file:
//   tokens:
//     - {token: "...", user: alice}
//     - {token: "...", user: platform, admin: true}
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "control/sessions.h"

namespace qsplit::control::api {

class Tokens {
 public:
  // No file: authentication is off and every caller is the admin user "local".
  static Tokens disabled() { return Tokens(); }
  static Result<Tokens> load(const std::string& path);

  bool enabled() const { return enabled_; }
  // The caller a request's Authorization header names; kPermissionDenied names why not.
  Result<Caller> authenticate(const std::string& authorization) const;

 private:
  bool enabled_ = false;
  std::map<std::string, Caller> callers_;  // token -> caller
};

}  // namespace qsplit::control::api
