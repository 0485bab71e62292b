// HttpServer's implementation: one io_context per I/O thread (a connection lives on one,
// so its handlers never run concurrently without a strand), a lazy per-connection
// deadline timer, and Responders that reach their connection through a weak pointer and
// a gate that closes at shutdown (they may outlive the server).
#include "server/http_server.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/thread_name.h"
#include "identity/ca.h"
#include "identity/mtls.h"

namespace custos::server {

namespace transport_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using ErrorCode = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long a refusal handler may take to answer before the connection is just closed.
constexpr std::chrono::milliseconds kRefusalAnswerTimeout = 5s;
// How long a closing connection may take to exchange close_notify or drain what the
// client still sends (so the answer is not destroyed by a TCP reset).
constexpr std::chrono::milliseconds kCloseTimeout = 1s;
// How long accepting pauses after an accept error (e.g. out of file descriptors).
constexpr std::chrono::milliseconds kAcceptRetryDelay = 50ms;
// Read size while waiting for the next request on a keep-alive connection.
constexpr size_t kReadChunk = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kInternalProblem =
    R"({"type":"https://custos.dev/problems/internal","title":"Internal Server Error",)"
    R"("status":500,"detail":"the server ended this request without an answer; this is a )"
    R"(bug in custos: please report it with the time of the request"})";

// Lets Responders (which may outlive the server) reach a connection only while the
// server runs; Close waits for those already inside. Two seq_cst atomics instead of a
// lock: Run is on every answer's path.
class PostGate {
 public:
  // Runs f() unless closed; false if closed.
  template <typename F>
  bool Run(F&& f) {
    inside_.fetch_add(1);
    const bool open = !closed_.load();
    if (open) f();
    inside_.fetch_sub(1);
    return open;
  }
  void Close() {
    closed_.store(true);
    while (inside_.load() != 0) std::this_thread::yield();
  }
  bool closed() const { return closed_.load(); }

 private:
  std::atomic<int> inside_{0};
  std::atomic<bool> closed_{false};
};

// What a chunked response's producer waits on: pieces written so far, or the end of
// the connection.
struct StreamLink {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t done = 0;  // header + chunks handed to the socket
  bool dead = false;

  void MarkDone() {
    {
      std::lock_guard lock(mu);
      ++done;
    }
    cv.notify_all();
  }
  void MarkDead() {
    {
      std::lock_guard lock(mu);
      dead = true;
    }
    cv.notify_all();
  }
};

class Connection;

struct Listener {
  ListenerOptions options;
  std::string where;  // "127.0.0.1:8443" once bound
  std::unique_ptr<ssl::context> tls;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<asio::steady_timer> retry;
  uint16_t port = 0;
};

}  // namespace transport_detail

using namespace transport_detail;

struct HttpServer::Impl {
  HttpServerOptions options;
  RequestDispatcher dispatcher;
  RefusalHandler refusal_handler;
  std::shared_ptr<PostGate> gate = std::make_shared<PostGate>();

  std::atomic<uint64_t> connections_open{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  std::atomic<uint64_t> refusals{0};

  // Destroyed after the io_contexts (ssl contexts must outlive every stream), but the
  // acceptors, which belong to iocs[0], are reset first (see ~Impl).
  std::vector<std::unique_ptr<Listener>> listeners;
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<size_t> next_ioc{0};

  std::mutex mu;  // guards stopping and connections
  std::condition_variable drained;
  bool stopping = false;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;

  std::mutex shutdown_mu;  // serializes Shutdown
  bool shut_down = false;

  ~Impl() {
    for (auto& l : listeners) {
      l->acceptor.reset();
      l->retry.reset();
    }
    connections.clear();
    work.clear();
    iocs.clear();
  }

  Status AddListener(const ListenerOptions& options);
  void Accept(Listener& listener);
  void OnAccepted(Listener& listener, asio::io_context& ioc, tcp::socket socket);
  void Unregister(Connection* connection) {
    connections_open.fetch_sub(1);
    std::lock_guard lock(mu);
    connections.erase(connection);
    if (connections.empty()) drained.notify_all();
  }
};

namespace transport_detail {

std::string EndpointText(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

HttpResponse InternalErrorResponse() {
  HttpResponse response(http::status::internal_server_error, 11);
  response.set(http::field::content_type, "application/problem+json");
  response.body() = kInternalProblem;
  return response;
}

// One accepted connection. Every method runs on its io_context's thread, except the
// constructor (on the acceptor's). Owned by HttpServer::Impl::connections until Close,
// and by the handlers of its pending operations.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, const Listener& listener, asio::io_context& ioc,
             tcp::socket socket, std::string peer_address)
      : server_(server), ioc_(ioc), timer_(ioc) {
    peer_.address = std::move(peer_address);
    peer_.listener = listener.options.name;
    mutual_tls_ = listener.options.security == ListenerOptions::Security::kMutualTls;
    if (listener.tls) {
      peer_.tls = true;
      tls_.emplace(std::move(socket), *listener.tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  asio::io_context::executor_type executor() { return ioc_.get_executor(); }

  void Start();
  void BeginShutdown();
  void Close();

  // The answers, from the Responders (on this connection's thread).
  void Deliver(uint64_t answer_id, HttpResponse response);
  void DeliverStreamHeader(uint64_t answer_id, HttpResponse header,
                           const std::shared_ptr<StreamLink>& link);
  void DeliverChunk(uint64_t answer_id, std::string chunk, const std::shared_ptr<StreamLink>& link);
  void DeliverStreamEnd(uint64_t answer_id, bool complete);

 private:
  enum class Phase : uint8_t {
    kHandshake,
    kIdle,    // keep-alive: waiting for the first byte of the next request
    kHeader,  // reading a header (on a fresh connection also its first byte)
    kBody,
    kHandler,  // waiting for the dispatcher's answer or a stream's next chunk: no limit
    kWrite,
    kRefusal,  // waiting for the refusal handler's answer
    kClosing,  // close_notify or draining
  };
  static constexpr SteadyClock::time_point kNever = SteadyClock::time_point::max();

  tcp::socket& Socket() { return tls_ ? tls_->next_layer() : *plain_; }
  template <typename F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  void SetDeadline(Phase phase, std::chrono::milliseconds timeout);
  void SetNoDeadline(Phase phase);
  void Arm(SteadyClock::time_point at);
  void OnTimer(ErrorCode ec);
  void OnDeadline();
  bool NothingReceived() const { return buffer_.size() == 0 && !(parser_ && parser_->got_some()); }

  void OnHandshake(ErrorCode ec);
  void ReadNext();
  void ReadHeader();
  void OnHeader(ErrorCode ec);
  void ReadBody();
  void OnBody(ErrorCode ec);
  void OnReadError(ErrorCode ec, bool body);
  void OnRequest();
  void Refuse(TransportRefusal refusal);
  void OnWritten(ErrorCode ec);
  void OnStreamPieceWritten(ErrorCode ec);
  void FinishExchange();
  void CloseGracefully();
  void Drain();

  HttpServer::Impl& server_;
  asio::io_context& ioc_;
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  bool mutual_tls_ = false;
  PeerInfo peer_;

  // The deadline of the current phase; the timer is armed at armed_ (<= deadline_ or
  // kNever) and re-armed lazily when it fires early, so that moving the deadline later
  // (every request) costs no timer operation.
  asio::steady_timer timer_;
  Phase phase_ = Phase::kHandshake;
  SteadyClock::time_point deadline_ = kNever;
  SteadyClock::time_point armed_ = kNever;
  bool timed_out_ = false;

  beast::flat_buffer buffer_;  // reused by every request of the connection
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool head_ = false;       // a HEAD request: the answer's header only
  bool keep_alive_ = true;  // what the request asked for
  bool reuse_ = false;      // whether the connection continues after this response
  uint64_t answer_id_ = 0;  // the answer being awaited, when awaiting_
  bool awaiting_ = false;
  bool refusing_ = false;
  bool shutting_down_ = false;
  bool closed_ = false;

  HttpResponse response_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  // A chunked response in progress.
  bool streaming_ = false;
  bool chunked_ = true;
  std::optional<http::response<http::empty_body>> stream_header_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  std::string out_;  // the chunk being written, framed
  std::shared_ptr<StreamLink> link_;
  std::unique_ptr<std::array<char, 4096>> drain_;
};

// Runs f(connection) on the connection's thread, if the connection and the server
// still exist. False if it will not run.
template <typename F>
bool PostTo(const std::weak_ptr<Connection>& weak, PostGate& gate, F&& f) {
  bool posted = false;
  gate.Run([&] {
    std::shared_ptr<Connection> connection = weak.lock();
    if (!connection) return;
    posted = true;
    auto executor = connection->executor();
    asio::dispatch(executor, [connection = std::move(connection),
                              f = std::forward<F>(f)]() mutable { f(*connection); });
  });
  return posted;
}

class ConnectionStream final : public ResponseStream {
 public:
  ConnectionStream(std::weak_ptr<Connection> connection, std::shared_ptr<PostGate> gate,
                   uint64_t answer_id, std::shared_ptr<StreamLink> link)
      : connection_(std::move(connection)),
        gate_(std::move(gate)),
        answer_id_(answer_id),
        link_(std::move(link)) {}

  ~ConnectionStream() override {
    if (!finished_) End(/*complete=*/false);
  }

  // Waits until the header is written (or the connection is gone).
  bool WaitForHeader() { return Wait(1); }

  bool Write(std::string chunk) override {
    std::lock_guard lock(producer_mu_);
    if (finished_) return false;
    if (chunk.empty()) return !Dead();  // an empty chunk would end the body
    const uint64_t target = ++sent_;
    const uint64_t id = answer_id_;
    const bool posted = PostTo(connection_, *gate_,
                               [id, chunk = std::move(chunk), link = link_](Connection& c) mutable {
                                 c.DeliverChunk(id, std::move(chunk), link);
                               });
    if (!posted) {
      link_->MarkDead();
      return false;
    }
    return Wait(target);
  }

  void Finish() override {
    std::lock_guard lock(producer_mu_);
    if (finished_) return;
    End(/*complete=*/true);
  }

 private:
  void End(bool complete) {
    finished_ = true;
    const uint64_t id = answer_id_;
    PostTo(connection_, *gate_,
           [id, complete](Connection& c) { c.DeliverStreamEnd(id, complete); });
  }
  bool Dead() {
    std::lock_guard lock(link_->mu);
    return link_->dead;
  }
  // True once `target` pieces are written; false if the connection or server ended.
  bool Wait(uint64_t target) {
    std::unique_lock lock(link_->mu);
    while (link_->done < target && !link_->dead) {
      // The server's shutdown may drop a queued piece without running it.
      if (gate_->closed()) return false;
      link_->cv.wait_for(lock, 100ms);
    }
    return link_->done >= target;
  }

  std::weak_ptr<Connection> connection_;
  std::shared_ptr<PostGate> gate_;
  const uint64_t answer_id_;
  std::shared_ptr<StreamLink> link_;
  std::mutex producer_mu_;
  uint64_t sent_ = 1;  // the header is piece 1
  bool finished_ = false;
};

class ConnectionResponder final : public Responder {
 public:
  ConnectionResponder(std::weak_ptr<Connection> connection, std::shared_ptr<PostGate> gate,
                      uint64_t answer_id)
      : connection_(std::move(connection)), gate_(std::move(gate)), answer_id_(answer_id) {}

  ~ConnectionResponder() override {
    if (!used_.exchange(true)) Post(InternalErrorResponse());
  }

  void Send(HttpResponse response) override {
    if (used_.exchange(true)) return;
    Post(std::move(response));
  }

  bool RunOnConnection(std::function<void()> task) override {
    return PostTo(connection_, *gate_, [task = std::move(task)](Connection&) { task(); });
  }

  std::shared_ptr<ResponseStream> OpenStream(HttpResponse header) override {
    auto link = std::make_shared<StreamLink>();
    auto stream = std::make_shared<ConnectionStream>(connection_, gate_, answer_id_, link);
    if (used_.exchange(true)) {
      link->MarkDead();
      return stream;
    }
    const uint64_t id = answer_id_;
    const bool posted =
        PostTo(connection_, *gate_, [id, header = std::move(header), link](Connection& c) mutable {
          c.DeliverStreamHeader(id, std::move(header), link);
        });
    if (!posted) link->MarkDead();
    stream->WaitForHeader();
    return stream;
  }

 private:
  void Post(HttpResponse response) {
    const uint64_t id = answer_id_;
    PostTo(connection_, *gate_, [id, response = std::move(response)](Connection& c) mutable {
      c.Deliver(id, std::move(response));
    });
  }

  std::weak_ptr<Connection> connection_;
  std::shared_ptr<PostGate> gate_;
  const uint64_t answer_id_;
  std::atomic<bool> used_{false};
};

// ---- Connection ----

void Connection::Start() {
  ErrorCode ignored;
  Socket().set_option(tcp::no_delay(true), ignored);
  if (!tls_) {
    ReadHeader();
    return;
  }
  SetDeadline(Phase::kHandshake, server_.options.header_timeout);
  tls_->async_handshake(ssl::stream_base::server,
                        [self = shared_from_this()](ErrorCode ec) { self->OnHandshake(ec); });
}

void Connection::OnHandshake(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    server_.tls_handshake_failures.fetch_add(1);
    Close();
    return;
  }
  if (mutual_tls_) {
    // Checked again after the handshake: a resumed session skips the CA's callback, and
    // the certificate may have been revoked since it was first accepted.
    Result<identity::PrincipalId> principal =
        identity::PeerServiceAccount(tls_->native_handle(), *server_.options.ca);
    if (!principal.ok()) {
      server_.tls_handshake_failures.fetch_add(1);
      Close();
      return;
    }
    peer_.client_certificate_principal = std::move(*principal);
  }
  ReadHeader();
}

void Connection::ReadNext() {
  if (shutting_down_) {
    Close();
    return;
  }
  if (buffer_.size() > 0) {
    ReadHeader();
    return;
  }
  // The header timeout starts with the first byte of the request, not with the
  // keep-alive wait before it.
  SetDeadline(Phase::kIdle, server_.options.idle_timeout);
  WithStream([&](auto& stream) {
    stream.async_read_some(buffer_.prepare(kReadChunk),
                           [self = shared_from_this()](ErrorCode ec, size_t n) {
                             if (self->closed_) return;
                             if (ec) {
                               self->Close();
                               return;
                             }
                             self->buffer_.commit(n);
                             self->ReadHeader();
                           });
  });
}

void Connection::ReadHeader() {
  SetDeadline(Phase::kHeader, server_.options.header_timeout);
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(server_.options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  // With a per-request limit the header is read without one (the largest value: Beast
  // 1.74 compares a Content-Length with an unset optional as if it were too large);
  // OnHeader applies the request's own limit.
  if (server_.options.body_limit_for) {
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
  } else {
    parser_->body_limit(static_cast<uint64_t>(server_.options.max_body_bytes));
  }
  WithStream([&](auto& stream) {
    http::async_read_header(
        stream, buffer_, *parser_,
        [self = shared_from_this()](ErrorCode ec, size_t) { self->OnHeader(ec); });
  });
}

void Connection::OnHeader(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    OnReadError(ec, /*body=*/false);
    return;
  }
  size_t limit = server_.options.max_body_bytes;
  if (server_.options.body_limit_for) {
    const auto& head = parser_->get();
    const size_t asked = server_.options.body_limit_for(head.method(), ToStd(head.target()));
    limit = std::max(limit, asked);
    parser_->body_limit(static_cast<uint64_t>(limit));  // chunked bodies: checked as they come
  }
  const auto length = parser_->content_length();
  if (length && *length > limit) {
    Refuse(TransportRefusal::kBodyTooLarge);
    return;
  }
  if (parser_->is_done()) {
    OnRequest();
    return;
  }
  const auto& header = parser_->get();
  auto expect = header.find(http::field::expect);
  if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
    SetDeadline(Phase::kWrite, server_.options.write_timeout);
    WithStream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](ErrorCode ec, size_t) {
                          if (self->closed_) return;
                          if (ec) {
                            self->Close();
                            return;
                          }
                          self->ReadBody();
                        });
    });
    return;
  }
  ReadBody();
}

void Connection::ReadBody() {
  SetDeadline(Phase::kBody, server_.options.body_timeout);
  WithStream([&](auto& stream) {
    http::async_read(stream, buffer_, *parser_,
                     [self = shared_from_this()](ErrorCode ec, size_t) { self->OnBody(ec); });
  });
}

void Connection::OnBody(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    OnReadError(ec, /*body=*/true);
    return;
  }
  OnRequest();
}

void Connection::OnReadError(ErrorCode ec, bool body) {
  if (timed_out_) {
    if (!body && NothingReceived()) {
      Close();  // a connection that never sent anything gets no answer
      return;
    }
    Refuse(body ? TransportRefusal::kBodyTimeout : TransportRefusal::kHeaderTimeout);
    return;
  }
  if (ec == http::error::header_limit) {
    Refuse(TransportRefusal::kHeaderTooLarge);
  } else if (ec == http::error::body_limit) {
    Refuse(TransportRefusal::kBodyTooLarge);
  } else if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
    Close();  // the client went away
  } else if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    Refuse(TransportRefusal::kMalformed);
  } else {
    Close();  // a socket or TLS error: nobody to answer
  }
}

void Connection::OnRequest() {
  HttpRequest request = parser_->release();
  parser_.reset();
  version_ = request.version();
  head_ = request.method() == http::verb::head;
  keep_alive_ = request.keep_alive();
  SetNoDeadline(Phase::kHandler);
  awaiting_ = true;
  auto responder =
      std::make_shared<ConnectionResponder>(weak_from_this(), server_.gate, ++answer_id_);
  try {
    server_.dispatcher(std::move(request), peer_, std::move(responder));
  } catch (...) {
    // The responder, if dropped, answers 500; an exception must not end the I/O thread.
  }
}

void Connection::Refuse(TransportRefusal refusal) {
  server_.refusals.fetch_add(1);
  refusing_ = true;
  parser_.reset();
  version_ = 11;
  head_ = false;
  keep_alive_ = false;
  SetDeadline(Phase::kRefusal, kRefusalAnswerTimeout);
  awaiting_ = true;
  auto responder =
      std::make_shared<ConnectionResponder>(weak_from_this(), server_.gate, ++answer_id_);
  try {
    server_.refusal_handler(refusal, peer_, std::move(responder));
  } catch (...) {
    // As in OnRequest.
  }
}

void Connection::Deliver(uint64_t answer_id, HttpResponse response) {
  if (closed_ || !awaiting_ || answer_id != answer_id_) return;
  awaiting_ = false;
  reuse_ = keep_alive_ && !refusing_ && !shutting_down_;
  response_ = std::move(response);
  response_.version(version_);
  response_.keep_alive(reuse_);
  response_.prepare_payload();
  serializer_.emplace(response_);
  SetDeadline(Phase::kWrite, server_.options.write_timeout);
  WithStream([&](auto& stream) {
    auto written = [self = shared_from_this()](ErrorCode ec, size_t) { self->OnWritten(ec); };
    if (head_) {
      // Content-Length stays what a GET would get (RFC 9110 9.3.2); no body follows.
      http::async_write_header(stream, *serializer_, std::move(written));
    } else {
      http::async_write(stream, *serializer_, std::move(written));
    }
  });
}

void Connection::OnWritten(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  serializer_.reset();
  response_ = HttpResponse();
  FinishExchange();
}

void Connection::FinishExchange() {
  if (reuse_ && !shutting_down_) {
    ReadNext();
  } else {
    CloseGracefully();
  }
}

void Connection::DeliverStreamHeader(uint64_t answer_id, HttpResponse header,
                                     const std::shared_ptr<StreamLink>& link) {
  if (closed_ || !awaiting_ || answer_id != answer_id_) {
    link->MarkDead();
    return;
  }
  awaiting_ = false;
  streaming_ = true;
  link_ = link;
  // HTTP/1.0 has no chunked encoding: the body then ends with the connection.
  chunked_ = version_ >= 11;
  reuse_ = chunked_ && keep_alive_ && !refusing_ && !shutting_down_;
  stream_header_.emplace(std::move(header.base()));
  stream_header_->version(version_);
  stream_header_->erase(http::field::content_length);
  stream_header_->erase(http::field::transfer_encoding);
  stream_header_->keep_alive(reuse_);
  if (chunked_) stream_header_->chunked(true);
  stream_serializer_.emplace(*stream_header_);
  SetDeadline(Phase::kWrite, server_.options.write_timeout);
  WithStream([&](auto& stream) {
    http::async_write_header(
        stream, *stream_serializer_,
        [self = shared_from_this()](ErrorCode ec, size_t) { self->OnStreamPieceWritten(ec); });
  });
}

void Connection::DeliverChunk(uint64_t answer_id, std::string chunk,
                              const std::shared_ptr<StreamLink>& link) {
  if (closed_ || !streaming_ || answer_id != answer_id_) {
    link->MarkDead();
    return;
  }
  out_.clear();
  if (chunked_) {
    // One buffer per chunk (size line, data, CRLF), so TLS sends it as one record.
    std::array<char, 20> size;
    auto [end, ignored] = std::to_chars(size.data(), size.data() + size.size(), chunk.size(), 16);
    out_.reserve(chunk.size() + 24);
    out_.append(size.data(), end).append("\r\n").append(chunk).append("\r\n");
  } else {
    out_ = std::move(chunk);
  }
  SetDeadline(Phase::kWrite, server_.options.write_timeout);
  WithStream([&](auto& stream) {
    asio::async_write(
        stream, asio::buffer(out_),
        [self = shared_from_this()](ErrorCode ec, size_t) { self->OnStreamPieceWritten(ec); });
  });
}

void Connection::OnStreamPieceWritten(ErrorCode ec) {
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  SetNoDeadline(Phase::kHandler);  // the producer decides the pace
  link_->MarkDone();
}

void Connection::DeliverStreamEnd(uint64_t answer_id, bool complete) {
  if (closed_ || !streaming_ || answer_id != answer_id_) return;
  streaming_ = false;
  stream_serializer_.reset();
  stream_header_.reset();
  if (!complete || !chunked_) {
    // An abandoned chunked body must not look complete: end it without the last chunk.
    if (!complete) {
      Close();
    } else {
      CloseGracefully();
    }
    return;
  }
  SetDeadline(Phase::kWrite, server_.options.write_timeout);
  WithStream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(kLastChunk.data(), kLastChunk.size()),
                      [self = shared_from_this()](ErrorCode ec, size_t) {
                        if (self->closed_) return;
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->out_ = std::string();
                        self->FinishExchange();
                      });
  });
}

void Connection::CloseGracefully() {
  SetDeadline(Phase::kClosing, kCloseTimeout);
  if (tls_ && !refusing_) {
    tls_->async_shutdown([self = shared_from_this()](ErrorCode) { self->Close(); });
    return;
  }
  // After a refusal the client may still be sending (a body we did not read): half-close
  // and read what comes until it closes too, so the answer is not lost to a TCP reset.
  ErrorCode ignored;
  Socket().shutdown(tcp::socket::shutdown_send, ignored);
  drain_ = std::make_unique<std::array<char, 4096>>();
  Drain();
}

void Connection::Drain() {
  Socket().async_read_some(asio::buffer(*drain_),
                           [self = shared_from_this()](ErrorCode ec, size_t) {
                             if (self->closed_) return;
                             if (ec) {
                               self->Close();
                               return;
                             }
                             self->Drain();
                           });
}

void Connection::BeginShutdown() {
  if (closed_) return;
  shutting_down_ = true;
  const bool idle = phase_ == Phase::kHandshake || phase_ == Phase::kIdle ||
                    phase_ == Phase::kClosing || (phase_ == Phase::kHeader && NothingReceived());
  if (idle) Close();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // Unregister drops the server's reference
  ErrorCode ignored;
  timer_.cancel();
  Socket().close(ignored);
  if (link_) link_->MarkDead();
  server_.Unregister(this);
}

// ---- deadlines ----

void Connection::SetDeadline(Phase phase, std::chrono::milliseconds timeout) {
  phase_ = phase;
  timed_out_ = false;
  deadline_ = SteadyClock::now() + timeout;
  if (deadline_ < armed_) Arm(deadline_);
}

void Connection::SetNoDeadline(Phase phase) {
  phase_ = phase;
  timed_out_ = false;
  deadline_ = kNever;
}

void Connection::Arm(SteadyClock::time_point at) {
  armed_ = at;
  timer_.expires_at(at);  // a pending wait completes with operation_aborted
  timer_.async_wait([self = shared_from_this()](ErrorCode ec) { self->OnTimer(ec); });
}

void Connection::OnTimer(ErrorCode ec) {
  if (ec || closed_) return;
  const SteadyClock::time_point now = SteadyClock::now();
  if (timer_.expiry() > now) return;  // a stale wait; a later one is pending
  armed_ = kNever;
  if (now >= deadline_) {
    OnDeadline();
  } else if (deadline_ != kNever) {
    Arm(deadline_);
  }
}

void Connection::OnDeadline() {
  deadline_ = kNever;
  switch (phase_) {
    case Phase::kHeader:
    case Phase::kBody: {
      // The pending read completes with an error; OnReadError sends the refusal.
      timed_out_ = true;
      ErrorCode ignored;
      Socket().cancel(ignored);
      return;
    }
    case Phase::kHandler:
      return;
    case Phase::kHandshake:
    case Phase::kIdle:
    case Phase::kWrite:
    case Phase::kRefusal:
    case Phase::kClosing:
      Close();
      return;
  }
}

}  // namespace transport_detail

// ---- HttpServer::Impl ----

Status HttpServer::Impl::AddListener(const ListenerOptions& listener_options) {
  auto listener = std::make_unique<Listener>();
  listener->options = listener_options;
  const std::string given = listener_options.address + ":" + std::to_string(listener_options.port);
  ErrorCode ec;
  const asio::ip::address address = asio::ip::make_address(listener_options.address, ec);
  if (ec) {
    return InvalidArgumentError("listener '" + listener_options.name + "' (" + given + "): '" +
                                listener_options.address +
                                "' is not an IP address; use e.g. 127.0.0.1, 0.0.0.0 or ::1");
  }
  const tcp::endpoint endpoint(address, listener_options.port);
  const std::string where = EndpointText(endpoint);
  using Security = ListenerOptions::Security;
  if (listener_options.security == Security::kPlain && !address.is_loopback()) {
    return InvalidArgumentError(
        where +
        ": plain HTTP is only allowed on a loopback address (127.0.0.0/8 or ::1), since "
        "requests carry tokens and data in clear; listen on 127.0.0.1 or use TLS");
  }
  if (listener_options.security != Security::kPlain) {
    if (options.certificate_pem.empty() || options.private_key_pem.size() == 0) {
      return InvalidArgumentError(
          where +
          ": a TLS listener needs the server certificate and its key "
          "(HttpServerOptions::certificate_pem and private_key_pem); issue them with the "
          "data directory's CA (CertificateAuthority::IssueServerCertificate)");
    }
    if (listener_options.security == Security::kMutualTls && options.ca == nullptr) {
      return InvalidArgumentError(where +
                                  ": an mTLS listener needs the custos CA to check client "
                                  "certificates; set HttpServerOptions::ca");
    }
    try {
      listener->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    } catch (const boost::system::system_error& e) {
      return InternalError(where + ": cannot create a TLS context: " + e.what());
    }
    SSL_CTX* ctx = listener->tls->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    CUSTOS_RETURN_IF_ERROR(
        identity::UseCertificateAndKey(ctx, options.certificate_pem, options.private_key_pem)
            .WithContext(where));
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    // Sessions resume only on the listener that made them (tickets are per context too).
    const std::string session_context = "custos/" + std::to_string(listeners.size());
    SSL_CTX_set_session_id_context(ctx,
                                   reinterpret_cast<const unsigned char*>(session_context.data()),
                                   static_cast<unsigned>(session_context.size()));
    if (listener_options.security == Security::kMutualTls) {
      CUSTOS_RETURN_IF_ERROR(
          identity::RequireClientCertificates(ctx, *options.ca).WithContext(where));
    }
  }

  auto os_error = [&](std::string_view doing, const ErrorCode& error) {
    std::string message = error.message();
    if (!message.empty()) message[0] = static_cast<char>(std::tolower(message[0]));
    std::string fix = "check the --listen address";
    if (error == asio::error::address_in_use) {
      fix = "choose another --listen port";
    } else if (error == asio::error::access_denied) {
      fix = "ports below 1024 need privileges: choose a port of 1024 or more";
    } else if (error == boost::system::errc::address_not_available) {
      fix = "the address is not one of this machine's: check the --listen address";
    }
    return UnavailableError(where + ": " + (doing.empty() ? "" : std::string(doing) + ": ") +
                            message + "; " + fix);
  };
  listener->acceptor = std::make_unique<tcp::acceptor>(*iocs[0]);
  tcp::acceptor& acceptor = *listener->acceptor;
  if (acceptor.open(endpoint.protocol(), ec); ec) return os_error("cannot open a socket", ec);
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) {
    return os_error("cannot set SO_REUSEADDR", ec);
  }
  if (acceptor.bind(endpoint, ec); ec) return os_error("", ec);
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return os_error("cannot listen", ec);
  }
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  if (ec) return os_error("cannot read the bound port", ec);
  listener->port = bound.port();
  listener->where = EndpointText(bound);
  listener->retry = std::make_unique<asio::steady_timer>(*iocs[0]);
  listeners.push_back(std::move(listener));
  return Status::Ok();
}

void HttpServer::Impl::Accept(Listener& listener) {
  asio::io_context& target = *iocs[next_ioc.fetch_add(1) % iocs.size()];
  listener.acceptor->async_accept(
      target, [this, &listener, &target](ErrorCode ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !listener.acceptor->is_open()) return;
        if (ec) {
          // E.g. out of file descriptors: pause instead of spinning.
          listener.retry->expires_after(kAcceptRetryDelay);
          listener.retry->async_wait([this, &listener](ErrorCode wait_ec) {
            if (!wait_ec && listener.acceptor->is_open()) Accept(listener);
          });
          return;
        }
        OnAccepted(listener, target, std::move(socket));
        Accept(listener);
      });
}

void HttpServer::Impl::OnAccepted(Listener& listener, asio::io_context& ioc, tcp::socket socket) {
  ErrorCode ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(mu);
    if (stopping || connections.size() >= options.max_connections) {
      socket.close(ec);
      return;
    }
    connection =
        std::make_shared<Connection>(*this, listener, ioc, std::move(socket), EndpointText(remote));
    connections.emplace(connection.get(), connection);
  }
  connections_open.fetch_add(1);
  connections_total.fetch_add(1);
  asio::post(ioc, [connection = std::move(connection)] { connection->Start(); });
}

// ---- HttpServer ----

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(std::chrono::seconds(1)); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      RequestDispatcher dispatcher,
                                                      RefusalHandler refusal_handler) {
  if (options.listeners.empty()) {
    return InvalidArgumentError("HTTP server: no listener configured; give at least one --listen");
  }
  if (!dispatcher || !refusal_handler) {
    return InvalidArgumentError(
        "HTTP server: the request dispatcher and the refusal handler "
        "must both be set");
  }
  if (options.threads == 0) {
    return InvalidArgumentError("HTTP server: threads must be at least 1");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->dispatcher = std::move(dispatcher);
  impl->refusal_handler = std::move(refusal_handler);
  for (size_t i = 0; i < impl->options.threads; ++i) {
    // One thread per io_context: asio may skip its internal locking.
    impl->iocs.push_back(std::make_unique<asio::io_context>(1));
    impl->work.push_back(asio::make_work_guard(*impl->iocs.back()));
  }
  for (const ListenerOptions& listener : impl->options.listeners) {
    CUSTOS_RETURN_IF_ERROR(impl->AddListener(listener));
  }
  for (auto& listener : impl->listeners) impl->Accept(*listener);
  for (size_t i = 0; i < impl->iocs.size(); ++i) {
    asio::io_context* ioc = impl->iocs[i].get();
    impl->threads.emplace_back([ioc, i] {
      common::SetCurrentThreadName("custos-http-" + std::to_string(i));
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (...) {
          // A handler threw (a bug in a callback): keep serving the other connections.
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::vector<uint16_t> HttpServer::ports() const {
  std::vector<uint16_t> out;
  for (const auto& listener : impl_->listeners) out.push_back(listener->port);
  return out;
}

TransportStats HttpServer::stats() const {
  return {impl_->connections_open.load(), impl_->connections_total.load(),
          impl_->tls_handshake_failures.load(), impl_->refusals.load()};
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  std::lock_guard serial(s.shutdown_mu);
  if (s.shut_down) return;
  const auto deadline = SteadyClock::now() + grace;

  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(s.mu);
    s.stopping = true;
    for (auto& [ptr, connection] : s.connections) open.push_back(connection);
  }
  // Stop accepting (on the acceptors' thread), and wait for it: a client connecting
  // after Shutdown returns must be refused by the OS.
  std::promise<void> closed;
  asio::post(*s.iocs[0], [&s, &closed] {
    for (auto& listener : s.listeners) {
      ErrorCode ignored;
      listener->acceptor->close(ignored);
      listener->retry->cancel();
    }
    closed.set_value();
  });
  closed.get_future().wait();
  for (auto& connection : open) {
    asio::post(connection->executor(), [connection] { connection->BeginShutdown(); });
  }
  open.clear();
  {
    std::unique_lock lock(s.mu);
    s.drained.wait_until(lock, deadline, [&] { return s.connections.empty(); });
  }
  // From here on no Responder reaches a connection, and no callback runs once the
  // threads are joined.
  s.gate->Close();
  for (auto& work : s.work) work.reset();
  for (auto& ioc : s.iocs) ioc->stop();
  for (auto& thread : s.threads) thread.join();
  s.threads.clear();
  std::unordered_map<Connection*, std::shared_ptr<Connection>> rest;
  {
    std::lock_guard lock(s.mu);
    rest.swap(s.connections);
  }
  for (auto& [ptr, connection] : rest) connection->Close();
  rest.clear();
  for (auto& listener : s.listeners) {
    listener->acceptor.reset();
    listener->retry.reset();
  }
  s.shut_down = true;
}

}  // namespace custos::server
