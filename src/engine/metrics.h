// The splitting counters in Prometheus text format, named as the reference operator names
// them, so existing dashboards keep working.
#pragma once

#include <string>
#include <vector>

#include "engine/queue_splitter.h"

namespace qsplit::engine {

// For each split: mirrord_read_sqs_messages_count{original_queue},
// mirrord_unmatched_sqs_messages_count{original_queue} and
// mirrord_sqs_messages_forwarded_to_user_count{original_queue, session, queue} per session
// queue (session is empty once that session has ended). Counters since the split started.
std::string prometheusText(const std::vector<SplitStatus>& splits);

}  // namespace qsplit::engine
