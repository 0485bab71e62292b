// HTTP(S) load generator for the server benchmark (issue 7): N keep-alive connections, each a
// closed loop with one request outstanding, driven by Boost.Asio/Beast on one io thread by
// default (so a 2-core machine keeps a core for the server). Latency is send start to full
// response read, after a warm-up; every response's status is checked, and so is the
// `Custos-Audit-Index` receipt, which must be present and strictly increase per connection.
// Usage: custos_http_loadgen --port N [--host 127.0.0.1] [--path /v1/features/online]
//        [--method POST] [--header "K: V"]... [--body TEXT | --body-file F | --bodies-file F]
//        [--connections 50] [--duration 10s] [--warmup 2s] [--threads 1]
//        [--ca FILE] [--cert FILE --key FILE] [--server-name NAME] [--insecure] [--plain]
//        [--expect-status 200] [--no-receipts] [--timeout 10s] [--rate R] [--json]
// Closed loop by default: each connection sends its next request when the previous response
// is in, so throughput and latency are tied (Little's law: mean latency = connections /
// throughput). --rate R makes it open loop at R requests/s in total: each connection sends on
// a fixed schedule (connections / R apart). When a response comes after the next request's
// scheduled time, that request's latency runs from its scheduled time, so a slow response
// also charges the requests queued behind it (no coordinated omission); otherwise from its
// write (a 200 us pacer sends what is due, and its delay is ours, not the server's).
// Exits 1 on any connect/handshake/write/read/timeout error, unexpected status, receipt
// violation (receipt checks off with --no-receipts) or no response at all; 2 on bad arguments.
// Falling behind an open-loop schedule is a result, not an error: it is reported as "unsent"
// requests and "completed_rps" (responses that arrived in the window).
// clang-format off
#include <utility>  // first: Boost 1.74's asio/awaitable.hpp uses std::exchange without it
// clang-format on

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr beast::string_view kReceiptHeader = "Custos-Audit-Index";
constexpr size_t kMaxShownBody = 2048;
constexpr auto kWatchdogPeriod = std::chrono::milliseconds(50);
// After the measured window, in-flight requests get this long to finish before their
// sockets are closed (their latencies are still recorded if they finish).
constexpr auto kDrainGrace = std::chrono::seconds(5);
constexpr auto kReconnectDelay = std::chrono::milliseconds(20);
// Open loop: one timer per thread wakes every tick and sends what is due, rather than a
// timer per request (a wake-up per request costs the load generator a core at 20,000/s).
constexpr auto kPacerTick = std::chrono::microseconds(200);

[[noreturn]] void Usage(const std::string& what) {
  std::fprintf(stderr, "custos_http_loadgen: %s\n", what.c_str());
  std::exit(2);
}

// "10s", "500ms", "2m", "1.5" (seconds) -> a duration; exits on anything else.
Clock::duration ParseDuration(const std::string& text, const char* flag) {
  std::string_view s = text;
  double scale = 1.0;
  if (s.ends_with("ms")) {
    scale = 1e-3;
    s.remove_suffix(2);
  } else if (s.ends_with("us")) {
    scale = 1e-6;
    s.remove_suffix(2);
  } else if (s.ends_with('s')) {
    s.remove_suffix(1);
  } else if (s.ends_with('m')) {
    scale = 60.0;
    s.remove_suffix(1);
  }
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(std::string(s), &used);
    if (used != s.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    Usage(std::string(flag) + ": '" + text + "' is not a duration (write e.g. 10s, 500ms, 2m)");
  }
  if (value < 0 || !std::isfinite(value)) {
    Usage(std::string(flag) + ": '" + text + "' must be a finite, non-negative duration");
  }
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value * scale));
}

std::string ReadWholeFile(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Usage(std::string(flag) + ": cannot read '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string path = "/v1/features/online";
  std::string method = "POST";
  std::vector<std::string> headers;
  std::string body;
  std::string body_file;
  std::string bodies_file;
  int connections = 50;
  int threads = 1;
  std::string duration = "10s";
  std::string warmup = "2s";
  std::string timeout = "10s";
  double rate = 0;  // requests/s in total; 0: closed loop
  std::string ca;
  std::string cert;
  std::string key;
  std::string server_name;
  bool insecure = false;
  bool plain = false;
  int expect_status = 200;
  bool no_receipts = false;
  bool json = false;
};

// Counters and latencies of one io thread (touched only by that thread while it runs).
struct ThreadStats {
  std::vector<uint32_t> latencies_us;  // measured window only
  uint64_t warmup_requests = 0;
  uint64_t connect_errors = 0;
  uint64_t handshake_errors = 0;
  uint64_t write_errors = 0;
  uint64_t read_errors = 0;
  uint64_t timeouts = 0;
  uint64_t bad_status = 0;
  uint64_t missing_receipts = 0;
  uint64_t receipt_order = 0;  // receipt not strictly greater than the previous one
  uint64_t reconnects = 0;     // server closed a keep-alive connection (not an error)
  uint64_t measured_bytes = 0;
  uint64_t unsent = 0;  // open loop: scheduled in the window but not sent by its end
  // Responses that arrived within the measured window, whenever scheduled: the throughput a
  // server that falls behind the open-loop schedule still delivered.
  uint64_t completed_in_window = 0;
};

// Read-only after setup: shared by every thread.
struct Plan {
  std::vector<std::string> requests;  // fully serialized HTTP/1.1 requests, rotated
  tcp::endpoint endpoint;
  Clock::time_point measure_start;
  Clock::duration warmup{};
  Clock::time_point measure_end;
  Clock::duration request_timeout;
  Clock::duration send_interval{};  // per connection; zero: closed loop
  int expect_status = 200;
  bool check_receipts = true;
  std::string server_name;  // SNI and certificate name check; empty: check the IP
  std::atomic<bool>* shown_bad_body = nullptr;
};

enum class Phase { kIdle, kConnecting, kHandshaking, kPacing, kWriting, kReading, kDone };

// One keep-alive connection: connect, handshake (untimed), then request after request, one
// outstanding. Not thread-safe: it lives on one io_context that one thread runs.
template <typename Stream>
class Connection {
 public:
  // `first_send` is the connection's first scheduled send (open loop only).
  Connection(asio::io_context& io, ssl::context* tls, const Plan& plan, ThreadStats& stats,
             size_t first_request, Clock::time_point first_send)
      : io_(io),
        tls_(tls),
        plan_(plan),
        stats_(stats),
        next_request_(first_request),
        reconnect_timer_(io),
        scheduled_(first_send) {}

  void Start() { Connect(); }

  // Called by the thread's pacer every kPacerTick (open loop): sends the request whose time
  // has come. The connection was idle at its scheduled time, so its latency runs from the
  // actual write: the pacer's granularity is the load generator's delay, not the server's.
  void Pace(Clock::time_point now) {
    if (phase_ == Phase::kPacing && now >= scheduled_) {
      if (scheduled_ >= plan_.measure_end) return Finish();
      Write(now);
    }
  }
  bool done() const { return phase_ == Phase::kDone; }

  // Called by the watchdog: closes a connection whose current step outlived the timeout or
  // the drain grace; the pending handler then sees operation_aborted and counts it once.
  void CheckDeadline(Clock::time_point now, bool force_close) {
    if (phase_ == Phase::kDone || phase_ == Phase::kIdle) {
      if (force_close && phase_ == Phase::kIdle) {
        reconnect_timer_.cancel();
        phase_ = Phase::kDone;
      }
      return;
    }
    if (phase_ == Phase::kPacing) {
      if (force_close) Finish();
      return;
    }
    if (force_close || now - step_start_ > plan_.request_timeout) {
      if (!force_close) ++stats_.timeouts;
      aborted_ = true;
      beast::error_code ignored;
      Socket().close(ignored);
    }
  }

 private:
  tcp::socket::lowest_layer_type& Socket() { return stream_->lowest_layer(); }

  void Connect() {
    if (Clock::now() >= plan_.measure_end) {
      phase_ = Phase::kDone;
      return;
    }
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      stream_.emplace(io_);
    } else {
      stream_.emplace(io_, *tls_);
    }
    parser_.reset();
    buffer_.clear();
    have_receipt_ = false;
    aborted_ = false;
    Enter(Phase::kConnecting);
    Socket().async_connect(plan_.endpoint, [this](beast::error_code ec) {
      if (ec) return Fail(ec, stats_.connect_errors);
      beast::error_code ignored;
      Socket().set_option(tcp::no_delay(true), ignored);
      if constexpr (std::is_same_v<Stream, tcp::socket>) {
        Send();
      } else {
        Handshake();
      }
    });
  }

  void Handshake() {
    SSL* ssl_handle = stream_->native_handle();
    if (!plan_.server_name.empty()) {
      SSL_set_tlsext_host_name(ssl_handle, plan_.server_name.c_str());
      X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl_handle), plan_.server_name.c_str(), 0);
    } else {
      std::string ip = plan_.endpoint.address().to_string();
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), ip.c_str());
    }
    Enter(Phase::kHandshaking);
    stream_->async_handshake(ssl::stream_base::client, [this](beast::error_code ec) {
      if (ec) return Fail(ec, stats_.handshake_errors);
      Send();
    });
  }

  void Send() {
    Clock::time_point now = Clock::now();
    if (plan_.send_interval > Clock::duration::zero()) {
      if (scheduled_ >= plan_.measure_end) return Finish();
      if (now >= plan_.measure_end) {
        // Behind schedule when the window closed: these requests were never sent; they are
        // reported (a server that keeps up leaves none).
        stats_.unsent +=
            static_cast<uint64_t>((plan_.measure_end - scheduled_) / plan_.send_interval) + 1;
        return Finish();
      }
      if (now < scheduled_) {
        phase_ = Phase::kPacing;  // the thread's pacer sends it (Pace)
        return;
      }
      // The previous response came after this request's scheduled time: the wait since then
      // is the server's doing and counts as latency.
      return Write(scheduled_);
    }
    if (now >= plan_.measure_end) return Finish();
    Write(now);
  }

  // Sends the next request; its latency runs from `intended` (now in a closed loop).
  void Write(Clock::time_point intended) {
    const std::string& request = plan_.requests[next_request_ % plan_.requests.size()];
    ++next_request_;
    scheduled_ += plan_.send_interval;
    Enter(Phase::kWriting);
    write_start_ = step_start_;
    send_start_ = intended;
    asio::async_write(*stream_, asio::buffer(request), [this](beast::error_code ec, size_t) {
      if (ec) return Fail(ec, stats_.write_errors);
      Receive();
    });
  }

  void Receive() {
    Enter(Phase::kReading);
    step_start_ = write_start_;  // the timeout covers the write and the read
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(64 * 1024 * 1024);
    http::async_read(*stream_, buffer_, *parser_, [this](beast::error_code ec, size_t) {
      if (ec) return Fail(ec, stats_.read_errors);
      OnResponse();
    });
  }

  void OnResponse() {
    Clock::time_point now = Clock::now();
    const auto& response = parser_->get();
    bool measured = send_start_ >= plan_.measure_start;
    if (now >= plan_.measure_start && now < plan_.measure_end) ++stats_.completed_in_window;
    if (measured) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - send_start_).count();
      stats_.latencies_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
      stats_.measured_bytes += response.body().size();
    } else {
      ++stats_.warmup_requests;
    }
    if (response.result_int() != static_cast<unsigned>(plan_.expect_status)) {
      ++stats_.bad_status;
      if (!plan_.shown_bad_body->exchange(true)) {
        std::string_view body = response.body();
        std::fprintf(stderr,
                     "custos_http_loadgen: first unexpected status %u (expected %d); body%s:\n"
                     "%.*s\n",
                     response.result_int(), plan_.expect_status,
                     body.size() > kMaxShownBody ? " (truncated)" : "",
                     static_cast<int>(std::min(body.size(), kMaxShownBody)), body.data());
      }
    }
    if (plan_.check_receipts) CheckReceipt(response);
    if (!response.keep_alive()) {
      // The server chose to close: reconnect (handshake untimed) and go on.
      ++stats_.reconnects;
      beast::error_code ignored;
      Socket().close(ignored);
      return Connect();
    }
    Send();
  }

  void CheckReceipt(const http::response<http::string_body>& response) {
    auto it = response.find(kReceiptHeader);
    if (it == response.end()) {
      ++stats_.missing_receipts;
      return;
    }
    beast::string_view text = it->value();
    uint64_t index = 0;
    auto parsed = std::from_chars(text.data(), text.data() + text.size(), index);
    if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
      ++stats_.missing_receipts;  // present but not a number: as good as missing
      return;
    }
    if (have_receipt_ && index <= last_receipt_) ++stats_.receipt_order;
    have_receipt_ = true;
    last_receipt_ = index;
  }

  // Counts an error once (a watchdog abort counts as a timeout, already counted), then
  // reconnects after a short pause unless the run is over.
  void Fail(beast::error_code ec, uint64_t& counter) {
    bool aborted = aborted_ || ec == asio::error::operation_aborted;
    if (!aborted) {
      ++counter;
      if (!shown_error_) {
        shown_error_ = true;
        if (counter == 1) {
          std::fprintf(stderr, "custos_http_loadgen: %s error: %s\n", PhaseName(),
                       ec.message().c_str());
        }
      }
    }
    beast::error_code ignored;
    Socket().close(ignored);
    if (Clock::now() >= plan_.measure_end) return Finish();
    phase_ = Phase::kIdle;
    reconnect_timer_.expires_after(kReconnectDelay);
    reconnect_timer_.async_wait([this](beast::error_code wait_ec) {
      if (wait_ec || phase_ == Phase::kDone) return;
      Connect();
    });
  }

  void Finish() {
    beast::error_code ignored;
    Socket().close(ignored);
    phase_ = Phase::kDone;
  }

  const char* PhaseName() const {
    switch (phase_) {
      case Phase::kConnecting:
        return "connect";
      case Phase::kHandshaking:
        return "TLS handshake";
      case Phase::kWriting:
        return "write";
      case Phase::kReading:
        return "read";
      default:
        return "connection";
    }
  }

  void Enter(Phase phase) {
    phase_ = phase;
    step_start_ = Clock::now();
  }

  asio::io_context& io_;
  ssl::context* tls_;
  const Plan& plan_;
  ThreadStats& stats_;
  size_t next_request_;
  asio::steady_timer reconnect_timer_;
  Clock::time_point scheduled_;  // next scheduled send (open loop)
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kIdle;
  Clock::time_point step_start_;
  Clock::time_point write_start_;  // when the request's write began
  Clock::time_point send_start_;   // when latency starts: the write, or its schedule
  bool aborted_ = false;
  bool shown_error_ = false;
  bool have_receipt_ = false;
  uint64_t last_receipt_ = 0;
};

// One io thread: its connections and a watchdog that enforces timeouts and ends the run.
template <typename Stream>
void RunThread(const Plan& plan, ssl::context* tls, int connections, size_t thread_index,
               size_t connection_offset, int total_connections, ThreadStats& stats) {
  asio::io_context io(1);
  std::vector<std::unique_ptr<Connection<Stream>>> conns;
  conns.reserve(connections);
  for (int i = 0; i < connections; ++i) {
    // Spread the starting bodies so connections do not ask for the same entity in lockstep.
    size_t first = (connection_offset + i) * 7919 + thread_index;
    // Open loop: stagger the connections' schedules evenly over one interval.
    Clock::time_point first_send =
        plan.measure_start - plan.warmup +
        plan.send_interval * static_cast<int64_t>(connection_offset + i) / total_connections;
    conns.push_back(std::make_unique<Connection<Stream>>(io, tls, plan, stats, first, first_send));
  }
  for (auto& c : conns) c->Start();
  asio::steady_timer watchdog(io);
  std::function<void()> arm = [&] {
    watchdog.expires_after(kWatchdogPeriod);
    watchdog.async_wait([&](beast::error_code ec) {
      if (ec) return;
      Clock::time_point now = Clock::now();
      bool force = now >= plan.measure_end + kDrainGrace;
      bool all_done = true;
      for (auto& c : conns) {
        c->CheckDeadline(now, force);
        all_done = all_done && c->done();
      }
      if (!all_done && !force) arm();
    });
  };
  arm();
  asio::steady_timer pacer(io);
  std::function<void()> pace = [&] {
    pacer.expires_after(kPacerTick);
    pacer.async_wait([&](beast::error_code ec) {
      if (ec) return;
      Clock::time_point now = Clock::now();
      bool all_done = true;
      for (auto& c : conns) {
        c->Pace(now);
        all_done = all_done && c->done();
      }
      if (!all_done) pace();
    });
  };
  if (plan.send_interval > Clock::duration::zero()) pace();
  io.run();
}

double Percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least p of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> BuildRequests(const Options& o) {
  std::vector<std::string> bodies;
  int sources = !o.body.empty() + !o.body_file.empty() + !o.bodies_file.empty();
  if (sources > 1) Usage("give at most one of --body, --body-file, --bodies-file");
  if (!o.body.empty()) {
    bodies.push_back(o.body);
  } else if (!o.body_file.empty()) {
    bodies.push_back(ReadWholeFile(o.body_file, "--body-file"));
  } else if (!o.bodies_file.empty()) {
    std::istringstream in(ReadWholeFile(o.bodies_file, "--bodies-file"));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) bodies.push_back(line);
    }
    if (bodies.empty()) Usage("--bodies-file: '" + o.bodies_file + "' has no non-empty line");
  } else {
    bodies.emplace_back();
  }
  bool has_body = sources > 0;
  bool has_host = false;
  bool has_content_type = false;
  std::string extra;
  for (const std::string& h : o.headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      Usage("--header '" + h + "': write it as 'Name: value'");
    }
    std::string name = h.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "host") has_host = true;
    if (name == "content-type") has_content_type = true;
    if (name == "content-length" || name == "transfer-encoding" || name == "connection") {
      std::string what = "--header '" + h;
      what += "': the load generator sets ";
      what += name;
      what += " itself";
      Usage(what);
    }
    extra += h;
    extra += "\r\n";
  }
  std::vector<std::string> requests;
  requests.reserve(bodies.size());
  for (const std::string& body : bodies) {
    std::string r = o.method + " " + o.path + " HTTP/1.1\r\n";
    if (!has_host) r += "Host: " + o.host + ":" + std::to_string(o.port) + "\r\n";
    if (has_body && !has_content_type) r += "Content-Type: application/json\r\n";
    if (has_body || o.method == "POST" || o.method == "PUT") {
      r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    r += extra;
    r += "\r\n";
    r += body;
    requests.push_back(std::move(r));
  }
  return requests;
}

std::unique_ptr<ssl::context> MakeTlsContext(const Options& o) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  beast::error_code ec;
  if (o.insecure) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    if (!o.ca.empty()) {
      ctx->load_verify_file(o.ca, ec);
      if (ec) Usage("--ca '" + o.ca + "': " + ec.message() + " (give a PEM CA certificate)");
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) Usage("cannot load the system CA store: " + ec.message() + " (give --ca FILE)");
    }
    ctx->set_verify_mode(ssl::verify_peer);
  }
  if (o.cert.empty() != o.key.empty()) Usage("--cert and --key go together (mTLS)");
  if (!o.cert.empty()) {
    ctx->use_certificate_chain_file(o.cert, ec);
    if (ec) Usage("--cert '" + o.cert + "': " + ec.message() + " (give a PEM certificate)");
    ctx->use_private_key_file(o.key, ssl::context::pem, ec);
    if (ec) Usage("--key '" + o.key + "': " + ec.message() + " (give the PEM private key)");
  }
  return ctx;
}

int Run(int argc, char** argv) {
  Options o;
  CLI::App app{"custos_http_loadgen: closed-loop HTTP(S) keep-alive load generator"};
  app.add_option("--host", o.host, "server address (an IP address)")->capture_default_str();
  app.add_option("--port", o.port, "server port")->required();
  app.add_option("--path", o.path, "request target")->capture_default_str();
  app.add_option("--method", o.method, "request method")->capture_default_str();
  app.add_option("--header", o.headers, "extra header 'Name: value' (repeatable)");
  app.add_option("--body", o.body, "request body (JSON)");
  app.add_option("--body-file", o.body_file, "request body from a file");
  app.add_option("--bodies-file", o.bodies_file,
                 "one body per non-empty line, rotated request by request");
  app.add_option("--connections", o.connections, "concurrent connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "io threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--duration", o.duration, "measured time (10s, 500ms, 2m)")->capture_default_str();
  app.add_option("--warmup", o.warmup, "unmeasured time before it")->capture_default_str();
  app.add_option("--timeout", o.timeout, "per-request (and connect) timeout")
      ->capture_default_str();
  app.add_option("--ca", o.ca, "PEM CA certificate to trust (only it)");
  app.add_option("--cert", o.cert, "PEM client certificate (mTLS)");
  app.add_option("--key", o.key, "PEM client private key (mTLS)");
  app.add_option("--server-name", o.server_name,
                 "SNI and the name the server certificate must carry (default: check --host "
                 "as an IP address)");
  app.add_flag("--insecure", o.insecure, "do not verify the server certificate");
  app.add_flag("--plain", o.plain, "plain HTTP (no TLS)");
  app.add_option("--expect-status", o.expect_status, "expected status of every response")
      ->capture_default_str();
  app.add_flag("--no-receipts", o.no_receipts,
               "do not require an increasing Custos-Audit-Index header");
  app.add_option("--rate", o.rate,
                 "open loop at this many requests/s in total, latency from the scheduled send "
                 "time (default: closed loop)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--json", o.json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);

  Plan plan;
  plan.requests = BuildRequests(o);
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(o.host, ec);
  if (ec) Usage("--host '" + o.host + "' is not an IP address (give e.g. 127.0.0.1)");
  plan.endpoint = tcp::endpoint(address, o.port);
  plan.request_timeout = ParseDuration(o.timeout, "--timeout");
  plan.expect_status = o.expect_status;
  plan.check_receipts = !o.no_receipts;
  plan.server_name = o.server_name;
  std::atomic<bool> shown_bad_body{false};
  plan.shown_bad_body = &shown_bad_body;
  Clock::duration warmup = ParseDuration(o.warmup, "--warmup");
  Clock::duration duration = ParseDuration(o.duration, "--duration");
  if (duration <= Clock::duration::zero()) Usage("--duration must be more than 0");
  plan.warmup = warmup;
  if (o.rate > 0) {
    plan.send_interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(o.connections / o.rate));
    if (plan.send_interval <= Clock::duration::zero()) Usage("--rate is too high");
  }

  std::unique_ptr<ssl::context> tls;
  if (!o.plain) tls = MakeTlsContext(o);

  int threads = std::min(o.threads, o.connections);
  std::vector<ThreadStats> stats(threads);
  Clock::time_point start = Clock::now();
  plan.measure_start = start + warmup;
  plan.measure_end = plan.measure_start + duration;
  std::vector<std::thread> workers;
  int offset = 0;
  for (int t = 0; t < threads; ++t) {
    int count = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    auto body = [&plan, &tls, &stats, &o, count, t, offset] {
      if (o.plain) {
        RunThread<tcp::socket>(plan, nullptr, count, t, offset, o.connections, stats[t]);
      } else {
        RunThread<ssl::stream<tcp::socket>>(plan, tls.get(), count, t, offset, o.connections,
                                            stats[t]);
      }
    };
    offset += count;
    if (t + 1 == threads) {
      body();  // the main thread is the last io thread
    } else {
      workers.emplace_back(body);
    }
  }
  for (auto& w : workers) w.join();

  ThreadStats total;
  for (ThreadStats& s : stats) {
    total.latencies_us.insert(total.latencies_us.end(), s.latencies_us.begin(),
                              s.latencies_us.end());
    total.warmup_requests += s.warmup_requests;
    total.connect_errors += s.connect_errors;
    total.handshake_errors += s.handshake_errors;
    total.write_errors += s.write_errors;
    total.read_errors += s.read_errors;
    total.timeouts += s.timeouts;
    total.bad_status += s.bad_status;
    total.missing_receipts += s.missing_receipts;
    total.receipt_order += s.receipt_order;
    total.reconnects += s.reconnects;
    total.measured_bytes += s.measured_bytes;
    total.unsent += s.unsent;
    total.completed_in_window += s.completed_in_window;
  }
  std::sort(total.latencies_us.begin(), total.latencies_us.end());
  const std::vector<uint32_t>& lat = total.latencies_us;
  double seconds = std::chrono::duration<double>(duration).count();
  uint64_t requests = lat.size();
  double rps = static_cast<double>(requests) / seconds;
  double mean = 0;
  for (uint32_t v : lat) mean += v;
  mean = lat.empty() ? 0 : mean / static_cast<double>(lat.size()) / 1000.0;
  double p50 = Percentile(lat, 0.50), p90 = Percentile(lat, 0.90), p99 = Percentile(lat, 0.99),
         p999 = Percentile(lat, 0.999), max = lat.empty() ? 0 : lat.back() / 1000.0;
  uint64_t errors = total.connect_errors + total.handshake_errors + total.write_errors +
                    total.read_errors + total.timeouts;
  uint64_t receipt_violations = total.missing_receipts + total.receipt_order;
  double completed_rps = static_cast<double>(total.completed_in_window) / seconds;
  const char* transport = o.plain ? "plain" : (o.cert.empty() ? "tls" : "mtls");

  if (o.json) {
    std::printf(
        "{\"system\":\"custos_http_loadgen\",\"transport\":\"%s\",\"method\":\"%s\","
        "\"path\":\"%s\",\"connections\":%d,\"threads\":%d,\"bodies\":%zu,"
        "\"warmup_s\":%.3f,\"seconds\":%.3f,\"requests\":%llu,\"warmup_requests\":%llu,"
        "\"rps\":%.1f,\"mean_ms\":%.4f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,"
        "\"p999_ms\":%.4f,\"max_ms\":%.4f,\"response_bytes\":%llu,"
        "\"errors\":{\"connect\":%llu,\"handshake\":%llu,\"write\":%llu,\"read\":%llu,"
        "\"timeout\":%llu},\"bad_status\":%llu,\"missing_receipts\":%llu,"
        "\"receipt_order\":%llu,\"receipts_checked\":%s,\"reconnects\":%llu,"
        "\"rate\":%.1f,\"unsent\":%llu,\"completed_rps\":%.1f}\n",
        transport, JsonEscape(o.method).c_str(), JsonEscape(o.path).c_str(), o.connections, threads,
        plan.requests.size(), std::chrono::duration<double>(warmup).count(), seconds,
        static_cast<unsigned long long>(requests),
        static_cast<unsigned long long>(total.warmup_requests), rps, mean, p50, p90, p99, p999, max,
        static_cast<unsigned long long>(total.measured_bytes),
        static_cast<unsigned long long>(total.connect_errors),
        static_cast<unsigned long long>(total.handshake_errors),
        static_cast<unsigned long long>(total.write_errors),
        static_cast<unsigned long long>(total.read_errors),
        static_cast<unsigned long long>(total.timeouts),
        static_cast<unsigned long long>(total.bad_status),
        static_cast<unsigned long long>(total.missing_receipts),
        static_cast<unsigned long long>(total.receipt_order),
        plan.check_receipts ? "true" : "false", static_cast<unsigned long long>(total.reconnects),
        o.rate, static_cast<unsigned long long>(total.unsent), completed_rps);
  } else {
    std::printf(
        "%s %s %s://%s:%u, %d connections, %d io thread(s), %zu bodies; %.2f s after "
        "%.2f s warm-up\n",
        o.method.c_str(), o.path.c_str(), o.plain ? "http" : "https", o.host.c_str(), o.port,
        o.connections, threads, plan.requests.size(), seconds,
        std::chrono::duration<double>(warmup).count());
    std::printf("requests %llu in %.2f s: %.1f req/s (%llu in warm-up)",
                static_cast<unsigned long long>(requests), seconds, rps,
                static_cast<unsigned long long>(total.warmup_requests));
    if (o.rate > 0) {
      std::printf("; open loop at %.0f req/s, %llu scheduled but unsent at the end", o.rate,
                  static_cast<unsigned long long>(total.unsent));
      if (total.unsent > 0) {
        std::printf(" (fell behind: %.1f responses/s arrived in the window)", completed_rps);
      }
    }
    std::printf("\n");
    std::printf("latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", mean,
                p50, p90, p99, p999, max);
    std::printf(
        "errors: connect %llu, handshake %llu, write %llu, read %llu, timeout %llu; "
        "bad status %llu; receipts: missing %llu, not increasing %llu%s; "
        "reconnects %llu\n",
        static_cast<unsigned long long>(total.connect_errors),
        static_cast<unsigned long long>(total.handshake_errors),
        static_cast<unsigned long long>(total.write_errors),
        static_cast<unsigned long long>(total.read_errors),
        static_cast<unsigned long long>(total.timeouts),
        static_cast<unsigned long long>(total.bad_status),
        static_cast<unsigned long long>(total.missing_receipts),
        static_cast<unsigned long long>(total.receipt_order),
        plan.check_receipts ? "" : " (not checked)",
        static_cast<unsigned long long>(total.reconnects));
  }
  // An open loop the server cannot keep up with is a result, not an error: it is reported
  // as unsent requests; no response at all is an error.
  bool failed = errors > 0 || total.bad_status > 0 ||
                (plan.check_receipts && receipt_violations > 0) ||
                (requests == 0 && total.completed_in_window == 0);
  if (total.unsent > 0) {
    std::fprintf(stderr,
                 "custos_http_loadgen: fell behind the open-loop schedule: %llu requests "
                 "scheduled in the window were never sent (%.1f responses/s arrived against "
                 "%.0f scheduled); latencies include the queueing\n",
                 static_cast<unsigned long long>(total.unsent), completed_rps, o.rate);
  }
  if (requests == 0 && total.completed_in_window == 0) {
    std::fprintf(stderr, "custos_http_loadgen: no request completed\n");
  }
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Asio and Beast report setup failures (e.g. no file descriptors left) by exception.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custos_http_loadgen: %s\n", e.what());
    return 1;
  }
}
