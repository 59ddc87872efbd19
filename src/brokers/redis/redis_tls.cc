#include "brokers/redis/redis_tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

namespace qsplit::redis {
namespace {

// The last OpenSSL error of this thread as text, or `otherwise`.
std::string sslError(const std::string& otherwise) {
  unsigned long code = ERR_get_error();
  if (code == 0) return otherwise;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

// A TCP connection to host:port within `timeout`, blocking once connected; -1 with `error` set.
int connectTcp(const std::string& host, int port, std::chrono::milliseconds timeout, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    error = std::string("cannot resolve the host: ") + ::gai_strerror(rc);
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);
  error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int so_error = rc == 0 ? 0 : ETIMEDOUT;
      socklen_t length = sizeof so_error;
      if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
      if (so_error != 0) {
        errno = so_error;
        rc = -1;
      }
    }
    if (rc == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      return fd;
    }
    error = std::string("cannot connect: ") + std::strerror(errno);
    ::close(fd);
  }
  return -1;
}

// Trusts the PEM certificates in `pem`; false when there is none or one does not parse.
bool trustPem(SSL_CTX* context, const std::string& pem) {
  std::unique_ptr<BIO, decltype(&::BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                   ::BIO_free);
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
    ++added;
  }
  ERR_clear_error();  // the end of the text reads as an error
  return added > 0;
}

// The session and both descriptors, owned by the relay thread.
struct Relay {
  SSL_CTX* context = nullptr;
  SSL* ssl = nullptr;
  int tcp = -1;
  int plain = -1;  // the relay's end of the pair, non-blocking
  int stop = -1;   // readable once the process exits (Relays)
  std::atomic<bool> done = false;

  ~Relay() { finish(); }

  // Ends the session and closes both descriptors (the server sees the connection close).
  void finish() {
    if (ssl) SSL_shutdown(ssl), SSL_free(std::exchange(ssl, nullptr));
    if (context) SSL_CTX_free(std::exchange(context, nullptr));
    if (tcp >= 0) ::close(std::exchange(tcp, -1));
    if (plain >= 0) ::close(std::exchange(plain, -1));
  }

  // Moves bytes both ways until a side closes. Both descriptors are non-blocking, and what one
  // side sends waits here while the other is busy (hiredis writing a long pipeline, the
  // server's records arriving), so neither direction can hold up the other.
  void run() {
    // A write to a closed peer fails with EPIPE here instead of stopping the process.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    constexpr std::size_t kChunk = 16384, kMaxWaiting = 1 << 20;
    std::string to_plain, to_tls;
    std::size_t retry = 0;  // the length of an SSL_write to repeat as it was
    bool read_wants_write = false;
    char buffer[kChunk];
    for (;;) {
      short plain_events = static_cast<short>((to_tls.size() < kMaxWaiting ? POLLIN : 0) |
                                              (to_plain.empty() ? 0 : POLLOUT));
      short tcp_events = static_cast<short>(POLLIN | (to_tls.empty() && !read_wants_write ? 0 : POLLOUT));
      pollfd fds[3] = {{plain, plain_events, 0}, {tcp, tcp_events, 0}, {stop, POLLIN, 0}};
      if (::poll(fds, 3, SSL_pending(ssl) > 0 ? 0 : -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[2].revents) return;
      if (fds[0].revents & POLLOUT) {
        ssize_t n = ::send(plain, to_plain.data(), to_plain.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR) return;
        if (n > 0) to_plain.erase(0, static_cast<std::size_t>(n));
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = ::read(plain, buffer, sizeof buffer);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return;  // hiredis closed
        if (n > 0) to_tls.append(buffer, static_cast<std::size_t>(n));
      }
      while (!to_tls.empty()) {
        std::size_t length = retry ? retry : std::min(to_tls.size(), kChunk);
        int n = SSL_write(ssl, to_tls.data(), static_cast<int>(length));
        if (n > 0) {
          to_tls.erase(0, static_cast<std::size_t>(n));
          retry = 0;
          continue;
        }
        int reason = SSL_get_error(ssl, n);
        if (reason != SSL_ERROR_WANT_WRITE && reason != SSL_ERROR_WANT_READ) return;
        retry = length;
        break;
      }
      read_wants_write = false;
      for (;;) {
        int n = SSL_read(ssl, buffer, sizeof buffer);
        if (n > 0) {
          to_plain.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        int reason = SSL_get_error(ssl, n);
        if (reason == SSL_ERROR_WANT_READ) break;
        if (reason == SSL_ERROR_WANT_WRITE) {
          read_wants_write = true;
          break;
        }
        return;  // the server closed, or the session failed
      }
    }
  }
};

// The relay threads. Made on the first relay, so after OpenSSL's initialization: at exit it is
// destroyed before OpenSSL's own clean-up runs, and stops and joins every relay first.
class Relays {
 public:
  static Relays& instance() {
    static Relays relays;
    return relays;
  }

  void start(std::unique_ptr<Relay> relay) {
    std::lock_guard lock(mutex_);
    // Threads whose relay ended are joined here, so they do not pile up.
    for (auto it = running_.begin(); it != running_.end();) {
      if (!it->relay->done) {
        ++it;
        continue;
      }
      it->thread.join();
      it = running_.erase(it);
    }
    relay->stop = stop_[0];
    Relay* r = relay.get();
    running_.push_back({std::move(relay), std::thread([r] {
                          r->run();
                          r->finish();
                          r->done = true;
                        })});
  }

  ~Relays() {
    (void)!::write(stop_[1], "x", 1);
    std::lock_guard lock(mutex_);
    for (auto& r : running_) r.thread.join();
    running_.clear();  // frees each session before OpenSSL is cleaned up
  }

 private:
  Relays() {
    if (::pipe2(stop_, O_CLOEXEC) != 0) stop_[0] = stop_[1] = -1;
  }

  struct Running {
    std::unique_ptr<Relay> relay;
    std::thread thread;
  };
  std::mutex mutex_;
  std::list<Running> running_;
  int stop_[2] = {-1, -1};
};

void setTimeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

Result<int> openTlsRelay(const std::string& host, int port, std::chrono::milliseconds timeout,
                         const std::string& ca_pem) {
  std::string server = "redis " + host + ":" + std::to_string(port) + " over TLS: ";
  auto relay = std::make_unique<Relay>();
  relay->context = SSL_CTX_new(TLS_client_method());
  if (!relay->context) return fail(ErrorCode::kInternal, server + sslError("cannot make a TLS context"));
  SSL_CTX_set_min_proto_version(relay->context, TLS1_2_VERSION);
  SSL_CTX_set_mode(relay->context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(relay->context, SSL_VERIFY_PEER, nullptr);
  if (ca_pem.empty()) SSL_CTX_set_default_verify_paths(relay->context);
  else if (!trustPem(relay->context, ca_pem))
    return fail(ErrorCode::kInvalidArgument, server + "property tls_ca: no PEM certificate in it");
  std::string error;
  relay->tcp = connectTcp(host, port, timeout, error);
  if (relay->tcp < 0) return fail(ErrorCode::kUnavailable, server + error);
  setTimeouts(relay->tcp, timeout);  // for the handshake
  relay->ssl = SSL_new(relay->context);
  SSL_set_fd(relay->ssl, relay->tcp);
  X509_VERIFY_PARAM* verify = SSL_get0_param(relay->ssl);
  in6_addr ip{};
  if (::inet_pton(AF_INET, host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, host.c_str(), &ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(verify, host.c_str());
  } else {
    SSL_set_tlsext_host_name(relay->ssl, host.c_str());
    X509_VERIFY_PARAM_set1_host(verify, host.c_str(), 0);
  }
  if (SSL_connect(relay->ssl) != 1) {
    long verified = SSL_get_verify_result(relay->ssl);
    std::string why = verified != X509_V_OK
                          ? std::string("the server's certificate is not trusted: ") +
                                X509_verify_cert_error_string(verified) +
                                (ca_pem.empty() ? " (set the property tls_ca to its CA)" : "")
                          : "the TLS handshake failed: " + sslError("the server did not answer in TLS");
    return fail(ErrorCode::kUnavailable, server + why);
  }
  setTimeouts(relay->tcp, std::chrono::milliseconds(0));  // the relay waits in poll()
  ::fcntl(relay->tcp, F_SETFL, ::fcntl(relay->tcp, F_GETFL) | O_NONBLOCK);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return fail(ErrorCode::kInternal, server + "socketpair: " + std::strerror(errno));
  relay->plain = pair[1];
  ::fcntl(pair[1], F_SETFL, ::fcntl(pair[1], F_GETFL) | O_NONBLOCK);
  Relays::instance().start(std::move(relay));
  return pair[0];
}

}  // namespace qsplit::redis
