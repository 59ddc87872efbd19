// TLS to Redis under hiredis 0.14, which has none: each connection's TLS session (OpenSSL)
// runs in a thread of its own that relays bytes between the server and one end of a socket
// pair, and hiredis speaks plain RESP on the other end. The relay ends when either side closes.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace qsplit::redis {

// Connects to host:port over TLS (1.2 or later), verifying the server's certificate against the
// PEM certificates `ca_pem` (empty: the system's CAs) and its name or IP address against `host`.
// Returns the descriptor hiredis reads and writes; errors name the server and the TLS reason.
Result<int> openTlsRelay(const std::string& host, int port, std::chrono::milliseconds timeout,
                         const std::string& ca_pem);

}  // namespace qsplit::redis
