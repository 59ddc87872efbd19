#include "control/api/tokens.h"

#include <openssl/crypto.h>
#include <yaml-cpp/yaml.h>

namespace qsplit::control::api {

Result<Tokens> Tokens::load(const std::string& path) {
  Tokens tokens;
  tokens.enabled_ = true;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root["tokens"] || !root["tokens"].IsSequence())
      return fail(ErrorCode::kInvalidArgument, path + ": expected a `tokens` list");
    std::size_t i = 0;
    for (const auto& entry : root["tokens"]) {
      std::string where = path + ": tokens[" + std::to_string(i++) + "]";
      if (!entry["token"] || !entry["user"])
        return fail(ErrorCode::kInvalidArgument, where + ": needs `token` and `user`");
      std::string token = entry["token"].as<std::string>();
      if (token.size() < 16)
        return fail(ErrorCode::kInvalidArgument, where + ": token: at least 16 characters");
      tokens.callers_[token] = {entry["user"].as<std::string>(),
                                entry["admin"] && entry["admin"].as<bool>()};
    }
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidArgument, path + ": " + e.what());
  }
  if (tokens.callers_.empty())
    return fail(ErrorCode::kInvalidArgument, path + ": tokens: the list is empty");
  return tokens;
}

Result<Caller> Tokens::authenticate(const std::string& authorization) const {
  if (!enabled_) return Caller{"local", true};
  const std::string prefix = "Bearer ";
  if (authorization.rfind(prefix, 0) != 0)
    return fail(ErrorCode::kPermissionDenied,
                "missing bearer token: send `Authorization: Bearer TOKEN`");
  std::string token = authorization.substr(prefix.size());
  for (const auto& [known, caller] : callers_)
    if (known.size() == token.size() && CRYPTO_memcmp(known.data(), token.data(), token.size()) == 0)
      return caller;
  return fail(ErrorCode::kPermissionDenied, "the bearer token is not one qsplitd knows");
}

}  // namespace qsplit::control::api
