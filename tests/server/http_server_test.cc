// HttpServer over real sockets on 127.0.0.1: TLS and plain keep-alive round trips, the
// loopback-only rule for plain HTTP, mTLS with the data directory's CA (no certificate,
// a valid one, a revoked one), every refusal (size limits, slow header and body,
// garbage), chunked streaming, late and missing answers, and graceful shutdown.
#include "server/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../audit/log_test_util.h"
#include "../identity/identity_test_util.h"
#include "audit/log.h"
#include "common/clock.h"
#include "identity/ca.h"
#include "identity/mtls.h"

namespace custos::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using Security = ListenerOptions::Security;
using Response = http::response<http::string_body>;

// One data directory with its CA, a server certificate and two client certificates for
// the service account "fraud-scorer" (one of them revoked), shared by every test: making
// a CA is the slow part.
struct CaEnvironment {
  custos::testing::TempDir tmp;
  audit::testing::TestDataDir data;
  common::SystemClock clock;  // clients check the server's certificate at the real now
  audit::AuditSalt salt = identity::testing::FixedAuditSalt();
  std::unique_ptr<audit::AuditLog> log;
  std::unique_ptr<identity::CertificateAuthority> ca;
  identity::IssuedCertificate server_cert;
  identity::IssuedCertificate client_cert;
  identity::IssuedCertificate revoked_cert;

  CaEnvironment() {
    data = audit::testing::CreateDataDir(tmp.Sub("d"));
    audit::LogOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    log = std::move(*audit::AuditLog::Open(data.dir->kv(), data.dir->keyring(), options));
    auto created = identity::CertificateAuthority::Create(data.dir->kv(), data.dir->keyring(), *log,
                                                          salt, clock);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    ca = std::move(*created);
    server_cert = std::move(*ca->IssueServerCertificate({}));
    client_cert = std::move(*ca->IssueClientCertificate({.service_account_id = "fraud-scorer"}));
    revoked_cert = std::move(*ca->IssueClientCertificate({.service_account_id = "fraud-scorer"}));
    EXPECT_TRUE(ca->RevokeCertificate(revoked_cert.serial_hex).ok());
  }
};

CaEnvironment* env = nullptr;

// A blocking HTTP client (TLS when given a context) whose every operation gives up
// after a limit, so a misbehaving server fails a test instead of hanging it.
class Client {
 public:
  explicit Client(ssl::context* tls = nullptr) {
    if (tls) {
      tls_.emplace(ioc_, *tls);
    } else {
      plain_.emplace(ioc_);
    }
  }

  ErrorCode Connect(uint16_t port) {
    ErrorCode ec;
    socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec || !tls_) return ec;
    SSL_set_tlsext_host_name(tls_->native_handle(), "localhost");
    SSL_set1_host(tls_->native_handle(), "localhost");
    return Run([&](auto handler) { tls_->async_handshake(ssl::stream_base::client, handler); });
  }

  ErrorCode Write(std::string data) {
    out_ = std::move(data);
    return Run([&](auto handler) {
      WithStream([&](auto& s) { asio::async_write(s, asio::buffer(out_), handler); });
    });
  }

  ErrorCode Read(Response& response, std::chrono::milliseconds limit = 5s) {
    response = {};
    return Run(
        [&](auto handler) {
          WithStream([&](auto& s) { http::async_read(s, buffer_, response, handler); });
        },
        limit);
  }

  // Raw bytes up to and including `delimiter`.
  ErrorCode ReadUntil(std::string& out, const std::string& delimiter) {
    return Run([&](auto handler) {
      WithStream([&](auto& s) {
        asio::async_read_until(s, asio::dynamic_buffer(out), delimiter, handler);
      });
    });
  }

  // Reads until the server closes (or `limit`); the error that ended it.
  ErrorCode ReadToEnd(std::string& out, std::chrono::milliseconds limit = 5s) {
    return Run(
        [&](auto handler) {
          WithStream([&](auto& s) { asio::async_read(s, asio::dynamic_buffer(out), handler); });
        },
        limit);
  }

  ErrorCode Request(const std::string& text, Response& response) {
    if (ErrorCode ec = Write(text)) return ec;
    return Read(response);
  }

  void Close() {
    ErrorCode ignored;
    socket().close(ignored);
  }

 private:
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  template <typename F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }
  template <typename Start>
  ErrorCode Run(Start start, std::chrono::milliseconds limit = 5s) {
    std::optional<ErrorCode> result;
    start([&result](ErrorCode ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run_for(limit);
    if (result) return *result;
    ErrorCode ignored;
    socket().cancel(ignored);
    ioc_.restart();
    ioc_.run();
    return asio::error::timed_out;
  }

  asio::io_context ioc_;
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  beast::flat_buffer buffer_;
  std::string out_;
};

// What the server's callbacks saw, from its threads.
struct Recorder {
  std::mutex mu;
  std::vector<PeerInfo> peers;
  std::vector<std::string> targets;
  std::vector<TransportRefusal> refusals;

  std::vector<TransportRefusal> Refusals() {
    std::lock_guard lock(mu);
    return refusals;
  }
  size_t Requests() {
    std::lock_guard lock(mu);
    return targets.size();
  }
};

HttpResponse Answer(http::status status, std::string body) {
  HttpResponse response(status, 11);
  response.set(http::field::content_type, "text/plain");
  response.body() = std::move(body);
  return response;
}

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class HttpServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ::signal(SIGPIPE, SIG_IGN);
    env = new CaEnvironment();
  }
  static void TearDownTestSuite() {
    delete env;
    env = nullptr;
  }

  HttpServerTest() : client_tls_(ssl::context::tls_client) {
    EXPECT_TRUE(identity::TrustOnly(client_tls_.native_handle(), env->ca->certificate_pem()).ok());
  }

  ~HttpServerTest() override {
    std::vector<std::thread> helpers;
    {
      std::lock_guard lock(helpers_mu_);
      helpers.swap(helpers_);
    }
    for (auto& t : helpers) t.join();
    server_.reset();
  }

  HttpServerOptions Options(std::vector<ListenerOptions> listeners) {
    HttpServerOptions options;
    options.listeners = std::move(listeners);
    options.certificate_pem = env->server_cert.certificate_pem;
    options.private_key_pem = env->server_cert.private_key_pem.Clone();
    options.ca = env->ca.get();
    return options;
  }

  // Runs `f` on a helper thread (a pipeline answering later), joined by the fixture.
  void Later(std::function<void()> f) {
    std::lock_guard lock(helpers_mu_);
    helpers_.emplace_back(std::move(f));
  }

  // The test's dispatcher: /echo answers at once ("<method> <target> <body>"), /late from
  // another thread after 100 ms, /drop drops the responder, /stream sends three chunks.
  void Dispatch(HttpRequest request, const PeerInfo& peer, std::shared_ptr<Responder> responder) {
    if (request.target() == "/bench") {  // the load test: no recording
      responder->Send(Answer(http::status::ok, "ok"));
      return;
    }
    const std::string target(request.target());
    {
      std::lock_guard lock(recorder_.mu);
      recorder_.peers.push_back(peer);
      recorder_.targets.push_back(target);
    }
    if (target == "/late") {
      Later([responder] {
        std::this_thread::sleep_for(100ms);
        responder->Send(Answer(http::status::ok, "late"));
      });
    } else if (target == "/slow") {
      dispatched_.set_value();
      Later([responder] {
        std::this_thread::sleep_for(200ms);
        responder->Send(Answer(http::status::ok, "slow"));
      });
    } else if (target == "/stream-abandoned") {
      Later([responder] {
        std::shared_ptr<ResponseStream> stream =
            responder->OpenStream(HttpResponse(http::status::ok, 11));
        stream->Write("partial");
        // Dropped without Finish: the body must not look complete.
      });
    } else if (target == "/drop") {
      // No answer.
    } else if (target == "/stream") {
      Later([this, responder] {
        HttpResponse header(http::status::ok, 11);
        header.set(http::field::content_type, "application/x-ndjson");
        std::shared_ptr<ResponseStream> stream = responder->OpenStream(std::move(header));
        bool all = stream->Write("alpha\n") && stream->Write("bravo-bravo\n") &&
                   stream->Write(std::string(300, 'c'));
        stream->Finish();
        stream_writes_ok_ = all;
      });
    } else {
      responder->Send(Answer(http::status::ok, std::string(http::to_string(request.method())) +
                                                   " " + target + " " + request.body()));
    }
  }

  // Answers refusals the way the pipeline will: a status per refusal.
  void Refuse(TransportRefusal refusal, const PeerInfo&, std::shared_ptr<Responder> responder) {
    {
      std::lock_guard lock(recorder_.mu);
      recorder_.refusals.push_back(refusal);
    }
    http::status status = http::status::bad_request;
    switch (refusal) {
      case TransportRefusal::kMalformed:
        status = http::status::bad_request;
        break;
      case TransportRefusal::kHeaderTooLarge:
        status = http::status::request_header_fields_too_large;
        break;
      case TransportRefusal::kBodyTooLarge:
        status = http::status::payload_too_large;
        break;
      case TransportRefusal::kHeaderTimeout:
      case TransportRefusal::kBodyTimeout:
        status = http::status::request_timeout;
        break;
    }
    HttpResponse response(status, 11);
    response.set(http::field::content_type, "application/problem+json");
    response.body() = R"({"status":)" + std::to_string(static_cast<int>(status)) + "}";
    responder->Send(std::move(response));
  }

  Result<std::unique_ptr<HttpServer>> TryStart(HttpServerOptions options) {
    return HttpServer::Start(
        std::move(options),
        [this](HttpRequest r, const PeerInfo& p, std::shared_ptr<Responder> s) {
          Dispatch(std::move(r), p, std::move(s));
        },
        [this](TransportRefusal r, const PeerInfo& p, std::shared_ptr<Responder> s) {
          Refuse(r, p, std::move(s));
        });
  }

  // Starts the server; its first port.
  uint16_t Start(HttpServerOptions options) {
    auto started = TryStart(std::move(options));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return 0;
    server_ = std::move(*started);
    return server_->ports()[0];
  }
  uint16_t StartTls(const std::function<void(HttpServerOptions&)>& tweak = {}) {
    HttpServerOptions options = Options({{"https", "127.0.0.1", 0, Security::kTls}});
    if (tweak) tweak(options);
    return Start(std::move(options));
  }

  ssl::context ClientContextWith(const identity::IssuedCertificate& cert) {
    ssl::context ctx(ssl::context::tls_client);
    EXPECT_TRUE(identity::TrustOnly(ctx.native_handle(), env->ca->certificate_pem()).ok());
    EXPECT_TRUE(identity::UseCertificateAndKey(ctx.native_handle(), cert.certificate_pem,
                                               cert.private_key_pem)
                    .ok());
    return ctx;
  }

  ssl::context client_tls_;
  Recorder recorder_;
  std::promise<void> dispatched_;
  std::atomic<bool> stream_writes_ok_{false};
  std::mutex helpers_mu_;
  std::vector<std::thread> helpers_;
  std::unique_ptr<HttpServer> server_;
};

constexpr char kGetEcho[] = "GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST_F(HttpServerTest, TlsRoundTripsKeepTheConnectionAlive) {
  const uint16_t port = StartTls();
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  for (int i = 0; i < 3; ++i) {
    const std::string body = "n=" + std::to_string(i);
    Response response;
    ASSERT_FALSE(client.Request("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body,
                                response));
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_EQ(response.body(), "POST /echo " + body);
    EXPECT_EQ(response[http::field::content_length], std::to_string(response.body().size()));
    EXPECT_TRUE(response.keep_alive());
  }
  TransportStats stats = server_->stats();
  EXPECT_EQ(stats.connections_total, 1u);
  EXPECT_EQ(stats.connections_open, 1u);
  EXPECT_EQ(stats.refusals, 0u);
  std::lock_guard lock(recorder_.mu);
  ASSERT_EQ(recorder_.peers.size(), 3u);
  EXPECT_TRUE(recorder_.peers[0].tls);
  EXPECT_EQ(recorder_.peers[0].listener, "https");
  EXPECT_THAT(recorder_.peers[0].address, StartsWith("127.0.0.1:"));
  EXPECT_FALSE(recorder_.peers[0].client_certificate_principal.has_value());
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10EndTheConnection) {
  const uint16_t port = StartTls();
  {
    Client client(&client_tls_);
    ASSERT_FALSE(client.Connect(port));
    Response response;
    ASSERT_FALSE(client.Request(
        "GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", response));
    EXPECT_FALSE(response.keep_alive());
    EXPECT_EQ(response[http::field::connection], "close");
    std::string rest;
    EXPECT_TRUE(client.ReadToEnd(rest));  // closed by the server
    EXPECT_EQ(rest, "");
  }
  {
    Client client(&client_tls_);
    ASSERT_FALSE(client.Connect(port));
    Response response;
    ASSERT_FALSE(client.Request("GET /echo HTTP/1.0\r\n\r\n", response));
    EXPECT_EQ(response.version(), 10u);
    EXPECT_FALSE(response.keep_alive());
    EXPECT_EQ(response.body(), "GET /echo ");
  }
  EXPECT_TRUE(WaitFor([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, PlainHttpOnlyOnLoopback) {
  auto refused = TryStart(Options({{"plain", "0.0.0.0", 0, Security::kPlain}}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "0.0.0.0:0: plain HTTP is only allowed on a loopback address (127.0.0.0/8 or ::1), "
            "since requests carry tokens and data in clear; listen on 127.0.0.1 or use TLS");
  EXPECT_EQ(TryStart(Options({{"plain", "::", 0, Security::kPlain}})).status().code(),
            StatusCode::kInvalidArgument);

  const uint16_t port = Start(Options({{"plain", "127.0.0.1", 0, Security::kPlain}}));
  Client client;
  ASSERT_FALSE(client.Connect(port));
  Response response;
  ASSERT_FALSE(client.Request(kGetEcho, response));
  EXPECT_EQ(response.body(), "GET /echo ");
  std::lock_guard lock(recorder_.mu);
  ASSERT_EQ(recorder_.peers.size(), 1u);
  EXPECT_FALSE(recorder_.peers[0].tls);
  EXPECT_EQ(recorder_.peers[0].listener, "plain");
}

TEST_F(HttpServerTest, BadListenersAreRefusedWithTheAddress) {
  auto not_ip = TryStart(Options({{"https", "localhost", 8443, Security::kTls}}));
  EXPECT_EQ(not_ip.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(not_ip.status().message(),
              HasSubstr("(localhost:8443): 'localhost' is not an IP address"));

  const uint16_t port = StartTls();
  auto in_use = TryStart(Options({{"again", "127.0.0.1", port, Security::kTls}}));
  EXPECT_EQ(in_use.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(in_use.status().message(), "127.0.0.1:" + std::to_string(port) +
                                           ": address already in use; choose another --listen "
                                           "port");

  HttpServerOptions no_cert = Options({{"https", "127.0.0.1", 0, Security::kTls}});
  no_cert.certificate_pem.clear();
  EXPECT_THAT(TryStart(std::move(no_cert)).status().message(),
              HasSubstr("127.0.0.1:0: a TLS listener needs the server certificate"));
  HttpServerOptions no_ca = Options({{"mtls", "127.0.0.1", 0, Security::kMutualTls}});
  no_ca.ca = nullptr;
  EXPECT_THAT(TryStart(std::move(no_ca)).status().message(),
              HasSubstr("an mTLS listener needs the custos CA"));
}

TEST_F(HttpServerTest, MutualTlsNamesTheServiceAccountAndRefusesOthers) {
  HttpServerOptions options = Options(
      {{"mtls", "127.0.0.1", 0, Security::kMutualTls}, {"https", "127.0.0.1", 0, Security::kTls}});
  Start(std::move(options));
  const uint16_t mtls_port = server_->ports()[0];
  ASSERT_NE(server_->ports()[1], mtls_port);

  {  // a valid certificate
    ssl::context ctx = ClientContextWith(env->client_cert);
    Client client(&ctx);
    ASSERT_FALSE(client.Connect(mtls_port));
    Response response;
    ASSERT_FALSE(client.Request(kGetEcho, response));
    EXPECT_EQ(response.result(), http::status::ok);
    std::lock_guard lock(recorder_.mu);
    ASSERT_EQ(recorder_.peers.size(), 1u);
    EXPECT_EQ(recorder_.peers[0].listener, "mtls");
    ASSERT_TRUE(recorder_.peers[0].client_certificate_principal.has_value());
    EXPECT_EQ(recorder_.peers[0].client_certificate_principal->ToString(),
              "ServiceAccount::\"fraud-scorer\"");
  }
  // No certificate, then a revoked one: the handshake fails, nothing is dispatched.
  ssl::context revoked = ClientContextWith(env->revoked_cert);
  ssl::context* refused_contexts[] = {&client_tls_, &revoked};
  for (size_t i = 0; i < 2; ++i) {
    Client client(refused_contexts[i]);
    // With TLS 1.3 the client finishes its side before the server checks its certificate;
    // the refusal shows when it reads.
    if (!client.Connect(mtls_port)) {
      Response response;
      EXPECT_TRUE(client.Request(kGetEcho, response)) << "case " << i;
    }
    EXPECT_TRUE(WaitFor([&] { return server_->stats().tls_handshake_failures == i + 1; }))
        << "case " << i;
  }
  EXPECT_EQ(recorder_.Requests(), 1u);
  EXPECT_TRUE(recorder_.Refusals().empty());
}

TEST_F(HttpServerTest, OversizedContentLengthIsRefusedBeforeTheBody) {
  const uint16_t port = StartTls([](HttpServerOptions& o) { o.max_body_bytes = 1000; });
  {
    Client client(&client_tls_);
    ASSERT_FALSE(client.Connect(port));
    Response response;
    ASSERT_FALSE(client.Request(
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1001\r\n\r\n", response));
    EXPECT_EQ(response.result(), http::status::payload_too_large);
    EXPECT_EQ(response.body(), R"({"status":413})");
    EXPECT_FALSE(response.keep_alive());
  }
  EXPECT_EQ(recorder_.Refusals(), std::vector{TransportRefusal::kBodyTooLarge});
  EXPECT_EQ(server_->stats().refusals, 1u);
  // The next connection is served, and a body of exactly the limit is fine.
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  Response response;
  ASSERT_FALSE(
      client.Request("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n" +
                         std::string(1000, 'x'),
                     response));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response.body().size(), 1000u + 11u);
}

TEST_F(HttpServerTest, ChunkedBodyGrowingPastTheLimitIsRefused) {
  HttpServerOptions options = Options({{"plain", "127.0.0.1", 0, Security::kPlain}});
  options.max_body_bytes = 100;
  const uint16_t limited_port = Start(std::move(options));
  Client client;
  ASSERT_FALSE(client.Connect(limited_port));
  Response response;
  ASSERT_FALSE(client.Request(
      "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
      "40\r\n" +
          std::string(64, 'a') + "\r\n40\r\n" + std::string(64, 'b') + "\r\n0\r\n\r\n",
      response));
  EXPECT_EQ(response.result(), http::status::payload_too_large);
  EXPECT_EQ(recorder_.Refusals(), std::vector{TransportRefusal::kBodyTooLarge});
  EXPECT_EQ(recorder_.Requests(), 0u);
}

TEST_F(HttpServerTest, HeaderOverTheLimitIsRefused) {
  const uint16_t port = StartTls([](HttpServerOptions& o) { o.max_header_bytes = 1024; });
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  Response response;
  ASSERT_FALSE(client.Request(
      "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Pad: " + std::string(1100, 'p') + "\r\n\r\n",
      response));
  EXPECT_EQ(response.result(), http::status::request_header_fields_too_large);
  EXPECT_EQ(recorder_.Refusals(), std::vector{TransportRefusal::kHeaderTooLarge});
}

TEST_F(HttpServerTest, SlowHeaderIsRefusedAfterTheHeaderTimeout) {
  const uint16_t port = StartTls([](HttpServerOptions& o) { o.header_timeout = 300ms; });
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  const auto start = std::chrono::steady_clock::now();
  ASSERT_FALSE(client.Write("GET /echo HTTP/1.1\r\nHost: local"));
  Response response;
  ASSERT_FALSE(client.Read(response));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.result(), http::status::request_timeout);
  EXPECT_EQ(recorder_.Refusals(), std::vector{TransportRefusal::kHeaderTimeout});
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
}

TEST_F(HttpServerTest, SlowBodyIsRefusedAfterTheBodyTimeout) {
  const uint16_t port = StartTls([](HttpServerOptions& o) { o.body_timeout = 300ms; });
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  ASSERT_FALSE(
      client.Write("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc"));
  Response response;
  ASSERT_FALSE(client.Read(response));
  EXPECT_EQ(response.result(), http::status::request_timeout);
  EXPECT_EQ(recorder_.Refusals(), std::vector{TransportRefusal::kBodyTimeout});
  EXPECT_EQ(recorder_.Requests(), 0u);
}

TEST_F(HttpServerTest, SilentConnectionsAreClosedWithoutARefusal) {
  const uint16_t port = StartTls([](HttpServerOptions& o) {
    o.header_timeout = 200ms;
    o.idle_timeout = 200ms;
  });
  Client fresh(&client_tls_);  // never sends anything
  ASSERT_FALSE(fresh.Connect(port));
  Client idle(&client_tls_);  // one request, then nothing
  ASSERT_FALSE(idle.Connect(port));
  Response response;
  ASSERT_FALSE(idle.Request(kGetEcho, response));
  std::string rest;
  EXPECT_TRUE(fresh.ReadToEnd(rest, 2s));
  EXPECT_EQ(rest, "");
  EXPECT_TRUE(idle.ReadToEnd(rest, 2s));
  EXPECT_EQ(rest, "");
  EXPECT_TRUE(WaitFor([&] { return server_->stats().connections_open == 0; }));
  EXPECT_TRUE(recorder_.Refusals().empty());
}

TEST_F(HttpServerTest, GarbageIsRefusedAsMalformed) {
  const uint16_t port = Start(Options({{"plain", "127.0.0.1", 0, Security::kPlain}}));
  Client client;
  ASSERT_FALSE(client.Connect(port));
  Response response;
  ASSERT_FALSE(client.Request("\x01\x02 garbage \xff\r\n\r\n", response));
  EXPECT_EQ(response.result(), http::status::bad_request);
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(recorder_.Refusals(), std::vector{TransportRefusal::kMalformed});
  // TLS garbage before the handshake is a handshake failure, not a refusal.
  server_.reset();
  const uint16_t tls_port = StartTls();
  Client raw;
  ASSERT_FALSE(raw.Connect(tls_port));
  ASSERT_FALSE(raw.Write("GET / HTTP/1.1\r\n\r\n"));
  std::string rest;
  raw.ReadToEnd(rest, 2s);
  EXPECT_TRUE(WaitFor([&] { return server_->stats().tls_handshake_failures == 1; }));
  EXPECT_EQ(recorder_.Refusals().size(), 1u);
}

TEST_F(HttpServerTest, StreamedResponseArrivesChunked) {
  const uint16_t port = StartTls();
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  ASSERT_FALSE(client.Write("GET /stream HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string raw;
  ASSERT_FALSE(client.ReadUntil(raw, "\r\n0\r\n\r\n"));
  const size_t body_at = raw.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  const std::string head = raw.substr(0, body_at);
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(head, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("Content-Length")));
  EXPECT_EQ(raw.substr(body_at + 4), "6\r\nalpha\n\r\nc\r\nbravo-bravo\n\r\n12c\r\n" +
                                         std::string(300, 'c') + "\r\n0\r\n\r\n");
  // The connection goes on.
  Response response;
  ASSERT_FALSE(client.Request(kGetEcho, response));
  EXPECT_EQ(response.body(), "GET /echo ");
  EXPECT_TRUE(WaitFor([&] { return stream_writes_ok_.load(); }));
}

TEST_F(HttpServerTest, AnswerFromAnotherThreadLater) {
  const uint16_t port = StartTls();
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  const auto start = std::chrono::steady_clock::now();
  Response response;
  ASSERT_FALSE(client.Request("GET /late HTTP/1.1\r\nHost: localhost\r\n\r\n", response));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  EXPECT_EQ(response.body(), "late");
  EXPECT_TRUE(response.keep_alive());
  ASSERT_FALSE(client.Request(kGetEcho, response));
  EXPECT_EQ(response.body(), "GET /echo ");
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  const uint16_t port = StartTls();
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  Response response;
  ASSERT_FALSE(client.Request("GET /drop HTTP/1.1\r\nHost: localhost\r\n\r\n", response));
  EXPECT_EQ(response.result(), http::status::internal_server_error);
  EXPECT_EQ(response[http::field::content_type], "application/problem+json");
  EXPECT_THAT(response.body(),
              StartsWith(R"({"type":"https://custos.dev/problems/internal","title":)"));
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(HttpServerTest, ShutdownLetsInFlightRequestsFinish) {
  const uint16_t port = StartTls();
  Client idle(&client_tls_);
  ASSERT_FALSE(idle.Connect(port));
  Response response;
  ASSERT_FALSE(idle.Request(kGetEcho, response));
  Client busy(&client_tls_);
  ASSERT_FALSE(busy.Connect(port));
  ASSERT_FALSE(busy.Write("GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  ASSERT_EQ(dispatched_.get_future().wait_for(5s), std::future_status::ready);

  const auto start = std::chrono::steady_clock::now();
  std::thread shutdown([&] { server_->Shutdown(3s); });
  ASSERT_FALSE(busy.Read(response));
  EXPECT_EQ(response.body(), "slow");
  EXPECT_FALSE(response.keep_alive());
  busy.Close();
  std::string rest;
  EXPECT_TRUE(idle.ReadToEnd(rest, 2s));  // closed at once
  shutdown.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server_->stats().connections_open, 0u);

  Client late(&client_tls_);
  EXPECT_EQ(late.Connect(port), asio::error::connection_refused);
}

TEST_F(HttpServerTest, Http10StreamEndsWithTheConnection) {
  const uint16_t port = StartTls();
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  ASSERT_FALSE(client.Write("GET /stream HTTP/1.0\r\n\r\n"));
  std::string raw;
  EXPECT_TRUE(client.ReadToEnd(raw));  // ends with the connection
  const size_t body_at = raw.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_THAT(raw.substr(0, body_at), StartsWith("HTTP/1.0 200 OK\r\n"));
  EXPECT_THAT(raw.substr(0, body_at), ::testing::Not(HasSubstr("chunked")));
  EXPECT_EQ(raw.substr(body_at + 4), "alpha\nbravo-bravo\n" + std::string(300, 'c'));
}

TEST_F(HttpServerTest, AbandonedStreamClosesWithoutTheLastChunk) {
  const uint16_t port = StartTls();
  Client client(&client_tls_);
  ASSERT_FALSE(client.Connect(port));
  ASSERT_FALSE(client.Write("GET /stream-abandoned HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string raw;
  EXPECT_TRUE(client.ReadToEnd(raw));
  EXPECT_THAT(raw, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(raw, ::testing::EndsWith("\r\n\r\n7\r\npartial\r\n"));
  EXPECT_TRUE(WaitFor([&] { return server_->stats().connections_open == 0; }));
}

TEST_F(HttpServerTest, ExpectContinueGetsA100BeforeTheBody) {
  const uint16_t port = Start(Options({{"plain", "127.0.0.1", 0, Security::kPlain}}));
  Client client;
  ASSERT_FALSE(client.Connect(port));
  ASSERT_FALSE(
      client.Write("POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nExpect: "
                   "100-continue\r\n\r\n"));
  std::string interim;
  ASSERT_FALSE(client.ReadUntil(interim, "\r\n\r\n"));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  Response response;
  ASSERT_FALSE(client.Request("body", response));
  EXPECT_EQ(response.body(), "POST /echo body");
}

TEST_F(HttpServerTest, ConnectionsBeyondTheMaximumAreClosed) {
  const uint16_t port = StartTls([](HttpServerOptions& o) { o.max_connections = 1; });
  Client first(&client_tls_);
  ASSERT_FALSE(first.Connect(port));
  Response response;
  ASSERT_FALSE(first.Request(kGetEcho, response));
  Client second(&client_tls_);
  EXPECT_TRUE(second.Connect(port));  // closed during the handshake
  EXPECT_EQ(server_->stats().connections_total, 1u);
  ASSERT_FALSE(first.Request(kGetEcho, response));  // the first one goes on
  first.Close();
  EXPECT_TRUE(WaitFor([&] { return server_->stats().connections_open == 0; }));
  Client third(&client_tls_);
  ASSERT_FALSE(third.Connect(port));
  ASSERT_FALSE(third.Request(kGetEcho, response));
  EXPECT_EQ(response.result(), http::status::ok);
}

TEST_F(HttpServerTest, PlainOnIpv6Loopback) {
  auto started = TryStart(Options({{"plain6", "::1", 0, Security::kPlain}}));
  if (!started.ok() && started.status().code() == StatusCode::kUnavailable) {
    GTEST_SKIP() << "no IPv6 here: " << started.status().ToString();
  }
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_NE((*started)->ports()[0], 0);
}

TEST_F(HttpServerTest, HeadAnswersCarryNoBody) {
  const uint16_t port = Start(Options({{"plain", "127.0.0.1", 0, Security::kPlain}}));
  Client client;
  ASSERT_FALSE(client.Connect(port));
  ASSERT_FALSE(
      client.Write("HEAD /echo HTTP/1.1\r\nHost: localhost\r\n\r\n" + std::string(kGetEcho)));
  std::string raw;
  ASSERT_FALSE(client.ReadUntil(raw, "GET /echo "));
  // The HEAD answer's header (Content-Length of "HEAD /echo ") and then at once the
  // next answer: no body in between.
  EXPECT_THAT(raw, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(raw, HasSubstr("Content-Length: 11\r\n\r\nHTTP/1.1 200 OK\r\n"));
}

// A load measurement, not a check: run with --gtest_also_run_disabled_tests
// --gtest_filter='*Throughput*'. 50 keep-alive connections from one client thread for
// 3 s. Closed loop (rate 0): each sends its next request when the previous answer
// arrived. Open loop (rate > 0 requests/s in all): each sends on a fixed schedule, and a
// latency counts from the scheduled time, so a stall is not hidden (coordinated omission).
void RunLoad(uint16_t port, ssl::context* tls, const char* label, double rate = 0) {
  constexpr int kConnections = 50;
  constexpr auto kDuration = 3s;
  struct LoadConnection {
    std::optional<ssl::stream<tcp::socket>> tls;
    std::optional<tcp::socket> plain;
    beast::flat_buffer buffer;
    Response response;
    std::chrono::steady_clock::time_point sent;  // when the request was due
    bool in_flight = false;
  };
  asio::io_context ioc(1);
  std::vector<std::unique_ptr<LoadConnection>> connections;
  for (int i = 0; i < kConnections; ++i) {
    auto c = std::make_unique<LoadConnection>();
    tcp::socket* socket;
    if (tls) {
      c->tls.emplace(ioc, *tls);
      socket = &c->tls->next_layer();
    } else {
      c->plain.emplace(ioc);
      socket = &*c->plain;
    }
    socket->connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    socket->set_option(tcp::no_delay(true));
    if (tls) {
      SSL_set_tlsext_host_name(c->tls->native_handle(), "localhost");
      c->tls->handshake(ssl::stream_base::client);
    }
    connections.push_back(std::move(c));
  }
  static constexpr std::string_view kRequest = "GET /bench HTTP/1.1\r\nHost: localhost\r\n\r\n";
  std::vector<int64_t> latencies_ns;
  latencies_ns.reserve(1'000'000);
  uint64_t errors = 0;
  auto cpu_seconds = [] {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
  };
  const double cpu_start = cpu_seconds();
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + kDuration;
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(rate > 0 ? kConnections / rate : 0));
  std::function<void(LoadConnection&)> send = [&](LoadConnection& c) {
    c.in_flight = true;
    auto on_read = [&](ErrorCode ec, size_t) {
      if (ec) {
        ++errors;
        return;
      }
      const auto now = std::chrono::steady_clock::now();
      latencies_ns.push_back((now - c.sent).count());
      c.in_flight = false;
      c.sent = rate > 0 ? c.sent + interval : now;
      // Closed loop, or behind schedule: at once; otherwise the ticker sends it.
      if (c.sent < end && c.sent <= now) send(c);
    };
    auto on_write = [&, on_read](ErrorCode ec, size_t) {
      if (ec) {
        ++errors;
        return;
      }
      c.response = {};
      if (c.tls) {
        http::async_read(*c.tls, c.buffer, c.response, on_read);
      } else {
        http::async_read(*c.plain, c.buffer, c.response, on_read);
      }
    };
    if (c.tls) {
      asio::async_write(*c.tls, asio::buffer(kRequest.data(), kRequest.size()), on_write);
    } else {
      asio::async_write(*c.plain, asio::buffer(kRequest.data(), kRequest.size()), on_write);
    }
  };
  // Open loop: one ticker (every 200 us) sends what is due, instead of a timer per
  // request, so the generator's own timer system calls stay small.
  asio::steady_timer ticker(ioc);
  std::function<void()> tick = [&] {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return;
    for (auto& c : connections) {
      if (!c->in_flight && c->sent <= now) send(*c);
    }
    ticker.expires_after(200us);
    ticker.async_wait([&](ErrorCode) { tick(); });
  };
  for (int i = 0; i < kConnections; ++i) {
    LoadConnection& c = *connections[i];
    // Spread the connections' schedules over one interval.
    c.sent = start + interval * i / kConnections;
    if (rate <= 0) send(c);
  }
  if (rate > 0) tick();
  ioc.run();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies_ns.begin(), latencies_ns.end());
  auto percentile = [&](double p) {
    if (latencies_ns.empty()) return 0.0;
    return latencies_ns[static_cast<size_t>(p * static_cast<double>(latencies_ns.size() - 1))] /
           1000.0;
  };
  const double cpu_us_per_request = (cpu_seconds() - cpu_start) * 1e6 /
                                    static_cast<double>(std::max<size_t>(1, latencies_ns.size()));
  std::printf(
      "%s: %zu requests in %.2f s = %.0f req/s; latency p50 %.0f us, p99 %.0f us, "
      "p99.9 %.0f us, max %.0f us; CPU (client + server) %.1f us/request; errors %llu\n",
      label, latencies_ns.size(), seconds, static_cast<double>(latencies_ns.size()) / seconds,
      percentile(0.5), percentile(0.99), percentile(0.999), percentile(1.0), cpu_us_per_request,
      static_cast<unsigned long long>(errors));
  EXPECT_EQ(errors, 0u);
}

TEST_F(HttpServerTest, DISABLED_ThroughputOverTlsKeepAlive) {
  const uint16_t port = StartTls();
  RunLoad(port, &client_tls_, "HTTPS keep-alive, 50 connections, closed loop");
  RunLoad(port, &client_tls_, "HTTPS keep-alive, 50 connections, 10000 req/s offered", 10000);
  RunLoad(port, &client_tls_, "HTTPS keep-alive, 50 connections, 20000 req/s offered", 20000);
}

TEST_F(HttpServerTest, DISABLED_ThroughputOverPlainKeepAlive) {
  const uint16_t port = Start(Options({{"plain", "127.0.0.1", 0, Security::kPlain}}));
  RunLoad(port, nullptr, "HTTP keep-alive, 50 connections");
}

}  // namespace
}  // namespace custos::server
