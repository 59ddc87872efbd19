// Where the real test brokers are (started by scripts/, announced in the environment), and
// what a test does when one is absent: fail under `make test` and CI, which set
// QSPLIT_REQUIRE_BROKERS=1, so a missing broker can never pass silently; skip otherwise.
#pragma once

#include <cstdlib>
#include <string>

namespace qsplit::testing {

inline bool brokersRequired() {
  const char* require = std::getenv("QSPLIT_REQUIRE_BROKERS");
  return require && std::string(require) == "1";
}

// The value of `variable`, or "" with `why` saying how to start the broker.
inline std::string brokerAddress(const char* variable, std::string* why) {
  const char* value = std::getenv(variable);
  if (value && *value) return value;
  *why = std::string(variable) + " is not set: start the broker with scripts/ (make test does)";
  return "";
}

}  // namespace qsplit::testing

// In a fixture's SetUp: fail or skip when `why` (a std::string) says a broker is missing.
#define QSPLIT_NEED_BROKER(why)                                                    \
  do {                                                                             \
    if (!(why).empty()) {                                                          \
      if (::qsplit::testing::brokersRequired()) GTEST_FAIL() << (why);            \
      GTEST_SKIP() << (why);                                                       \
    }                                                                              \
  } while (0)
