// The /v1 pipeline without sockets: requests go to Api::Dispatch and answers come back
// through a recording Responder. Checks the route table against docs/openapi.yaml, the
// order of the stages (401 before 429 before 403), receipts, refusals on the audit log,
// fail-closed auditing (503, no data), body checks and the metrics text.
#include "server/api.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <set>

#include "../audit/log_test_util.h"

namespace custos::server {
namespace {

using audit::testing::CreateDataDir;
using identity::PrincipalId;

// Keeps the one answer a request gets.
class RecordingResponder : public Responder {
 public:
  void Send(HttpResponse response) override { answer_.set_value(std::move(response)); }
  std::shared_ptr<ResponseStream> OpenStream(HttpResponse) override { return nullptr; }
  // The connection's "thread" here is whichever thread answered the audit append.
  bool RunOnConnection(std::function<void()> task) override {
    task();
    return true;
  }
  HttpResponse Wait() {
    auto future = answer_.get_future();
    EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return future.get();
  }

 private:
  std::promise<HttpResponse> answer_;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto data = CreateDataDir(tmp_.Sub("data"));
    std::filesystem::create_directories(tmp_.Sub("data") + "/policies");
    std::ofstream(tmp_.Sub("data") + "/policies/p.cedar")
        << "@id(\"alice-describes\")\n"
           "permit(principal == User::\"alice\", action == Action::\"describe\", "
           "resource == Catalog::\"main\");\n";
    InstanceOptions options;
    options.background_checkpoints = false;
    options.durability = audit::Durability::kOsBuffer;
    auto in = Instance::Open(std::move(data.dir), std::move(options));
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    instance_ = std::move(*in);
    identity::Caller admin{"cli", "", audit::AuthMethod::kEmbedded};
    for (const char* who : {"alice", "bob"}) {
      ASSERT_TRUE(instance_->directory().Create(admin, {PrincipalId::User(who), "", {}}).ok());
    }
    MakeApi({});
  }

  void MakeApi(guard::RateLimit limit) {
    api_.reset();
    ApiOptions options;
    options.rate_limit = limit;
    api_ = std::make_unique<Api>(*instance_, options);
  }

  std::string Token(const char* who) {
    identity::TokenRequest request;
    request.subject = PrincipalId::User(who).ToString();
    request.purpose = "testing";
    request.zone = "eu";
    request.resources = {"Catalog::*", "AuditLog::*", "FeatureView::*"};
    request.actions = {"describe", "audit_read", "read"};
    auto issued = instance_->tokens().Issue(request);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued->token;
  }

  HttpResponse Call(http::verb method, const std::string& target, const std::string& token = "",
                    const std::string& body = "", const std::string& type = "application/json") {
    HttpRequest request(method, target, 11);
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      request.set(http::field::content_type, type);
      request.body() = body;
      request.prepare_payload();
    }
    auto responder = std::make_shared<RecordingResponder>();
    api_->Dispatch(std::move(request), {"127.0.0.1:5000", "test", true, std::nullopt}, responder);
    return responder->Wait();
  }

  static nlohmann::json Json(const HttpResponse& r) { return nlohmann::json::parse(r.body()); }
  static std::string Header(const HttpResponse& r, const char* name) {
    return std::string(ToStd(r[name]));
  }

  custos::testing::TempDir tmp_;
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<Api> api_;
};

TEST_F(ApiTest, EveryRouteIsInTheOpenApiSpecAndTheOtherWayRound) {
  YAML::Node spec = YAML::LoadFile(std::string(CUSTOS_SOURCE_DIR) + "/docs/openapi.yaml");
  std::set<std::string> documented;
  for (const auto& path : spec["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      for (char& c : method) c = static_cast<char>(std::toupper(c));
      documented.insert(method + " " + path.first.as<std::string>());
    }
  }
  std::set<std::string> served;
  for (const Route& route : api_->router().routes()) {
    std::string path = route.path;
    if (auto dots = path.find("...}"); dots != std::string::npos) path.erase(dots, 3);
    served.insert(std::string(ToStd(http::to_string(route.method))) + " " + path);
  }
  EXPECT_EQ(served, documented);
  EXPECT_GE(served.size(), 23u);
}

TEST_F(ApiTest, AnAllowedRequestCarriesItsReceipt) {
  HttpResponse r = Call(http::verb::get, "/v1/catalog/views", Token("alice"));
  ASSERT_EQ(r.result(), http::status::ok) << r.body();
  const std::string index = Header(r, "Custos-Audit-Index");
  ASSERT_FALSE(index.empty());
  auto event = instance_->audit().ReadEvent(std::stoull(index));
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->action, "api.catalog.list");
  EXPECT_EQ(event->principal_id, "User::\"alice\"");
  EXPECT_EQ(event->decision, audit::Decision::kAllow);
  EXPECT_EQ(event->determining_policies, std::vector<std::string>{"alice-describes"});
  EXPECT_EQ(event->auth_method, audit::AuthMethod::kToken);
  EXPECT_EQ(event->purpose, "testing");
  EXPECT_EQ(event->request_id, Header(r, "Custos-Request-Id"));
}

TEST_F(ApiTest, APolicyDenialIsA403ProblemOnTheLog) {
  HttpResponse r = Call(http::verb::get, "/v1/catalog/views", Token("bob"));
  ASSERT_EQ(r.result(), http::status::forbidden);
  EXPECT_EQ(Header(r, "Content-Type"), "application/problem+json");
  nlohmann::json j = Json(r);
  EXPECT_EQ(j["type"], "https://custos.dev/problems/forbidden");
  EXPECT_NE(j["detail"].get<std::string>().find("deny by default"), std::string::npos);
  auto event = instance_->audit().ReadEvent(j["audit_index"].get<uint64_t>());
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->decision, audit::Decision::kDeny);
  EXPECT_EQ(event->outcome, audit::Outcome::kDenied);
  EXPECT_EQ(event->outcome_detail.substr(0, 13), "403 forbidden");
}

TEST_F(ApiTest, MissingAndBadCredentialsAre401) {
  HttpResponse r = Call(http::verb::get, "/v1/catalog/views");
  EXPECT_EQ(r.result(), http::status::unauthorized);
  EXPECT_EQ(Json(r)["type"], "https://custos.dev/problems/unauthenticated");
  r = Call(http::verb::get, "/v1/catalog/views", "v4.public.bm90IGEgdG9rZW4");
  EXPECT_EQ(r.result(), http::status::unauthorized);
  EXPECT_FALSE(Header(r, "Custos-Audit-Index").empty());
}

TEST_F(ApiTest, ADisabledPrincipalStopsAtOnceDespiteItsToken) {
  const std::string alice = Token("alice");
  ASSERT_EQ(Call(http::verb::get, "/v1/catalog/views", alice).result(), http::status::ok);
  identity::Caller admin{"cli", "", audit::AuthMethod::kEmbedded};
  ASSERT_TRUE(instance_->directory().SetDisabled(admin, PrincipalId::User("alice"), true).ok());
  HttpResponse r = Call(http::verb::get, "/v1/catalog/views", alice);
  EXPECT_EQ(r.result(), http::status::unauthorized);
  EXPECT_NE(Json(r)["detail"].get<std::string>().find("disabled"), std::string::npos);
  ASSERT_TRUE(instance_->directory().SetDisabled(admin, PrincipalId::User("alice"), false).ok());
  EXPECT_EQ(Call(http::verb::get, "/v1/catalog/views", alice).result(), http::status::ok);
}

TEST_F(ApiTest, BodyChecksComeFirst) {
  const std::string token = Token("alice");
  HttpResponse r =
      Call(http::verb::post, "/v1/features/online", token, "{\"a\": [1,", "application/json");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_EQ(Json(r)["type"], "https://custos.dev/problems/malformed-json");
  EXPECT_NE(Json(r)["detail"].get<std::string>().find("at byte"), std::string::npos);
  r = Call(http::verb::post, "/v1/features/online", token, "a,b", "text/csv");
  EXPECT_EQ(r.result(), http::status::unsupported_media_type);
  r = Call(http::verb::post, "/v1/features/online", token, "[1]",
           "application/json; charset=utf-8");
  EXPECT_EQ(r.result(), http::status::bad_request);
  EXPECT_NE(Json(r)["detail"].get<std::string>().find("expected a JSON object"), std::string::npos);
}

TEST_F(ApiTest, UnknownRoutesAndMethods) {
  HttpResponse r = Call(http::verb::get, "/v1/nowhere");
  EXPECT_EQ(r.result(), http::status::not_found);
  EXPECT_EQ(Json(r)["type"], "https://custos.dev/problems/not-found");
  r = Call(http::verb::delete_, "/v1/catalog/views");
  EXPECT_EQ(r.result(), http::status::method_not_allowed);
  EXPECT_NE(Json(r)["detail"].get<std::string>().find("GET"), std::string::npos);
  r = Call(http::verb::get, "/v1/audit/events?limit=%zz", Token("alice"));
  EXPECT_EQ(r.result(), http::status::bad_request);
}

TEST_F(ApiTest, RateLimitAnswers429WithRetryAfterPerPrincipal) {
  MakeApi({.per_second = 0.5, .burst = 2});
  const std::string alice = Token("alice");
  EXPECT_EQ(Call(http::verb::get, "/v1/catalog/views", alice).result(), http::status::ok);
  EXPECT_EQ(Call(http::verb::get, "/v1/catalog/views", alice).result(), http::status::ok);
  HttpResponse r = Call(http::verb::get, "/v1/catalog/views", alice);
  EXPECT_EQ(r.result(), http::status::too_many_requests);
  EXPECT_EQ(Header(r, "Retry-After"), "2");
  EXPECT_EQ(Json(r)["type"], "https://custos.dev/problems/rate-limited");
  // bob has his own bucket (and is then denied by policy, after the guard).
  EXPECT_EQ(Call(http::verb::get, "/v1/catalog/views", Token("bob")).result(),
            http::status::forbidden);
}

TEST_F(ApiTest, NoAuditRecordNoData) {
  const std::string alice = Token("alice");
  ASSERT_EQ(Call(http::verb::get, "/v1/catalog/views", alice).result(), http::status::ok);
  instance_->audit().Close();
  HttpResponse r = Call(http::verb::get, "/v1/catalog/views", alice);
  EXPECT_EQ(r.result(), http::status::service_unavailable);
  EXPECT_EQ(Json(r)["type"], "https://custos.dev/problems/audit-unavailable");
  EXPECT_EQ(r.body().find("\"views\""), std::string::npos);
  EXPECT_TRUE(Header(r, "Custos-Audit-Index").empty());
  EXPECT_EQ(Call(http::verb::get, "/v1/ready").result(), http::status::service_unavailable);
}

TEST_F(ApiTest, TransportRefusalsAreAuditedProblems) {
  auto responder = std::make_shared<RecordingResponder>();
  api_->Refuse(TransportRefusal::kBodyTooLarge, {"127.0.0.1:6000", "test", true, std::nullopt},
               responder);
  HttpResponse r = responder->Wait();
  EXPECT_EQ(r.result(), http::status::payload_too_large);
  EXPECT_FALSE(r.keep_alive());
  auto event = instance_->audit().ReadEvent(Json(r)["audit_index"].get<uint64_t>());
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->action, "api.refused");
  EXPECT_EQ(event->outcome_detail.substr(0, 18), "413 body-too-large");
  EXPECT_TRUE(event->client_address_mac.has_value());
}

TEST_F(ApiTest, MetricsCountRoutesByDecision) {
  Call(http::verb::get, "/v1/catalog/views", Token("alice"));
  Call(http::verb::get, "/v1/catalog/views", Token("bob"));
  HttpResponse r = Call(http::verb::get, "/v1/metrics");
  ASSERT_EQ(r.result(), http::status::ok);
  const std::string& text = r.body();
  EXPECT_NE(text.find("custos_http_requests_total{route=\"catalog.list\",decision=\"allow\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("custos_http_requests_total{route=\"catalog.list\",decision=\"deny\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("le=\"0.001\""), std::string::npos);
  EXPECT_NE(text.find("custos_audit_log_entries "), std::string::npos);
  EXPECT_NE(text.find("custos_kek_age_seconds{version=\"1\",state=\"active\"}"), std::string::npos);
}

TEST(Router, MatchesTemplatesAndDecodes) {
  Router router;
  router.Add({.id = "a", .method = http::verb::get, .path = "/v1/x/{id}/y"});
  router.Add({.id = "b", .method = http::verb::get, .path = "/v1/tile/{path...}"});
  auto m = router.Find(http::verb::get, "/v1/x/acr%5F1/y");
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.route->id, "a");
  EXPECT_EQ(m.params["id"], "acr_1");
  EXPECT_EQ(router.Find(http::verb::get, "/v1/x//y").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(router.Find(http::verb::get, "/v1/x/1/y/z").kind, Router::MatchKind::kNoPath);
  EXPECT_EQ(router.Find(http::verb::post, "/v1/x/1/y").kind, Router::MatchKind::kWrongMethod);
  m = router.Find(http::verb::get, "/v1/tile/0/x001/234.p/5");
  ASSERT_EQ(m.kind, Router::MatchKind::kFound);
  EXPECT_EQ(m.params["path"], "0/x001/234.p/5");
  auto q = ParseQuery("a=1&b=x%20y+z&c");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["b"], "x y z");
  EXPECT_EQ((*q)["c"], "");
  EXPECT_FALSE(ParseQuery("a=%4").ok());
  EXPECT_FALSE(ParseQuery("a=%g0").ok());
}

TEST(Problem, StatusCodesMapToStableTypes) {
  EXPECT_EQ(ProblemFromStatus(NotFoundError("x")).status, http::status::not_found);
  EXPECT_EQ(ProblemFromStatus(UnauthenticatedError("token expired at 12:00")).slug,
            "token-expired");
  EXPECT_EQ(ProblemFromStatus(PermissionDeniedError("no")).slug, "forbidden");
  EXPECT_EQ(ProblemFromStatus(DataLossError("bad")).slug, "data-loss");
  HttpResponse r = ProblemResponse(
      MakeProblem(http::status::bad_request, "invalid-argument", std::string("bad \xff byte")),
      "req_1", 7, 11, true);
  nlohmann::json j = nlohmann::json::parse(r.body());
  EXPECT_EQ(j["status"], 400);
  EXPECT_EQ(j["instance"], "req_1");
  EXPECT_EQ(j["audit_index"], 7);
}

}  // namespace
}  // namespace custos::server
