#include "engine/mover.h"

namespace qsplit::engine {

Result<uint64_t> moveAll(core::Broker& broker, const std::string& from, const std::string& group,
                         const std::string& to, std::chrono::milliseconds wait) {
  QSPLIT_ASSIGN_OR_RETURN(auto source, broker.openSource(from, group));
  QSPLIT_ASSIGN_OR_RETURN(auto sink, broker.openSink(to));
  uint64_t moved = 0;
  while (true) {
    QSPLIT_ASSIGN_OR_RETURN(auto batch, source->receive(100, wait));
    if (batch.empty()) return moved;
    if (auto sent = sink->send(batch); !sent) {
      (void)source->release(batch);
      return fail(sent.error().withContext("moving messages from " + from + " to " + to));
    }
    QSPLIT_TRY(source->ack(batch));
    moved += batch.size();
  }
}

}  // namespace qsplit::engine
