// Who received which message of a numbered stream: the counts the fault tests report and
// assert on (lost, duplicated, misrouted).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/message.h"

namespace qsplit::testing {

class Tally {
 public:
  // Every message of `messages`, numbered by its "seq" attribute, went to `who`.
  void add(const std::string& who, const std::vector<core::Message>& messages) {
    for (const auto& m : messages) ++seen_[std::stoi(m.findAttribute("seq")->value)][who];
  }

  struct Counts {
    int lost = 0, duplicated = 0, misrouted = 0;
  };
  // `expected(seq)` names where message `seq` belongs; `also_fine` names a place that is not
  // a loss either (a message still waiting in the original).
  Counts count(int messages, const std::function<std::string(int)>& expected,
               const std::string& also_fine = "") const {
    Counts c;
    for (int seq = 0; seq < messages; ++seq) {
      auto it = seen_.find(seq);
      if (it == seen_.end()) {
        ++c.lost;
        continue;
      }
      for (const auto& [who, times] : it->second) {
        if (who != expected(seq) && who != also_fine) c.misrouted += times;
        c.duplicated += times - 1;
      }
    }
    return c;
  }

 private:
  std::map<int, std::map<std::string, int>> seen_;  // seq -> destination -> times
};

}  // namespace qsplit::testing
