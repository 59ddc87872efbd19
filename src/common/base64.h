// Standard base64 (RFC 4648, with padding), as Kubernetes Secrets and SQS binary values use.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qsplit {

std::string base64Encode(std::string_view bytes);
// nullopt when `text` is not valid base64 (whitespace and newlines are skipped).
std::optional<std::string> base64Decode(std::string_view text);

}  // namespace qsplit
