// Access tokens end to end over a real data directory: issue and verify, every refusal
// (expired, not yet valid, wrong audience, wrong issuer key, tampered, forged, a v4.local
// token, strict claims), the shared PASETO v4 vectors through the verifier, revocation
// with the cache (also from other threads, and across reopen), key rotation, audit events.
#include "identity/token_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/ids.h"
#include "crypto/paserk.h"
#include "crypto/paseto.h"
#include "identity_test_util.h"

namespace custos::identity {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

const common::TimePoint kStart = common::FromUnixSeconds(1'900'000'000);

class TokenServiceTest : public testing::IdentityTest {
 protected:
  TokenServiceTest() : IdentityTest(kStart) {}

  void OpenServices() override {
    auto service = TokenService::Open(kv(), keyring(), *log_, salt_, clock_);
    ASSERT_TRUE(service.ok()) << service.status().ToString();
    service_ = std::move(*service);
  }
  void CloseServices() override { service_.reset(); }

  static TokenRequest Request(std::string subject = "User::\"alice\"") {
    TokenRequest r;
    r.subject = std::move(subject);
    r.purpose = "fraud-model";
    r.environment = Environment::kProd;
    r.zone = "eu-west";
    r.resources = {"FeatureView::\"driver_stats\"", "Feature::\"driver_stats.*"};
    r.actions = {"read", "read_masked"};
    return r;
  }

  IssuedToken MustIssue(const TokenRequest& request = Request()) {
    auto issued = service_->Issue(request);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? std::move(*issued) : IssuedToken{};
  }

  // Signs arbitrary claims with the service's current key, as an insider could not.
  std::string SignWithCurrentKey(std::string_view payload, std::string_view audience = "custos") {
    auto key = service_->keys().Current();
    return crypto::PasetoV4Sign(key->secret, common::AsBytes(payload),
                                TokenFooter(key->info.key_id), audience);
  }

  TokenClaims ValidClaims() {
    TokenClaims c;
    c.issuer = "custos";
    c.subject = "User::\"alice\"";
    c.audience = "custos";
    c.token_id = "tok_crafted";
    c.issued_at = clock_.Now();
    c.not_before = clock_.Now();
    c.expires_at = clock_.Now() + 10min;
    c.purpose = "p";
    c.zone = "z";
    c.environment = Environment::kDev;
    c.scope = TokenScope({"r"}, {"read"});
    return c;
  }

  void ExpectRefused(std::string_view token, std::string_view fragment) {
    auto verified = service_->Verify(token);
    ASSERT_FALSE(verified.ok()) << "accepted: " << fragment;
    EXPECT_EQ(verified.status().code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(verified.status().message(), StartsWith("access token refused: "));
    EXPECT_THAT(verified.status().message(), HasSubstr(std::string(fragment)));
  }

  std::unique_ptr<TokenService> service_;
};

TEST_F(TokenServiceTest, IssuesAndVerifiesWithAllClaims) {
  IssuedToken issued = MustIssue();
  EXPECT_THAT(issued.token, StartsWith("v4.public."));
  const std::string kid = service_->keys().Current()->info.key_id;
  EXPECT_THAT(kid, StartsWith("k4.pid."));
  EXPECT_EQ(*crypto::PasetoV4UntrustedFooter(issued.token), "{\"kid\":\"" + kid + "\"}");
  EXPECT_TRUE(common::ValidateId(issued.claims.token_id, "tok").ok());
  EXPECT_EQ(issued.claims.expires_at - issued.claims.issued_at, 15min);

  auto verified = service_->Verify(issued.token);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  const TokenClaims& c = **verified;
  EXPECT_EQ(c, issued.claims);
  EXPECT_EQ(c.issuer, "custos");
  EXPECT_EQ(c.audience, "custos");
  EXPECT_EQ(c.subject, "User::\"alice\"");
  EXPECT_EQ(c.environment, Environment::kProd);
  EXPECT_EQ(c.issued_at, kStart);
  EXPECT_TRUE(c.scope.Allows("read", "FeatureView::\"driver_stats\""));
  EXPECT_TRUE(c.scope.Allows("read_masked", "Feature::\"driver_stats.trips\""));
  EXPECT_FALSE(c.scope.Allows("export", "FeatureView::\"driver_stats\""));
  EXPECT_FALSE(c.scope.Allows("read", "FeatureView::\"payments\""));
}

TEST_F(TokenServiceTest, CachesVerifiedTokensByTheirBytes) {
  IssuedToken a = MustIssue();
  IssuedToken b = MustIssue();
  EXPECT_EQ(service_->cache_size(), 0u);
  ASSERT_TRUE(service_->Verify(a.token).ok());
  EXPECT_EQ(service_->cache_size(), 1u);
  auto again = service_->Verify(a.token);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->token_id, a.claims.token_id);
  EXPECT_EQ(service_->cache_size(), 1u);
  ASSERT_TRUE(service_->Verify(b.token).ok());
  EXPECT_EQ(service_->cache_size(), 2u);
  // A refused token is never cached.
  ExpectRefused(a.token + "x", "the footer is not canonical unpadded base64url");
  std::string changed = a.token;
  changed[50] = changed[50] == 'x' ? 'y' : 'x';
  ExpectRefused(changed, "access token refused");
  EXPECT_EQ(service_->cache_size(), 2u);
}

TEST_F(TokenServiceTest, LifetimeDefaultsAndLimits) {
  TokenRequest r = Request();
  r.lifetime = 1h;
  auto hour = service_->Issue(r);
  ASSERT_TRUE(hour.ok());
  EXPECT_EQ(hour->claims.expires_at, kStart + 1h);
  r.lifetime = 3601s;
  auto too_long = service_->Issue(r);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().message(),
            "token lifetime of 3601 s is longer than the maximum of 1 hour (3600 s); request a "
            "shorter lifetime and refresh the token when it expires");
  r.lifetime = 0s;
  EXPECT_EQ(service_->Issue(r).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TokenServiceTest, RefusesBadRequests) {
  TokenRequest r = Request();
  r.purpose = "";
  auto empty = service_->Issue(r);
  EXPECT_EQ(empty.status(),
            InvalidArgumentError("token request: token claim 'purpose': must not be empty"));
  r = Request();
  r.actions.clear();
  EXPECT_EQ(service_->Issue(r).status().message(),
            "token request: token claim 'actions': must list at least one item");
  r = Request();
  r.subject = "";
  EXPECT_EQ(service_->Issue(r).status().message(),
            "token request: token claim 'sub': must not be empty");
}

TEST_F(TokenServiceTest, ExpiredTokenRefusedOnMissAndOnHit) {
  IssuedToken cached = MustIssue();
  IssuedToken fresh = MustIssue();
  ASSERT_TRUE(service_->Verify(cached.token).ok());
  clock_.Advance(15min - 1us);
  EXPECT_TRUE(service_->Verify(cached.token).ok());
  clock_.Advance(1us);  // exp is exclusive
  ExpectRefused(cached.token, "the token expired at 2030-03-17T18:01:40Z");
  ExpectRefused(fresh.token, "the token expired at 2030-03-17T18:01:40Z");
}

TEST_F(TokenServiceTest, ExpiryMessageNamesTheTime) {
  IssuedToken t = MustIssue();
  clock_.Advance(16min);
  ExpectRefused(t.token, "the token expired at " + common::FormatRfc3339(t.claims.expires_at) +
                             "; obtain a new one");
}

TEST_F(TokenServiceTest, NotYetValidTokenRefusedBeyondSkew) {
  TokenClaims c = ValidClaims();
  c.issued_at = clock_.Now() + 1min;
  c.not_before = clock_.Now() + 1min;
  c.expires_at = clock_.Now() + 10min;
  std::string token = SignWithCurrentKey(EncodeTokenClaims(c));
  ExpectRefused(token,
                "the token is not valid before " + common::FormatRfc3339(c.not_before) + " (nbf)");
  clock_.Advance(31s);  // within the 30 s skew allowance
  EXPECT_TRUE(service_->Verify(token).ok());
}

TEST_F(TokenServiceTest, WrongAudienceFailsTheSignature) {
  TokenRequest r = Request();
  r.audience = "billing-service";
  IssuedToken other = MustIssue(r);
  EXPECT_EQ(other.claims.audience, "billing-service");
  ExpectRefused(other.token, "another audience");
  // The aud claim alone (signed for our audience, claiming another) is refused too.
  TokenClaims c = ValidClaims();
  c.audience = "billing-service";
  ExpectRefused(SignWithCurrentKey(EncodeTokenClaims(c), "custos"),
                "the token's audience 'billing-service' is not 'custos'");
}

TEST_F(TokenServiceTest, AnotherServiceAudienceRefusesOurTokens) {
  IssuedToken ours = MustIssue();
  auto billing =
      TokenService::Open(kv(), keyring(), *log_, salt_, clock_, {.audience = "billing-service"});
  ASSERT_TRUE(billing.ok());
  auto refused = (*billing)->Verify(ours.token);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.status().message(), HasSubstr("signature"));
  EXPECT_TRUE(service_->Verify(ours.token).ok());
}

TEST_F(TokenServiceTest, WrongIssuerKeyRefused) {
  crypto::PasetoV4SecretKey stranger = crypto::PasetoV4SecretKey::Generate();
  const std::string payload = EncodeTokenClaims(ValidClaims());
  // Signed by another key but claiming ours: the signature fails.
  std::string claiming_ours =
      crypto::PasetoV4Sign(stranger, common::AsBytes(payload),
                           TokenFooter(service_->keys().Current()->info.key_id), "custos");
  ExpectRefused(claiming_ours, "signature");
  // Naming its own key: unknown to this issuer.
  std::string own_kid =
      crypto::PasetoV4Sign(stranger, common::AsBytes(payload),
                           TokenFooter(crypto::PaserkId(stranger.public_key())), "custos");
  ExpectRefused(own_kid, "is not a key of this issuer");
  // A correct signature but another iss claim.
  TokenClaims c = ValidClaims();
  c.issuer = "evil";
  ExpectRefused(SignWithCurrentKey(EncodeTokenClaims(c)),
                "the token's issuer 'evil' is not 'custos'");
}

TEST_F(TokenServiceTest, TamperedAndForgedTokensRefused) {
  IssuedToken t = MustIssue();
  ASSERT_TRUE(service_->Verify(t.token).ok());
  // Flip one character of the payload part (after "v4.public.").
  for (size_t pos : {size_t{12}, size_t{40}, t.token.find('.', 10) - 5}) {
    std::string tampered = t.token;
    tampered[pos] = tampered[pos] == 'A' ? 'B' : 'A';
    ExpectRefused(tampered, "access token refused");
  }
  // A forged payload (a wider scope) with the original signature.
  TokenClaims wider = t.claims;
  wider.scope = TokenScope({"*"}, {"read", "export"});
  const std::string footer = *crypto::PasetoV4UntrustedFooter(t.token);
  auto body =
      common::Base64UrlDecode(std::string_view(t.token).substr(10, t.token.find('.', 10) - 10));
  ASSERT_TRUE(body.ok());
  common::Bytes forged = common::ToBytes(EncodeTokenClaims(wider));
  forged.insert(forged.end(), body->end() - 64, body->end());
  ExpectRefused("v4.public." + common::Base64UrlEncode(forged) + "." +
                    common::Base64UrlEncode(common::AsBytes(footer)),
                "signature");
  // A changed footer.
  ExpectRefused(t.token.substr(0, t.token.rfind('.')) + "." +
                    common::Base64UrlEncode(common::AsBytes(std::string("{\"kid\":\"x\"}"))),
                "the footer's kid is not a PASERK k4.pid public key id");
  ExpectRefused("", "the token is empty");
  ExpectRefused(std::string(9000, 'a'), "longer than any custos token (8192)");
  ExpectRefused("Bearer abc", "does not start with 'v4.public.'");
}

TEST_F(TokenServiceTest, LocalTokenPresentedAsPublicIsRefusedByName) {
  crypto::PasetoV4LocalKey local = crypto::PasetoV4LocalKey::Generate();
  std::string token = crypto::PasetoV4Encrypt(
      local, common::AsBytes(EncodeTokenClaims(ValidClaims())), TokenFooter("k4.pid.x"), "custos");
  ExpectRefused(token,
                "a v4.local (symmetric, encrypted) token was presented where a v4.public "
                "access token is required");
}

TEST_F(TokenServiceTest, StrictClaimsThroughTheVerifier) {
  nlohmann::ordered_json claims = nlohmann::ordered_json::parse(EncodeTokenClaims(ValidClaims()));
  auto refused_with = [&](nlohmann::ordered_json payload, std::string_view fragment) {
    SCOPED_TRACE(fragment);
    ExpectRefused(SignWithCurrentKey(payload.dump()), fragment);
  };
  auto missing = claims;
  missing.erase("zone");
  refused_with(missing, "token claim 'zone': is missing");
  auto wrong_type = claims;
  wrong_type["exp"] = 1900000600;
  refused_with(wrong_type, "token claim 'exp': must be a string, got number");
  auto bad_env = claims;
  bad_env["environment"] = "qa";
  refused_with(bad_env,
               "token claim 'environment': unknown environment 'qa': use one of dev, "
               "staging, prod");
  auto exp_before_iat = claims;
  exp_before_iat["exp"] = common::FormatRfc3339(kStart - 1s);
  refused_with(exp_before_iat, "token claim 'exp': (2030-03-17T17:46:39Z) is not after iat");
  auto extra = claims;
  extra["admin"] = true;
  refused_with(extra, "token claim 'admin': is not a custos token claim");
  auto bad_time = claims;
  bad_time["iat"] = "yesterday";
  refused_with(bad_time, "token claim 'iat': invalid RFC 3339 timestamp");
  auto bad_list = claims;
  bad_list["actions"] = nlohmann::ordered_json::array({"read", 7});
  refused_with(bad_list, "token claim 'actions': item 1 must be a string, got number");
  ExpectRefused(SignWithCurrentKey("[1,2]"), "token payload must be a JSON object, got array");
  ExpectRefused(SignWithCurrentKey("{\"iss\":"), "token payload is not valid JSON");
  std::string dup = claims.dump();
  dup.insert(1, "\"sub\":\"User::\\\"mallory\\\"\",");
  ExpectRefused(SignWithCurrentKey(dup), "token claim 'sub': appears more than once");
}

// paseto-standard v4 vectors through the verifier: none is a custos access token, so each
// is refused, with the reason; the valid public ones verify at the crypto layer under the
// vector key and then fail custos's strict claims.
TEST_F(TokenServiceTest, SharedV4VectorsThroughTheVerifier) {
  std::ifstream in(std::string(CUSTOS_SHARED_DIR) + "/vectors/paseto/v4.json");
  ASSERT_TRUE(in) << "cannot read the shared PASETO vectors";
  nlohmann::json file = nlohmann::json::parse(in);
  int public_vectors = 0;
  int checked = 0;
  for (const auto& test : file["tests"]) {
    const std::string name = test["name"];
    const std::string token = test["token"];
    SCOPED_TRACE(name);
    auto verified = service_->Verify(token);
    ASSERT_FALSE(verified.ok());
    EXPECT_EQ(verified.status().code(), StatusCode::kUnauthenticated);
    const std::string& message = verified.status().message();
    if (token.starts_with("v4.local.")) {
      EXPECT_THAT(message, HasSubstr("a v4.local (symmetric, encrypted) token"));
    } else if (!token.starts_with("v4.public.")) {
      EXPECT_THAT(message, HasSubstr("does not start with 'v4.public.'"));
    } else if (test.value("footer", "").empty()) {
      EXPECT_THAT(message, HasSubstr("the token has no footer, so no key id (kid)"));
    } else {
      EXPECT_THAT(message, HasSubstr("the footer's kid is not a PASERK k4.pid"));
    }
    ++checked;
    if (name.starts_with("4-S-")) {
      ++public_vectors;
      auto key = crypto::PasetoV4PublicKey::FromBytes(
          *common::HexDecode(test["public-key"].get<std::string>()));
      ASSERT_TRUE(key.ok());
      crypto::PasetoVerifyOptions options;
      const std::string implicit = test.value("implicit-assertion", "");
      options.implicit_assertion = implicit;
      auto message_ok = crypto::PasetoV4Verify(*key, token, options);
      ASSERT_TRUE(message_ok.ok()) << message_ok.status().ToString();
      auto claims = ParseTokenClaims(common::AsChars(message_ok->payload));
      EXPECT_EQ(claims.status(), InvalidArgumentError("token claim 'data': is not a custos token "
                                                      "claim (remove it, or upgrade custos)"));
    }
  }
  EXPECT_EQ(checked, 17);
  EXPECT_EQ(public_vectors, 3);
}

TEST_F(TokenServiceTest, RevokedTokenRefusedFromTheNextCall) {
  IssuedToken a = MustIssue();
  IssuedToken b = MustIssue();
  ASSERT_TRUE(service_->Verify(a.token).ok());  // now cached
  ASSERT_TRUE(service_->Verify(b.token).ok());
  ASSERT_TRUE(service_->RevokeToken(a.claims.token_id, {.principal_id = "User::\"steward\""}).ok());
  ExpectRefused(a.token, "token " + a.claims.token_id + " was revoked");
  EXPECT_TRUE(service_->Verify(b.token).ok());
  ExpectRefused(a.token, "was revoked");
  EXPECT_EQ(service_->RevokeToken("nonsense", {}).code(), StatusCode::kInvalidArgument);
}

TEST_F(TokenServiceTest, RevokingAPrincipalRefusesItsEarlierTokens) {
  IssuedToken alice1 = MustIssue();
  IssuedToken bob = MustIssue(Request("User::\"bob\""));
  ASSERT_TRUE(service_->Verify(alice1.token).ok());
  clock_.Advance(1s);
  ASSERT_TRUE(service_->RevokeSubjectTokens("User::\"alice\"", {}).ok());
  ExpectRefused(alice1.token, "every token of User::\"alice\" issued at or before " +
                                  common::FormatRfc3339(kStart + 1s) + " was revoked");
  EXPECT_TRUE(service_->Verify(bob.token).ok());
  clock_.Advance(1us);
  IssuedToken alice2 = MustIssue();
  EXPECT_TRUE(service_->Verify(alice2.token).ok());
}

TEST_F(TokenServiceTest, RevocationFromAnotherThreadHoldsForTheNextCall) {
  IssuedToken t = MustIssue();
  ASSERT_TRUE(service_->Verify(t.token).ok());
  std::thread revoker([&] { ASSERT_TRUE(service_->RevokeToken(t.claims.token_id, {}).ok()); });
  revoker.join();
  ExpectRefused(t.token, "was revoked");
}

TEST_F(TokenServiceTest, ConcurrentReadersNeverAcceptAfterRevocationReturned) {
  IssuedToken t = MustIssue();
  ASSERT_TRUE(service_->Verify(t.token).ok());
  std::atomic<bool> revoked{false};
  std::atomic<int> started{0};
  std::atomic<int> late_accepts{0};
  std::atomic<int> refusals{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      bool counted = false;
      while (std::chrono::steady_clock::now() < deadline) {
        const bool revoked_before = revoked.load(std::memory_order_acquire);
        auto r = service_->Verify(t.token);
        if (!counted) {
          ++started;
          counted = true;
        }
        if (revoked_before && r.ok()) ++late_accepts;
        if (!r.ok() && revoked_before) {
          ++refusals;
          return;
        }
      }
    });
  }
  while (started.load() < 3) std::this_thread::yield();
  ASSERT_TRUE(service_->RevokeToken(t.claims.token_id, {}).ok());
  revoked.store(true, std::memory_order_release);
  for (auto& r : readers) r.join();
  EXPECT_EQ(late_accepts.load(), 0);
  EXPECT_EQ(refusals.load(), 3);
}

TEST_F(TokenServiceTest, RevocationsPersistAcrossReopen) {
  IssuedToken t = MustIssue();
  IssuedToken carol = MustIssue(Request("User::\"carol\""));
  IssuedToken other = MustIssue(Request("User::\"dave\""));
  ASSERT_TRUE(service_->RevokeToken(t.claims.token_id, {}).ok());
  ASSERT_TRUE(service_->RevokeSubjectTokens("User::\"carol\"", {}).ok());
  Reopen();
  ExpectRefused(t.token, "was revoked");
  ExpectRefused(carol.token, "every token of User::\"carol\"");
  EXPECT_TRUE(service_->Verify(other.token).ok());  // the issuer key persisted too
  EXPECT_EQ(service_->revocations().revoked_token_count(), 1u);
  clock_.Advance(2h);
  auto purged = service_->revocations().PurgeExpired(clock_.Now());
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1u);
  EXPECT_EQ(service_->revocations().revoked_token_count(), 0u);
}

TEST_F(TokenServiceTest, RotationKeepsOldTokensVerifyingUntilTheyExpire) {
  IssuedToken before = MustIssue();
  const std::string old_kid = service_->keys().Current()->info.key_id;
  clock_.Advance(1min);
  auto rotated = service_->RotateSigningKey({});
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->version, 2u);
  EXPECT_NE(rotated->key_id, old_kid);
  IssuedToken after = MustIssue();
  EXPECT_EQ(*crypto::PasetoV4UntrustedFooter(after.token), TokenFooter(rotated->key_id));
  EXPECT_TRUE(service_->Verify(before.token).ok());
  EXPECT_TRUE(service_->Verify(after.token).ok());

  Reopen();
  std::vector<TokenKeyInfo> keys = service_->keys().Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].key_id, old_kid);
  ASSERT_TRUE(keys[0].retired_at.has_value());
  EXPECT_EQ(*keys[0].retired_at, kStart + 1min);
  EXPECT_FALSE(keys[1].retired_at.has_value());
  EXPECT_EQ(service_->keys().Current()->info.key_id, rotated->key_id);
  EXPECT_TRUE(service_->Verify(before.token).ok());
  // The old key is accepted for the maximum lifetime (and skew) after retirement.
  EXPECT_NE(service_->keys().FindForVerify(old_kid, kStart + 1min + 60min + 30s, 30s), nullptr);
  EXPECT_EQ(service_->keys().FindForVerify(old_kid, kStart + 1min + 60min + 31s, 30s), nullptr);
}

TEST_F(TokenServiceTest, AuditEventsCarryNoTokenAndFailClosed) {
  const uint64_t start = log_->size();
  IssuedToken t = MustIssue();
  clock_.Advance(20min);
  ExpectRefused(t.token, "expired");
  ASSERT_TRUE(service_
                  ->RevokeToken(t.claims.token_id,
                                {.principal_id = "User::\"steward\"", .request_id = "req-7"})
                  .ok());
  std::vector<audit::AuditEvent> events = Events();
  ASSERT_EQ(events.size(), start + 3);
  const audit::AuditEvent& issue = events[start];
  EXPECT_EQ(issue.action, "identity.token.issue");
  EXPECT_EQ(issue.principal_id, "User::\"alice\"");
  EXPECT_EQ(issue.purpose, "fraud-model");
  EXPECT_EQ(issue.environment, "prod");
  EXPECT_EQ(issue.outcome, audit::Outcome::kOk);
  ASSERT_TRUE(issue.token_id_mac.has_value());
  EXPECT_EQ(*issue.token_id_mac, salt_.Mac("token_id", t.claims.token_id));
  ASSERT_EQ(issue.resources.size(), 2u);
  EXPECT_EQ(issue.resources[0], (audit::ResourceRef{"FeatureView", "driver_stats", 0}));
  const audit::AuditEvent& failure = events[start + 1];
  EXPECT_EQ(failure.action, "identity.token.verify");
  EXPECT_EQ(failure.outcome, audit::Outcome::kDenied);
  EXPECT_THAT(failure.outcome_detail, HasSubstr("the token expired at"));
  EXPECT_EQ(*failure.token_id_mac, *issue.token_id_mac);
  const audit::AuditEvent& revoke = events[start + 2];
  EXPECT_EQ(revoke.action, "identity.token.revoke");
  EXPECT_EQ(revoke.principal_id, "User::\"steward\"");
  EXPECT_EQ(revoke.request_id, "req-7");
  EXPECT_EQ(*revoke.token_id_mac, *issue.token_id_mac);
  for (const auto& e : events) {
    auto bytes = audit::EncodeEvent(e);
    ASSERT_TRUE(bytes.ok());
    std::string_view text = common::AsChars(*bytes);
    EXPECT_EQ(text.find(t.claims.token_id), std::string_view::npos);
    EXPECT_EQ(text.find("v4.public."), std::string_view::npos);
    EXPECT_EQ(text.find(t.token.substr(10, 40)), std::string_view::npos);
  }

  // Fail closed: with the log closed, nothing is issued.
  log_->Close();
  auto refused = service_->Issue(Request());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("cannot append the identity.token.issue audit event"));
}

}  // namespace
}  // namespace custos::identity
