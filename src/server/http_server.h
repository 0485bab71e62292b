// HttpServer: the HTTPS transport of the custos server (asynchronous HTTP/1.1 over
// Boost.Beast/Asio and OpenSSL 3): listeners, TLS and mTLS handshakes, limits, timeouts,
// refusals, keep-alive and graceful shutdown. What answers requests is behind
// RequestDispatcher / RefusalHandler (http_types.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/secret.h"
#include "server/http_types.h"

namespace custos::identity {
class CertificateAuthority;
}

namespace custos::server {

// One address the server listens on.
struct ListenerOptions {
  enum class Security {
    kTls,        // HTTPS, no client certificate asked
    kMutualTls,  // HTTPS; every client must present a certificate the custos CA accepts
    kPlain,      // clear-text HTTP; only on a loopback address (127.0.0.0/8, ::1)
  };
  std::string name;     // shown in PeerInfo::listener and in messages
  std::string address;  // an IP address: "127.0.0.1", "0.0.0.0", "::1", "::"
  uint16_t port = 0;    // 0: the OS picks one; HttpServer::ports() reports it
  Security security = Security::kTls;
};

struct HttpServerOptions {
  std::vector<ListenerOptions> listeners;
  // The server certificate (PEM, optionally followed by its chain) and its private key,
  // e.g. from CertificateAuthority::IssueServerCertificate. Needed by TLS listeners.
  std::string certificate_pem;
  crypto::SecretBytes private_key_pem;
  // The custos CA that checks client certificates; needed by kMutualTls listeners and
  // must outlive the server.
  identity::CertificateAuthority* ca = nullptr;
  // I/O threads (each runs its own event loop; a connection stays on one). Default 2.
  size_t threads = 2;
  size_t max_header_bytes = 16 * 1024;      // request line + headers; more: 431
  size_t max_body_bytes = 8 * 1024 * 1024;  // request body; more: 413
  // A larger body limit for one request from its method and target, asked once its header
  // is read; the request's limit is the larger of the answer and max_body_bytes (unset:
  // max_body_bytes for all). Lets one route take larger bodies than the rest (artifact
  // chunks) without raising the limit of every route. Called on an I/O thread: it must be
  // fast and must not block.
  std::function<size_t(http::verb method, std::string_view target)> body_limit_for;
  // The TLS handshake and the whole request header must arrive within this (slowloris).
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};   // the whole request body
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive wait between requests
  std::chrono::milliseconds write_timeout{30'000};  // one response (or chunk) to the socket
  // Connections beyond this are closed as soon as they are accepted.
  size_t max_connections = 10'000;
};

// Counters for metrics, read without locks (each value is exact, the set is not a
// snapshot).
struct TransportStats {
  uint64_t connections_open = 0;
  uint64_t connections_total = 0;
  uint64_t tls_handshake_failures = 0;  // including mTLS clients the CA refused
  uint64_t refusals = 0;                // requests refused through the RefusalHandler
};

// Serves HTTP/1.1 (and 1.0) on every listener until Shutdown. Per connection: TLS
// handshake, then one request at a time: header (limits, header_timeout) -> body
// (body_timeout) -> RequestDispatcher on an I/O thread -> the Responder's answer is
// written -> next request while keep-alive holds. Requests that cannot be read whole go
// to the RefusalHandler instead, whose answer is written before the connection closes.
// A Responder dropped without an answer produces a 500 problem+json, so no client hangs;
// a refusal not answered within 5 s just closes the connection. A connection that sends
// nothing (fresh: header_timeout; between requests: idle_timeout) is closed, unrefused.
// Thread-safety: all methods may be called from any thread; Shutdown must not be called
// from a dispatcher or refusal callback (it joins the I/O threads).
class HttpServer {
 public:
  // Binds every listener and starts the I/O threads. InvalidArgument for bad options
  // (a plain listener off loopback, a missing certificate, a bad address), Unavailable
  // when the OS refuses a bind ("127.0.0.1:8443: address already in use; ...").
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options,
                                                   RequestDispatcher dispatcher,
                                                   RefusalHandler refusal_handler);
  // Shutdown(1 s) unless already shut down.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound ports, in listener order.
  std::vector<uint16_t> ports() const;

  // Stops accepting and closes connections idle between requests at once; requests in
  // flight may finish within `grace` (their responses say Connection: close); then
  // every connection is closed and the I/O threads are joined. When it returns no
  // callback runs anymore, and Responders still held elsewhere do nothing. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

  TransportStats stats() const;

  struct Impl;  // public for the .cc's connection class; not part of the API

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::server
