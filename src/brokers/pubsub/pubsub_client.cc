#include "brokers/pubsub/pubsub_client.h"

#include <algorithm>
#include <cctype>

namespace qsplit::pubsub {

std::string PubsubAddress::describe() const {
  return "Pub/Sub project " + project + (emulator_host.empty() ? "" : " at the emulator " + emulator_host);
}

Result<void> PubsubAddress::validate() const {
  if (emulator_host.empty())
    return fail(ErrorCode::kInvalidArgument,
                "Pub/Sub: no emulator_host (PUBSUB_EMULATOR_HOST): reaching Google's service with "
                "credentials is not supported yet");
  if (emulator_host.find(':') == std::string::npos)
    return fail(ErrorCode::kInvalidArgument, "Pub/Sub emulator_host '" + emulator_host + "': expected host:port");
  auto bad = [](char c) { return !(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'); };
  if (project.size() < 6 || project.size() > 30 || !std::islower(static_cast<unsigned char>(project[0])) ||
      project.back() == '-' || std::any_of(project.begin(), project.end(), bad))
    return fail(ErrorCode::kInvalidArgument,
                "Pub/Sub project_id '" + project +
                    "': a project ID is 6 to 30 lowercase letters, digits and hyphens, starting with a letter");
  return ok();
}

PubsubClient::PubsubClient(PubsubAddress address, std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)), channel_(std::move(channel)), publisher_(v1::Publisher::NewStub(channel_)),
      subscriber_(v1::Subscriber::NewStub(channel_)) {}

Result<std::shared_ptr<PubsubClient>> PubsubClient::connect(const PubsubAddress& address) {
  QSPLIT_TRY(address.validate());
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);  // a pull of 1,000 messages of up to 10 MB in all
  auto channel = grpc::CreateCustomChannel(address.emulator_host, grpc::InsecureChannelCredentials(), args);
  return std::shared_ptr<PubsubClient>(new PubsubClient(address, std::move(channel)));
}

std::unique_ptr<grpc::ClientContext> PubsubClient::context(std::chrono::milliseconds timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + (timeout.count() > 0 ? timeout : address_.timeout));
  return context;
}

Error statusError(const grpc::Status& status, const std::string& what) {
  ErrorCode code = ErrorCode::kUnavailable;
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND: code = ErrorCode::kNotFound; break;
    case grpc::StatusCode::ALREADY_EXISTS: code = ErrorCode::kAlreadyExists; break;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED: code = ErrorCode::kPermissionDenied; break;
    case grpc::StatusCode::INVALID_ARGUMENT: code = ErrorCode::kInvalidArgument; break;
    case grpc::StatusCode::FAILED_PRECONDITION: code = ErrorCode::kFailedPrecondition; break;
    case grpc::StatusCode::DEADLINE_EXCEEDED: code = ErrorCode::kTimeout; break;
    default: break;
  }
  static constexpr const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                           "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                           "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int n = static_cast<int>(status.error_code());
  std::string name = n >= 0 && n < 17 ? kNames[n] : std::to_string(n);
  return Error(code, "Pub/Sub " + what + ": " + status.error_message() + " (" + name + ")");
}

}  // namespace qsplit::pubsub
