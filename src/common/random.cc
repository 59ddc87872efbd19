#include "common/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace qsplit {
namespace {

void fillRandom(unsigned char* out, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t got = getrandom(out + done, size - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      std::abort();  // No entropy source means no safe names: can't happen on Linux >= 3.17.
    }
    done += static_cast<std::size_t>(got);
  }
}

}  // namespace

std::string SecureRandom::digits(std::size_t count) {
  std::string result;
  result.reserve(count);
  unsigned char buffer[64];
  while (result.size() < count) {
    fillRandom(buffer, sizeof buffer);
    for (unsigned char byte : buffer) {
      // Rejection sampling: 250 is the largest multiple of 10 below 256, so each digit is uniform.
      if (byte >= 250) continue;
      result.push_back(static_cast<char>('0' + byte % 10));
      if (result.size() == count) break;
    }
  }
  return result;
}

SecureRandom& SecureRandom::instance() {
  static SecureRandom random;
  return random;
}

}  // namespace qsplit
