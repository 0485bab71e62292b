// Fuzzes the whole /v1 pipeline behind the transport: arbitrary bytes are parsed as an
// HTTP/1.1 request (with the server's limits) and dispatched to an Api over a real Instance
// in a temporary data directory. "$TOKEN" in the input becomes a valid access token, so
// authenticated routes are reached. Every request must be answered exactly once, with a
// valid status, and every error answer must be problem+json that parses.
#include <unistd.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "crypto/random.h"
#include "crypto/root_key.h"
#include "server/api.h"

namespace {

using namespace custos;

class DiscardStream : public server::ResponseStream {
 public:
  bool Write(std::string) override { return true; }
  void Finish() override {}
};

class OneAnswer : public server::Responder {
 public:
  void Send(server::HttpResponse response) override { answer.set_value(std::move(response)); }
  std::shared_ptr<server::ResponseStream> OpenStream(server::HttpResponse header) override {
    answer.set_value(std::move(header));
    return std::make_shared<DiscardStream>();
  }
  bool RunOnConnection(std::function<void()> task) override {
    task();
    return true;
  }
  std::promise<server::HttpResponse> answer;
};

struct World {
  std::string dir;
  std::unique_ptr<server::Instance> instance;
  std::unique_ptr<server::Api> api;
  std::string token;
};

World* MakeWorld() {
  crypto::InitCrypto();
  auto* w = new World;
  char tmpl[] = "/tmp/custos-fuzz-server-XXXXXX";
  w->dir = std::string(mkdtemp(tmpl)) + "/data";
  crypto::ShamirInit init = *crypto::InitShamir(3, 2);
  auto dir = storage::DataDir::Create(w->dir, init.config, std::move(init.root_key), {});
  if (!dir.ok()) std::abort();
  std::filesystem::create_directories(w->dir + "/policies");
  std::ofstream(w->dir + "/policies/p.cedar")
      << "permit(principal, action, resource == Catalog::\"main\");\n";
  server::InstanceOptions options;
  options.background_checkpoints = false;
  options.durability = audit::Durability::kOsBuffer;
  auto in = server::Instance::Open(std::move(*dir), std::move(options));
  if (!in.ok()) std::abort();
  w->instance = std::move(*in);
  identity::Caller admin{"cli", "", audit::AuthMethod::kEmbedded};
  (void)w->instance->directory().Create(admin, {identity::PrincipalId::User("alice"), "", {}});
  identity::TokenRequest request;
  request.subject = identity::PrincipalId::User("alice").ToString();
  request.purpose = "fuzzing";
  request.zone = "eu";
  request.resources = {"Catalog::*", "FeatureView::*", "AuditLog::*"};
  request.actions = {"describe", "read", "apply", "audit_read"};
  request.lifetime = std::chrono::hours(1);
  w->token = w->instance->tokens().Issue(request)->token;
  server::ApiOptions api_options;
  api_options.rate_limit = {1e9, 1e9};
  w->api = std::make_unique<server::Api>(*w->instance, api_options);
  return w;
}

World& TheWorld() {
  static World* world = MakeWorld();
  return *world;
}

void CheckAnswer(const server::HttpResponse& r) {
  const unsigned status = r.result_int();
  if (status < 200 || status > 599) std::abort();
  if (status >= 400) {
    if (server::ToStd(r[server::http::field::content_type]) != "application/problem+json") {
      std::abort();
    }
    auto j = nlohmann::json::parse(r.body(), nullptr, false);
    if (j.is_discarded() || !j.contains("type") || !j.contains("detail")) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
  std::string text(reinterpret_cast<const char*>(data), size);
  for (size_t at = text.find("$TOKEN"); at != std::string::npos; at = text.find("$TOKEN", at)) {
    text.replace(at, 6, w.token);
    at += w.token.size();
  }
  server::http::request_parser<server::http::string_body> parser;
  parser.eager(true);
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text), ec);
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  auto responder = std::make_shared<OneAnswer>();
  auto answer = responder->answer.get_future();
  if (ec || !parser.is_done()) {
    w.api->Refuse(server::TransportRefusal::kMalformed, {"127.0.0.1:1", "fuzz", true, {}},
                  responder);
  } else {
    w.api->Dispatch(parser.release(), {"127.0.0.1:1", "fuzz", true, {}}, responder);
  }
  if (answer.wait_for(std::chrono::seconds(30)) != std::future_status::ready) std::abort();
  CheckAnswer(answer.get());
  return 0;
}
