// Owning handles for the librdkafka objects qsplit uses.
#pragma once

#include <librdkafka/rdkafka.h>

#include "common/c_handle.h"

namespace qsplit::kafka {

using ClientHandle = CHandle<rd_kafka_t, rd_kafka_destroy>;
// rd_kafka_destroy of a consumer can hang for good after its broker went down and came back
// (librdkafka #4674, open; Debian 12 ships 2.0.2): a consumer is destroyed on a thread of its
// own, waited for at most 10 s, then abandoned with an error logged (its memory and threads
// stay), so the caller (the drain, a session's end) goes on.
void destroyConsumer(rd_kafka_t* consumer);
using ConsumerHandle = CHandle<rd_kafka_t, destroyConsumer>;
using ConfHandle = CHandle<rd_kafka_conf_t, rd_kafka_conf_destroy>;
using PartitionsHandle = CHandle<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>;
using MessageHandle = CHandle<rd_kafka_message_t, rd_kafka_message_destroy>;
using EventHandle = CHandle<rd_kafka_event_t, rd_kafka_event_destroy>;
using QueueHandle = CHandle<rd_kafka_queue_t, rd_kafka_queue_destroy>;
using AdminOptionsHandle = CHandle<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>;
using NewTopicHandle = CHandle<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy>;
using DeleteTopicHandle = CHandle<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy>;
using ConfigResourceHandle = CHandle<rd_kafka_ConfigResource_t, rd_kafka_ConfigResource_destroy>;
using HeadersHandle = CHandle<rd_kafka_headers_t, rd_kafka_headers_destroy>;
using TopicHandle = CHandle<rd_kafka_topic_t, rd_kafka_topic_destroy>;
using MetadataHandle = CHandle<const rd_kafka_metadata_t, rd_kafka_metadata_destroy>;

}  // namespace qsplit::kafka
