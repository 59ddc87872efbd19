// The schemas of `payload_protobuf`: compiling a .proto into a descriptor (the CLI), and
// loading a descriptor to decode payloads by (the jq worker, and checks before a session).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>

#include "common/result.h"

namespace qsplit::jq {

// Compiles `schema_file` (and what it imports, found in `include_directories` and the file's own
// directory) with protobuf's compiler, into the `descriptor_base64` qsplitd reads: a
// FileDescriptorSet of the file and its imports, without source information, gzipped at the
// best compression, in base64. Errors carry the compiler's messages, one per line.
Result<std::string> compileSchema(const std::string& schema_file,
                                  const std::vector<std::string>& include_directories);

// A loaded descriptor and the message type payloads decode as. Move-only; not thread-safe.
class ProtobufSchema {
 public:
  // `descriptor_base64` is a FileDescriptorSet in base64, gzipped or not. Errors start with the
  // field they are about ("payload_protobuf.descriptor_base64: ...",
  // "payload_protobuf.message_type: ...").
  static Result<ProtobufSchema> load(std::string_view descriptor_base64, const std::string& message_type);

  const google::protobuf::Descriptor& type() const { return *type_; }
  // Parses `payload` as the message type; nullptr when it does not decode. The message lives
  // until the next call.
  const google::protobuf::Message* parse(std::string_view payload);

 private:
  std::unique_ptr<google::protobuf::DescriptorPool> pool_;
  std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
  const google::protobuf::Descriptor* type_ = nullptr;
  std::unique_ptr<google::protobuf::Message> message_;
};

// The message as JSON text, as jq sees it in `payload_decoded` (protobuf_jv.h); for tests and
// the benchmark.
Result<std::string> protobufToJson(ProtobufSchema& schema, std::string_view payload);

}  // namespace qsplit::jq
