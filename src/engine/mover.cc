#include "engine/mover.h"

#include <thread>
#include <utility>

#include "common/log.h"

namespace qsplit::engine {

Result<MoveResult> moveAll(core::Broker& broker, const std::string& from, std::string group,
                           const std::string& to, std::chrono::milliseconds patience,
                           const std::atomic<bool>* stop) {
  QSPLIT_ASSIGN_OR_RETURN(auto source, broker.openSource(from, group));
  QSPLIT_ASSIGN_OR_RETURN(auto sink, broker.openSink(to));
  MoveResult result;
  auto until = std::chrono::steady_clock::now() + patience;
  bool told = false;
  while (true) {
    if (stop && *stop)
      return fail(ErrorCode::kCancelled, "qsplitd is stopping: moving " + from + " to " + to +
                                             " goes on when it starts again");
    auto received = source->receive(500, std::chrono::milliseconds(100));
    if (!received) {
      // Passing, as a rule: waited for.
      bool passing = received.error().code() == ErrorCode::kUnavailable;
      if (received.error().code() == ErrorCode::kFailedPrecondition) {
        // A member of another protocol holds the group: above all one that never left it
        // (Kafka Streams does not leave on close) and stays until its session times out.
        // Rather than wait for it, read on as a new group standing where the group stands.
        auto like = broker.admin().groupLike(from, group);
        if (like && *like != group) {
          logger("mover")->info("moving {} to {}: {}; reading on as group {} from where group {} "
                                "stands", from, to, received.error().message(), *like, group);
          group = *like;
          QSPLIT_ASSIGN_OR_RETURN(source, broker.openSource(from, group));
          continue;
        }
        passing = like.has_value();  // the new group is held too: waited for as well
      }
      if (!passing || std::chrono::steady_clock::now() >= until) return fail(received.error());
      if (!std::exchange(told, true))
        logger("mover")->warn("moving {} to {}: {}; trying again for up to {} s", from, to,
                              received.error().message(),
                              std::chrono::duration_cast<std::chrono::seconds>(patience).count());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    auto& batch = *received;
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
