// The seam between the HTTP transport (http_server.h: sockets, TLS, limits, timeouts) and
// what answers requests (the pipeline): a request, who sent it, and how to answer it.
// Thread-safety: a Responder may be used from any thread, but only once (Send or
// OpenStream); a ResponseStream by one producer thread at a time.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "identity/directory.h"

namespace custos::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// Beast (Boost 1.74) has its own string_view; custos code uses the standard one.
inline std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Where a request came from, as the transport saw it.
struct PeerInfo {
  std::string address;   // "127.0.0.1:54321"
  std::string listener;  // the listener's name (ListenerOptions::name)
  bool tls = false;
  // The service account of a client certificate the custos CA accepted during the
  // handshake (mTLS); empty without one.
  std::optional<identity::PrincipalId> client_certificate_principal;
};

// A response body sent in pieces (chunked transfer encoding), for answers too large to
// hold in memory (training sets). Write blocks the calling thread until the chunk is
// handed to the socket (backpressure), so it must not be called on a transport thread.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // False once the client has gone (stop producing).
  virtual bool Write(std::string chunk) = 0;
  // Ends the body; optional trailer-free final chunk. Idempotent.
  virtual void Finish() = 0;
};

// How one request is answered. Exactly one of Send or OpenStream, once.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Send(HttpResponse response) = 0;
  // Sends `header` (its body ignored) with chunked encoding and returns the stream of
  // the body. Must not be called on a transport thread (Write blocks).
  virtual std::shared_ptr<ResponseStream> OpenStream(HttpResponse header) = 0;
  // Runs `task` on the transport thread that owns the connection, where a following Send
  // goes out without another thread hop. For short, non-blocking work only (a handler
  // that reads a few keys). False, and `task` dropped, when the connection is gone.
  virtual bool RunOnConnection(std::function<void()> task) = 0;
};

// Called by the transport for every well-formed request, on a transport thread. It must
// not block: slow work goes to another thread, which answers through the responder.
using RequestDispatcher =
    std::function<void(HttpRequest request, const PeerInfo& peer, std::shared_ptr<Responder>)>;

// Requests the transport refuses before they are whole (it closes the connection after
// the answer). The refusal handler builds the answer (problem+json) and records it.
enum class TransportRefusal {
  kMalformed,       // not valid HTTP/1.1 -> 400
  kHeaderTooLarge,  // -> 431
  kBodyTooLarge,    // -> 413
  kHeaderTimeout,   // slow headers -> 408
  kBodyTimeout,     // slow body -> 408
};
using RefusalHandler =
    std::function<void(TransportRefusal refusal, const PeerInfo& peer, std::shared_ptr<Responder>)>;

}  // namespace custos::server
