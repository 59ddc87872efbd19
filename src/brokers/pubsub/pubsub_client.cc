#include "brokers/pubsub/pubsub_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace qsplit::pubsub {

std::string PubsubAddress::describe() const {
  return "Pub/Sub project " + project + (emulator_host.empty() ? " at " + endpoint : " at the emulator " + emulator_host);
}

Result<void> PubsubAddress::validate() const {
  auto hostPort = [](const std::string& v) {
    auto colon = v.rfind(':');
    return colon != std::string::npos && colon > 0 && colon + 1 < v.size();
  };
  if (!emulator_host.empty() && !hostPort(emulator_host))
    return fail(ErrorCode::kInvalidArgument, "Pub/Sub emulator_host '" + emulator_host + "': expected host:port");
  if (!emulator_host.empty() && !credentials_json.empty())
    return fail(ErrorCode::kInvalidArgument,
                "credentials_json: an emulator (emulator_host '" + emulator_host +
                    "', or PUBSUB_EMULATOR_HOST of qsplitd) takes no credentials; give one or the other");
  if (emulator_host.empty() && !hostPort(endpoint))
    return fail(ErrorCode::kInvalidArgument, "Pub/Sub endpoint '" + endpoint + "': expected host:port");
  auto bad = [](char c) { return !(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-'); };
  if (project.size() < 6 || project.size() > 30 || !std::islower(static_cast<unsigned char>(project[0])) ||
      project.back() == '-' || std::any_of(project.begin(), project.end(), bad))
    return fail(ErrorCode::kInvalidArgument,
                "Pub/Sub project_id '" + project +
                    "': a project ID is 6 to 30 lowercase letters, digits and hyphens, starting with a letter");
  return ok();
}

Result<PubsubAddress> PubsubAddress::fromProperties(const std::map<std::string, std::string>& properties,
                                                    const std::string& emulator) {
  PubsubAddress address;
  address.emulator_host = emulator;
  for (const auto& [key, value] : properties) {
    if (key == "project_id") address.project = value;
    else if (key == "emulator_host") address.emulator_host = value;
    else if (key == "endpoint") address.endpoint = value;
    else if (key == "credentials_json") address.credentials_json = value;
    else
      return fail(ErrorCode::kInvalidArgument,
                  key + ": not a Pub/Sub client setting (project_id, credentials_json, emulator_host, endpoint)");
  }
  if (address.project.empty()) return fail(ErrorCode::kInvalidArgument, "project_id: is required");
  QSPLIT_TRY(address.validate());
  return address;
}

Result<TemporarySettings> TemporarySettings::fromProperties(const std::map<std::string, std::string>& properties) {
  TemporarySettings settings;
  for (const auto& [key, value] : properties) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    bool number = ec == std::errc() && end == value.data() + value.size();
    auto range = [&](int64_t low, int64_t high, const std::string& also) -> Result<int64_t> {
      if (number && n >= low && n <= high) return n;
      return fail(ErrorCode::kInvalidArgument, key + ": '" + value + "' is not a whole number of seconds from " +
                                                   std::to_string(low) + (high == INT64_MAX ? "" : " to " + std::to_string(high)) + also);
    };
    if (key == "ack_deadline_seconds") {
      QSPLIT_ASSIGN_OR_RETURN(auto s, range(10, 600, ""));
      settings.ack_deadline_seconds = static_cast<int32_t>(s);
    } else if (key == "message_retention_seconds") {
      QSPLIT_ASSIGN_OR_RETURN(settings.message_retention_seconds, range(600, 604800, ""));
    } else if (key == "expiration_seconds") {
      if (value == "never") {
        settings.expiration_seconds = 0;
      } else {
        QSPLIT_ASSIGN_OR_RETURN(settings.expiration_seconds, range(86400, INT64_MAX, ", or never"));
      }
    } else {
      return fail(ErrorCode::kInvalidArgument, key + ": not a googlePubSub queue setting (ack_deadline_seconds, "
                                                     "message_retention_seconds, expiration_seconds)");
    }
  }
  return settings;
}

PubsubClient::PubsubClient(PubsubAddress address, std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)), channel_(std::move(channel)), publisher_(v1::Publisher::NewStub(channel_)),
      subscriber_(v1::Subscriber::NewStub(channel_)) {}

namespace {

// How Google's libraries reach Pub/Sub: an emulator in plaintext with no credentials; else TLS
// with the key given, or else with Application Default Credentials. gRPC signs a service
// account's JWT itself and renews it before it expires; the token stays inside gRPC.
Result<std::shared_ptr<grpc::ChannelCredentials>> channelCredentials(const PubsubAddress& address) {
  if (!address.emulator_host.empty()) return grpc::InsecureChannelCredentials();
  if (!address.credentials_json.empty()) {
    auto key = grpc::ServiceAccountJWTAccessCredentials(address.credentials_json, 3600);
    if (!key)
      return fail(ErrorCode::kInvalidArgument,
                  "credentials_json: not a service-account key (a JSON key of type service_account with "
                  "client_email, private_key_id and private_key)");
    return grpc::CompositeChannelCredentials(grpc::SslCredentials({}), key);
  }
  auto found = grpc::GoogleDefaultCredentials();
  if (!found)
    return fail(ErrorCode::kInvalidArgument,
                "Pub/Sub project " + address.project +
                    ": no credentials found: give credentials_json in the clientConfig, set "
                    "GOOGLE_APPLICATION_CREDENTIALS for qsplitd, run on GKE with workload identity, or "
                    "name an emulator (PUBSUB_EMULATOR_HOST)");
  return found;
}

}  // namespace

Result<std::shared_ptr<PubsubClient>> PubsubClient::connect(const PubsubAddress& address) {
  QSPLIT_TRY(address.validate());
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);  // a pull of 1,000 messages of up to 10 MB in all
  QSPLIT_ASSIGN_OR_RETURN(auto credentials, channelCredentials(address));
  auto channel = grpc::CreateCustomChannel(address.emulator_host.empty() ? address.endpoint : address.emulator_host,
                                           credentials, args);
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
