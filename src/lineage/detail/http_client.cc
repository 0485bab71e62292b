// HttpClient's implementation: Beast's asynchronous operations, driven one handler at a time
// on the calling thread, so that every step has a deadline and Cancel is seen between
// handlers (Impl::Await) without a second thread.
#include "lineage/detail/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace custos::lineage::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// How long a step runs before it looks at Cancel again.
constexpr std::chrono::milliseconds kCancelPoll{10};

std::string Milliseconds(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// The errors by which a kept-alive connection shows that the server closed it while idle.
bool ClosedByPeer(const ErrorCode& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated;
}

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions options;
  std::string where;        // "host:port", for messages
  std::string host_header;  // "host" or "host:port" ("[v6]" in brackets)
  bool host_is_ip = false;
  std::unique_ptr<ssl::context> tls_context;  // https only; outlives `tls`
  asio::io_context io;
  tcp::resolver resolver{io};
  // The connection: `plain` for http, `tls` (which owns its socket) for https.
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buffer;
  std::atomic<bool> cancelled{false};

  bool connected() const { return plain.has_value() || tls.has_value(); }
  tcp::socket& Socket() { return tls ? tls->next_layer() : *plain; }

  void Disconnect() {
    ErrorCode ignored;
    if (connected()) Socket().close(ignored);
    plain.reset();
    tls.reset();
    buffer.clear();
  }

  // Runs handlers until `done`. Past `deadline`, or on Cancel, it cancels the resolver and
  // closes the socket, so that the pending operation ends (its handler still runs, and must,
  // since it refers to the caller's locals), and answers why. `step` names what is waited
  // for; `budget` is the time it had.
  Status Await(const bool& done, SteadyClock::time_point deadline, std::string_view step,
               std::chrono::milliseconds budget) {
    io.restart();
    while (!done) {
      const bool cancel = cancelled.load();
      const SteadyClock::time_point now = SteadyClock::now();
      if (cancel || now >= deadline) {
        resolver.cancel();
        ErrorCode ignored;
        if (connected()) Socket().close(ignored);
        while (!done && io.run_one() > 0) {
        }
        Disconnect();
        return UnavailableError(
            std::string(step) +
            (cancel ? ": cancelled" : ": timed out after " + Milliseconds(budget)));
      }
      if (io.stopped()) return InternalError(std::string(step) + ": no operation in progress");
      io.run_one_for(std::min<SteadyClock::duration>(kCancelPoll, deadline - now));
    }
    return Status::Ok();
  }

  Status Connect() {
    Disconnect();
    const SteadyClock::time_point deadline = SteadyClock::now() + options.connect_timeout;
    bool done = false;
    ErrorCode ec;
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(options.host, std::to_string(options.port),
                           [&](const ErrorCode& e, tcp::resolver::results_type found) {
                             ec = e;
                             endpoints = std::move(found);
                             done = true;
                           });
    CUSTOS_RETURN_IF_ERROR(
        Await(done, deadline, "resolving " + options.host, options.connect_timeout));
    if (ec) return UnavailableError("resolving " + options.host + ": " + ec.message());

    if (tls_context) {
      tls.emplace(io, *tls_context);
    } else {
      plain.emplace(io);
    }
    done = false;
    asio::async_connect(Socket(), endpoints, [&](const ErrorCode& e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    CUSTOS_RETURN_IF_ERROR(
        Await(done, deadline, "connecting to " + where, options.connect_timeout));
    if (ec) {
      Disconnect();
      return UnavailableError("connecting to " + where + ": " + ec.message());
    }
    ErrorCode ignored;
    Socket().set_option(tcp::no_delay(true), ignored);
    if (!tls) return Status::Ok();

    CUSTOS_RETURN_IF_ERROR(CheckServerName());
    done = false;
    tls->async_handshake(ssl::stream_base::client, [&](const ErrorCode& e) {
      ec = e;
      done = true;
    });
    CUSTOS_RETURN_IF_ERROR(
        Await(done, deadline, "TLS handshake with " + where, options.connect_timeout));
    if (ec) {
      std::string why = ec.message();
      const long verify = SSL_get_verify_result(tls->native_handle());
      if (verify != X509_V_OK) {
        why = std::string("the server certificate was refused: ") +
              X509_verify_cert_error_string(verify);
      }
      Disconnect();
      return UnavailableError("TLS handshake with " + where + ": " + why);
    }
    return Status::Ok();
  }

  // SNI for a host name, and the name (or IP address) the certificate must carry.
  Status CheckServerName() {
    SSL* handle = tls->native_handle();
    if (!host_is_ip && SSL_set_tlsext_host_name(handle, options.host.c_str()) != 1) {
      return InternalError("TLS: cannot set the server name " + options.host);
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set =
        host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, options.host.c_str())
                   : X509_VERIFY_PARAM_set1_host(param, options.host.data(), options.host.size());
    if (set != 1) return InternalError("TLS: cannot check the certificate for " + options.host);
    return Status::Ok();
  }

  template <typename Stream>
  Result<HttpAnswer> Exchange(Stream& stream, const http::request<http::string_body>& request,
                              bool& closed_by_peer) {
    closed_by_peer = false;
    const SteadyClock::time_point deadline = SteadyClock::now() + options.read_timeout;
    bool done = false;
    ErrorCode ec;
    http::async_write(stream, request, [&](const ErrorCode& e, size_t) {
      ec = e;
      done = true;
    });
    CUSTOS_RETURN_IF_ERROR(
        Await(done, deadline, "sending the request to " + where, options.read_timeout));
    if (ec) {
      closed_by_peer = ClosedByPeer(ec);
      Disconnect();
      return UnavailableError("sending the request to " + where + ": " + ec.message());
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxAnswerBytes);
    done = false;
    http::async_read(stream, buffer, parser, [&](const ErrorCode& e, size_t) {
      ec = e;
      done = true;
    });
    CUSTOS_RETURN_IF_ERROR(
        Await(done, deadline, "waiting for the answer of " + where, options.read_timeout));
    if (ec) {
      closed_by_peer = ClosedByPeer(ec) && !parser.got_some();
      Disconnect();
      return UnavailableError("reading the answer of " + where + ": " + ec.message());
    }
    HttpAnswer answer;
    answer.status = static_cast<int>(parser.get().result_int());
    answer.body = std::move(parser.get().body());
    if (!parser.get().keep_alive()) Disconnect();
    return answer;
  }

  Result<HttpAnswer> Exchange(const http::request<http::string_body>& request,
                              bool& closed_by_peer) {
    if (tls) return Exchange(*tls, request, closed_by_peer);
    return Exchange(*plain, request, closed_by_peer);
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  auto impl = std::make_unique<Impl>();
  ErrorCode ec;
  const asio::ip::address address = asio::ip::make_address(options.host, ec);
  impl->host_is_ip = !ec;
  const std::string bracketed =
      impl->host_is_ip && address.is_v6() ? "[" + options.host + "]" : options.host;
  impl->where = bracketed + ":" + std::to_string(options.port);
  const uint16_t default_port = options.tls ? 443 : 80;
  impl->host_header =
      options.port == default_port ? bracketed : bracketed + ":" + std::to_string(options.port);
  if (options.tls) {
    impl->tls_context = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(impl->tls_context->native_handle(), TLS1_2_VERSION);
    if (options.ca_file.empty()) {
      impl->tls_context->set_default_verify_paths(ec);
      if (ec) {
        return InvalidArgumentError("https sink: cannot load the system's trusted CAs (" +
                                    ec.message() + "); give a CA file instead");
      }
    } else {
      impl->tls_context->load_verify_file(options.ca_file, ec);
      if (ec) {
        return InvalidArgumentError("https sink: cannot load the CA file '" + options.ca_file +
                                    "' (" + ec.message() + "); it must hold PEM CA certificates");
      }
    }
    impl->tls_context->set_verify_mode(ssl::verify_peer, ec);
    if (ec) return InternalError("https sink: cannot require certificate verification");
  }
  impl->options = std::move(options);
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpAnswer> HttpClient::Post(
    std::string_view target, std::string_view content_type, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  Impl& impl = *impl_;
  if (impl.cancelled.load()) return UnavailableError("POST to " + impl.where + ": cancelled");
  http::request<http::string_body> request{http::verb::post,
                                           beast::string_view(target.data(), target.size()), 11};
  request.set(http::field::host, impl.host_header);
  request.set(http::field::user_agent, "custos-openlineage");
  request.set(http::field::content_type,
              beast::string_view(content_type.data(), content_type.size()));
  request.set(http::field::accept, "application/json");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(true);
  request.body() = std::move(body);
  request.prepare_payload();

  const bool reused = impl.connected();
  if (!reused) CUSTOS_RETURN_IF_ERROR(impl.Connect());
  bool closed_by_peer = false;
  Result<HttpAnswer> answer = impl.Exchange(request, closed_by_peer);
  if (!answer.ok() && reused && closed_by_peer && !impl.cancelled.load()) {
    CUSTOS_RETURN_IF_ERROR(impl.Connect());
    return impl.Exchange(request, closed_by_peer);
  }
  return answer;
}

void HttpClient::Cancel() { impl_->cancelled.store(true); }

}  // namespace custos::lineage::detail
