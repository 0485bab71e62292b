// A small blocking HTTP/1.1 client (Boost.Beast/Asio, OpenSSL for https) for the OpenLineage
// HTTP sink: one keep-alive connection to one endpoint, deadlines on every step, and a
// Cancel that any thread may call to end a request in progress.
// Thread-safety: Post from one thread at a time; Cancel from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace custos::lineage::detail {

struct HttpClientOptions {
  std::string host;  // a DNS name or an IP address (IPv6 without brackets)
  uint16_t port = 0;
  bool tls = false;
  // https: PEM file of trusted CAs; empty: the system's trust store.
  std::string ca_file;
  // Resolving, connecting and the TLS handshake, together. Default 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // Writing one request and reading its answer. Default 5 s.
  std::chrono::milliseconds read_timeout{5000};
};

struct HttpAnswer {
  int status = 0;
  std::string body;  // at most kMaxAnswerBytes
};

// Answers longer than this are refused (a lineage endpoint answers with a few bytes).
inline constexpr size_t kMaxAnswerBytes = 64 * 1024;

class HttpClient {
 public:
  // InvalidArgument when the CA file (or the system store) cannot be loaded.
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` to `target` (e.g. "/api/v1/lineage") with the given extra headers and
  // returns the answer, whatever its status. Unavailable when no answer came: resolving,
  // connecting, the TLS handshake (with the certificate check that failed), a timeout,
  // a broken connection or Cancel; the message names the step. A kept-alive connection
  // that the server closed meanwhile is replaced once, silently.
  Result<HttpAnswer> Post(std::string_view target, std::string_view content_type, std::string body,
                          const std::vector<std::pair<std::string, std::string>>& headers);

  // Ends a Post in progress (within about 10 ms) and makes later ones fail at once.
  void Cancel();

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custos::lineage::detail
