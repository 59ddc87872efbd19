// The HTTP client: what libcurl sends (signed with SigV4 exactly as botocore signs), and the
// errors a caller sees when nothing answers.
#include "http/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "support/command.h"

namespace qsplit::http {
namespace {

Request getRequest(const std::string& url, std::chrono::milliseconds timeout) {
  Request r;
  r.method = "GET";
  r.url = url;
  r.timeout = timeout;
  return r;
}

// A socket listening on a free loopback port; sets `port`.
int listenOnLoopback(int* port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t size = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size);
  *port = ntohs(addr.sin_port);
  listen(fd, 1);
  return fd;
}

// Accepts one connection on a free loopback port, keeps the raw request, answers 200 "{}".
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = listenOnLoopback(&port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  const std::string& request() {
    thread_.join();
    thread_ = std::thread([] {});
    return request_;
  }

 private:
  void serve() {
    int client = accept(fd_, nullptr, nullptr);
    char buffer[4096];
    while (true) {
      auto end = request_.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto at = request_.find("Content-Length: ");
        std::size_t length = at == std::string::npos ? 0 : std::stoul(request_.substr(at + 16));
        if (request_.size() >= end + 4 + length) break;
      }
      ssize_t n = read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      request_.append(buffer, n);
    }
    std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    (void)!write(client, answer.data(), answer.size());
    close(client);
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string request_;
};

std::map<std::string, std::string> headersOf(const std::string& raw) {
  std::map<std::string, std::string> out;
  std::size_t line = raw.find("\r\n") + 2;
  while (true) {
    std::size_t end = raw.find("\r\n", line);
    if (end == line || end == std::string::npos) break;
    std::string h = raw.substr(line, end - line);
    auto colon = h.find(':');
    std::string name = h.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = h.substr(h.find_first_not_of(' ', colon + 1));
    line = end + 2;
  }
  return out;
}

void expectSignedLikeBotocore(const std::string& token) {
  auto client = HttpClient::create();
  ASSERT_TRUE(client.has_value());
  OneShotServer server;
  Request r;
  r.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  r.headers = {"Content-Type: application/x-amz-json-1.0", "X-Amz-Target: AmazonSQS.ListQueues"};
  if (!token.empty()) r.headers.push_back("X-Amz-Security-Token: " + token);
  r.body = R"({"QueueNamePrefix":"mirrord-"})";
  r.aws_sigv4 = "aws:amz:eu-west-1:sqs";
  r.user_password = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  auto response = (*client)->call(r);
  ASSERT_TRUE(response.has_value()) << response.error().message();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "{}");

  auto headers = headersOf(server.request());
  std::string authorization = headers["authorization"];
  ASSERT_NE(authorization.find("Credential=AKIDEXAMPLE/"), std::string::npos) << authorization;
  // botocore signs whatever headers the request carries: give it exactly those libcurl signed.
  auto at = authorization.find("SignedHeaders=") + 14;
  std::string signed_list = authorization.substr(at, authorization.find(',', at) - at);
  nlohmann::json signed_headers = nlohmann::json::object();
  for (std::size_t from = 0; from < signed_list.size();) {
    auto to = signed_list.find(';', from);
    if (to == std::string::npos) to = signed_list.size();
    std::string name = signed_list.substr(from, to - from);
    if (name != "x-amz-date" && name != "host") signed_headers[name] = headers[name];
    from = to + 1;
  }
  nlohmann::json input = {{"method", "POST"}, {"url", r.url}, {"headers", signed_headers},
                          {"body", r.body}, {"key", "AKIDEXAMPLE"},
                          {"secret", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
                          {"token", token}, {"region", "eu-west-1"}, {"service", "sqs"},
                          {"amz_date", headers["x-amz-date"]}};
  std::string text = input.dump();
  auto reference = testing::run(
      "python3 " QSPLIT_SOURCE_DIR "/tests/support/sigv4_header_reference.py", &text);
  ASSERT_EQ(reference.status, 0) << "python3 with botocore is needed (scripts/install-deps.sh)";
  EXPECT_EQ(authorization, reference.out.substr(0, reference.out.find('\n')));
}

TEST(HttpClient, SignsRequestsExactlyAsBotocoreDoes) { expectSignedLikeBotocore(""); }

TEST(HttpClient, SignsSessionTokensExactlyAsBotocoreDoes) {
  expectSignedLikeBotocore("FQoGZXIvYXdzEBYaDtoken+/=");
}

TEST(HttpClient, UnreachableServerIsUnavailableAndNamesTheUrl) {
  auto client = HttpClient::create();
  ASSERT_TRUE(client.has_value());
  // A port that was free a moment ago: nothing listens on it.
  int port;
  {
    OneShotServer probe;
    port = probe.port();
    auto r = (*client)->call(getRequest("http://127.0.0.1:" + std::to_string(port) + "/",
                                        std::chrono::seconds(5)));
    ASSERT_TRUE(r.has_value());
  }
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  auto r = (*client)->call(getRequest(url, std::chrono::seconds(5)));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message().find(url), std::string::npos) << r.error().message();
}

TEST(HttpClient, ClosingFailsWhatIsStillWaiting) {
  std::future<Result<Response>> pending;
  {
    auto client = HttpClient::create();
    ASSERT_TRUE(client.has_value());
    // A listening socket that never answers: the request stays in flight.
    int port = 0;
    int fd = listenOnLoopback(&port);
    pending = (*client)->send(getRequest("http://127.0.0.1:" + std::to_string(port) + "/",
                                         std::chrono::seconds(60)));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    client->reset();
    close(fd);
  }
  auto r = pending.get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace qsplit::http
