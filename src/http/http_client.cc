#include "http/http_client.h"

#include <curl/curl.h>

#include <cctype>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "common/c_handle.h"

namespace qsplit::http {
namespace {

using Easy = CHandle<CURL, curl_easy_cleanup>;
using Multi = CHandle<CURLM, curl_multi_cleanup>;
using Headers = CHandle<curl_slist, curl_slist_free_all>;

struct Transfer {
  Request request;
  std::promise<Result<Response>> done;
  Easy easy;
  Headers headers;
  Response response;
  char error[CURL_ERROR_SIZE] = {};
  bool cancelled = false;
};

bool successStatus(CURL* easy) {
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  return status >= 200 && status < 300;
}

extern "C" size_t appendBody(char* data, size_t size, size_t count, void* user) noexcept {
  try {
    auto* t = static_cast<Transfer*>(user);
    if (t->request.on_body && successStatus(t->easy.get())) {
      if (!t->request.on_body(std::string_view(data, size * count))) {
        t->cancelled = true;
        return 0;
      }
    } else {
      t->response.body.append(data, size * count);
    }
    return size * count;
  } catch (...) {
    return 0;  // libcurl reports a write error, which fails the transfer
  }
}

// One header line; a new status line (after a redirect or a 100 Continue) starts over.
extern "C" size_t keepHeader(char* data, size_t size, size_t count, void* user) noexcept {
  try {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();
      return size * count;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return size * count;
    auto trim = [](std::string_view s) {
      auto b = s.find_first_not_of(" \t\r\n");
      if (b == std::string_view::npos) return std::string_view();
      return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
    };
    std::string name(trim(line.substr(0, colon)));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t->response.headers.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
    return size * count;
  } catch (...) {
    return 0;
  }
}

extern "C" int checkCancel(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  auto* t = static_cast<Transfer*>(user);
  if (t->request.cancel && t->request.cancel->load()) {
    t->cancelled = true;
    return 1;  // libcurl aborts the transfer
  }
  return 0;
}

Error transportError(const Transfer& t, CURLcode code) {
  if (t.cancelled)
    return Error(ErrorCode::kCancelled, t.request.method + " " + t.request.url + ": ended by the caller");
  std::string detail = t.error[0] ? t.error : curl_easy_strerror(code);
  std::string what = t.request.method + " " + t.request.url + ": " + detail;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error(ErrorCode::kTimeout, what);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Error(ErrorCode::kInvalidArgument, what);
    default:
      return Error(ErrorCode::kUnavailable, what);
  }
}

// libcurl copies blobs (CURL_BLOB_COPY), so the request may go before the transfer ends.
void setBlob(CURL* e, CURLoption option, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(e, option, &blob);
}

void setTls(CURL* e, const Request& r) {
  if (!r.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, r.ca_file.c_str());
  if (!r.ca_pem.empty()) setBlob(e, CURLOPT_CAINFO_BLOB, r.ca_pem);
  if (!r.client_cert_pem.empty()) {
    setBlob(e, CURLOPT_SSLCERT_BLOB, r.client_cert_pem);
    curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!r.client_key_pem.empty()) {
    setBlob(e, CURLOPT_SSLKEY_BLOB, r.client_key_pem);
    curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (r.insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

}  // namespace

struct HttpClient::Loop {
  Multi multi;
  std::mutex mutex;
  std::deque<std::unique_ptr<Transfer>> pending;  // guarded by mutex
  bool stopping = false;                          // guarded by mutex
  std::set<Transfer*> running;                    // owned; only the loop thread touches it
  std::thread thread;

  void run();
  void start(std::unique_ptr<Transfer> t);
  void finishDone();
};

void HttpClient::Loop::start(std::unique_ptr<Transfer> t) {
  CURL* e = curl_easy_init();
  if (!e) {
    t->done.set_value(fail(Error(ErrorCode::kInternal, "curl_easy_init failed")));
    return;
  }
  t->easy.reset(e);
  const Request& r = t->request;
  curl_slist* list = nullptr;
  for (const auto& h : r.headers) {
    curl_slist* next = curl_slist_append(list, h.c_str());
    if (!next) {
      curl_slist_free_all(list);
      t->done.set_value(fail(Error(ErrorCode::kInternal, "out of memory for HTTP headers")));
      return;
    }
    list = next;
  }
  t->headers.reset(list);
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  if (r.method == "HEAD")
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);  // a custom HEAD would wait for a body
  else
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method == "POST" || !r.body.empty()) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers.get());
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  setTls(e, r);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, keepHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  if (r.cancel) {
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, checkCancel);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, t.get());
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  if (!r.aws_sigv4.empty()) {
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, r.aws_sigv4.c_str());
    curl_easy_setopt(e, CURLOPT_USERPWD, r.user_password.c_str());
  } else if (!r.user_password.empty()) {
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERPWD, r.user_password.c_str());
  }
  if (curl_multi_add_handle(multi.get(), e) != CURLM_OK) {
    t->done.set_value(fail(Error(ErrorCode::kInternal, "curl_multi_add_handle failed")));
    return;
  }
  running.insert(t.release());  // owned here until finishDone() takes it back
}

void HttpClient::Loop::finishDone() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* raw = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
    running.erase(raw);
    std::unique_ptr<Transfer> t(raw);
    CURLcode code = msg->data.result;
    curl_multi_remove_handle(multi.get(), msg->easy_handle);
    if (code != CURLE_OK) {
      t->done.set_value(fail(transportError(*t, code)));
      continue;
    }
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &t->response.status);
    t->done.set_value(std::move(t->response));
  }
}

void HttpClient::Loop::run() {
  while (true) {
    std::deque<std::unique_ptr<Transfer>> fresh;
    {
      std::lock_guard lock(mutex);
      if (stopping) break;
      fresh.swap(pending);
    }
    for (auto& t : fresh) start(std::move(t));
    int running = 0;
    curl_multi_perform(multi.get(), &running);
    finishDone();
    curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
  }
  // Fail whatever is still in flight or queued, so no caller waits forever.
  for (Transfer* raw : running) {
    std::unique_ptr<Transfer> t(raw);
    curl_multi_remove_handle(multi.get(), t->easy.get());
    t->done.set_value(fail(Error(ErrorCode::kUnavailable, t->request.url + ": the client was closed")));
  }
  running.clear();
  std::lock_guard lock(mutex);
  for (auto& t : pending)
    t->done.set_value(fail(Error(ErrorCode::kUnavailable, t->request.url + ": the client was closed")));
  pending.clear();
}

Result<std::unique_ptr<HttpClient>> HttpClient::create() {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return fail(ErrorCode::kInternal, "curl_global_init failed");
  auto loop = std::make_unique<Loop>();
  loop->multi.reset(curl_multi_init());
  if (!loop->multi) return fail(ErrorCode::kInternal, "curl_multi_init failed");
  curl_multi_setopt(loop->multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
  Loop* raw = loop.get();
  loop->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(loop)));
}

HttpClient::HttpClient(std::unique_ptr<Loop> loop) : loop_(std::move(loop)) {}

HttpClient::~HttpClient() {
  {
    std::lock_guard lock(loop_->mutex);
    loop_->stopping = true;
  }
  curl_multi_wakeup(loop_->multi.get());
  loop_->thread.join();
}

std::future<Result<Response>> HttpClient::send(Request request) {
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  auto future = t->done.get_future();
  {
    std::lock_guard lock(loop_->mutex);
    if (loop_->stopping) {
      t->done.set_value(fail(Error(ErrorCode::kUnavailable, t->request.url + ": the client was closed")));
      return future;
    }
    loop_->pending.push_back(std::move(t));
  }
  curl_multi_wakeup(loop_->multi.get());
  return future;
}

}  // namespace qsplit::http
