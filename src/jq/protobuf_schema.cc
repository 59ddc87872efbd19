#include "jq/protobuf_schema.h"

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/descriptor_database.h>
#include <zlib.h>

#include <filesystem>
#include <set>

#include "common/base64.h"

namespace qsplit::jq {
namespace {

namespace pb = google::protobuf;

// A descriptor that inflates past this is refused: no gzip bomb reaches a worker's memory.
constexpr std::size_t kMaxDescriptor = 64 << 20;

class CollectErrors : public pb::compiler::MultiFileErrorCollector {
 public:
  void AddError(const std::string& file, int line, int column, const std::string& message) override {
    if (!text.empty()) text += "\n";
    text += line >= 0 ? file + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message
                      : file + ": " + message;
  }
  std::string text;
};

// The file and everything it imports, imports first, as a FileDescriptorSet needs them.
void addFile(const pb::FileDescriptor* file, std::set<std::string>& seen, pb::FileDescriptorSet& set) {
  if (!seen.insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) addFile(file->dependency(i), seen, set);
  file->CopyTo(set.add_file());  // CopyTo leaves out source information
}

Result<std::string> gzip(const std::string& bytes) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(ErrorCode::kInternal, "zlib: deflateInit2 failed");
  std::string out(deflateBound(&z, bytes.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return fail(ErrorCode::kInternal, "zlib: deflate failed");
  return out;
}

Result<std::string> gunzip(std::string_view bytes) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return fail(ErrorCode::kInternal, "zlib: inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (out.size() >= kMaxDescriptor) break;
    std::size_t at = out.size();
    out.resize(at + 65536);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + at);
    z.avail_out = 65536;
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(at + 65536 - z.avail_out);
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    return fail(ErrorCode::kInvalidArgument, out.size() >= kMaxDescriptor
                                                 ? "it inflates past 64 MiB"
                                                 : "its gzip data is damaged");
  return out;
}

Error descriptorError(const std::string& why) {
  return Error(ErrorCode::kInvalidArgument,
               "payload_protobuf.descriptor_base64: not a valid base64-encoded FileDescriptorSet (" + why + ")");
}

}  // namespace

Result<std::string> compileSchema(const std::string& schema_file,
                                  const std::vector<std::string>& include_directories) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_regular_file(schema_file, error))
    return fail(ErrorCode::kNotFound, "failed to compile `" + schema_file + "`: no such file");
  pb::compiler::DiskSourceTree tree;
  for (const auto& dir : include_directories) tree.MapPath("", dir);
  std::string own = fs::path(schema_file).parent_path().string();
  tree.MapPath("", own.empty() ? "." : own);
  std::string virtual_file, shadowing;
  auto mapped = tree.DiskFileToVirtualFile(schema_file, &virtual_file, &shadowing);
  if (mapped != pb::compiler::DiskSourceTree::SUCCESS)
    return fail(ErrorCode::kInvalidArgument,
                "failed to compile `" + schema_file + "`: " +
                    (mapped == pb::compiler::DiskSourceTree::SHADOWED
                         ? "it is shadowed by " + shadowing + " in include_directories"
                         : "it cannot be found through include_directories"));
  CollectErrors errors;
  pb::compiler::SourceTreeDescriptorDatabase files(&tree);
  files.RecordErrorsTo(&errors);
  // The well-known types (google/protobuf/timestamp.proto, ...) come with the library, as
  // they do with protoc.
  pb::DescriptorPoolDatabase builtin(*pb::DescriptorPool::generated_pool());
  pb::MergedDescriptorDatabase database(&files, &builtin);
  pb::DescriptorPool pool(&database, files.GetValidationErrorCollector());
  const pb::FileDescriptor* file = pool.FindFileByName(virtual_file);
  if (!file)
    return fail(ErrorCode::kInvalidArgument,
                "failed to compile `" + schema_file + "`: " + errors.text +
                    "\nCheck that the file and everything it imports are reachable through "
                    "include_directories");
  pb::FileDescriptorSet set;
  std::set<std::string> seen;
  addFile(file, seen, set);
  QSPLIT_ASSIGN_OR_RETURN(std::string packed, gzip(set.SerializeAsString()));
  return base64Encode(packed);
}

Result<ProtobufSchema> ProtobufSchema::load(std::string_view descriptor_base64, const std::string& message_type) {
  auto bytes = base64Decode(descriptor_base64);
  if (!bytes) return fail(descriptorError("not base64"));
  if (bytes->size() >= 2 && static_cast<uint8_t>((*bytes)[0]) == 0x1f && static_cast<uint8_t>((*bytes)[1]) == 0x8b) {
    auto inflated = gunzip(*bytes);
    if (!inflated) return fail(descriptorError(inflated.error().message()));
    bytes = std::move(inflated).value();
  }
  pb::FileDescriptorSet set;
  if (bytes->size() > kMaxDescriptor || !set.ParseFromString(*bytes))
    return fail(descriptorError("it does not parse as one"));
  ProtobufSchema schema;
  schema.pool_ = std::make_unique<pb::DescriptorPool>();
  for (const auto& file : set.file())
    if (!schema.pool_->BuildFile(file))
      return fail(descriptorError("file " + file.name() + " does not build; are its imports in the set?"));
  schema.type_ = schema.pool_->FindMessageTypeByName(message_type);
  if (!schema.type_)
    return fail(ErrorCode::kInvalidArgument, "payload_protobuf.message_type: message `" + message_type +
                                                 "` not found in the compiled schema; give its full name, "
                                                 "with the package");
  schema.factory_ = std::make_unique<pb::DynamicMessageFactory>(schema.pool_.get());
  schema.message_.reset(schema.factory_->GetPrototype(schema.type_)->New());
  return schema;
}

const pb::Message* ProtobufSchema::parse(std::string_view payload) {
  message_->Clear();
  if (!message_->ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return nullptr;
  return message_.get();
}

}  // namespace qsplit::jq
