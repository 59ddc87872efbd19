// Random bytes and digits from the kernel's CSPRNG (getrandom), behind an interface so
// tests can make names deterministic.
#pragma once

#include <cstdint>
#include <string>

namespace qsplit {

class Random {
 public:
  virtual ~Random() = default;
  // `count` decimal digits, each uniform over 0-9. Thread-safe.
  virtual std::string digits(std::size_t count) = 0;
};

class SecureRandom final : public Random {
 public:
  std::string digits(std::size_t count) override;
  static SecureRandom& instance();
};

}  // namespace qsplit
