// A decoded protobuf message as the jq value `payload_decoded`: field names as in the schema,
// enums as their names (a number the schema does not name stays a number), 64-bit integers as
// numbers, bytes in base64, maps as objects. Every field is there: a scalar at its default, a
// message that is not set as null; only the unset members of a oneof are left out.
// Timestamp, Duration and the wrapper types read as protobuf's JSON mapping writes them.
#pragma once

extern "C" {
#include <jv.h>
}

#include <google/protobuf/message.h>

namespace qsplit::jq {

jv protobufToJv(const google::protobuf::Message& message);

}  // namespace qsplit::jq
