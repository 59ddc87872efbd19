#include "common/clock.h"

namespace qsplit {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace qsplit
