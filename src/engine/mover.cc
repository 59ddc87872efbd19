#include "engine/mover.h"

namespace qsplit::engine {

Result<MoveResult> moveAll(core::Broker& broker, const std::string& from, const std::string& group,
                           const std::string& to, std::chrono::milliseconds patience) {
  QSPLIT_ASSIGN_OR_RETURN(auto source, broker.openSource(from, group));
  QSPLIT_ASSIGN_OR_RETURN(auto sink, broker.openSink(to));
  MoveResult result;
  auto until = std::chrono::steady_clock::now() + patience;
  while (true) {
    QSPLIT_ASSIGN_OR_RETURN(auto batch, source->receive(500, std::chrono::milliseconds(100)));
    if (!batch.empty()) {
      if (auto sent = sink->send(batch); !sent) {
        (void)source->release(batch);
        return fail(sent.error().withContext("moving messages from " + from + " to " + to));
      }
      QSPLIT_TRY(source->ack(batch));
      result.moved += batch.size();
      continue;
    }
    QSPLIT_ASSIGN_OR_RETURN(result.left, broker.admin().backlog(from, group));
    if (result.left == 0 || std::chrono::steady_clock::now() >= until) return result;
  }
}

}  // namespace qsplit::engine
