// API keys: the text format and its strict parser, authentication and each refusal reason,
// expiry, revocation, persistence of the sealed pepper, audit events without secrets, and
// failing closed when the audit log refuses.
#include "identity/api_keys.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/bytes.h"
#include "common/ids.h"
#include "identity_test_util.h"

namespace custos::identity {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Text(const crypto::SecretBytes& s) { return std::string(common::AsChars(s.span())); }

class ApiKeysTest : public testing::IdentityTest {
 protected:
  void SetUp() override {
    IdentityTest::SetUp();
    MustCreatePrincipal(PrincipalId::User("alice"));
    MustCreatePrincipal(PrincipalId::ServiceAccount("scorer"));
    MustCreatePrincipal(PrincipalId::Group("risk"));
  }

  void OpenServices() override {
    auto keys = ApiKeys::Open(kv(), keyring(), *dir_, *auditor_, options_);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    keys_ = std::move(*keys);
  }
  void CloseServices() override { keys_.reset(); }

  void Reopen(ApiKeyOptions options = {}) {
    options_ = std::move(options);
    IdentityTest::Reopen();
  }

  NewApiKey MustCreate(const PrincipalId& who,
                       std::optional<std::chrono::seconds> ttl = std::nullopt) {
    auto key = keys_->Create(admin_, who, "feature pipeline", ttl);
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    return key.ok() ? std::move(*key) : NewApiKey{};
  }

  // The refusal of `text`: Unauthenticated, and the message it carries.
  std::string Refusal(std::string_view text) {
    auto who = keys_->Authenticate(login_, text);
    EXPECT_FALSE(who.ok());
    EXPECT_EQ(who.status().code(), StatusCode::kUnauthenticated) << who.status().ToString();
    return who.status().message();
  }

  ApiKeyOptions options_;
  std::unique_ptr<ApiKeys> keys_;
  Caller login_{.request_id = "req-login", .auth_method = audit::AuthMethod::kToken};
};

TEST(ParseApiKeyTest, ParsesAndRefusesWithPositions) {
  const std::string id(26, 'a');
  const std::string secret = common::Base64UrlEncode(common::Bytes(32, 0x5a));
  ASSERT_EQ(secret.size(), 43u);
  const std::string good = "custos_ak_" + id + "_" + secret;
  ASSERT_EQ(good.size(), kApiKeyTextLength);
  auto parsed = ParseApiKey(good);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->key_id, "ak_" + id);
  EXPECT_EQ(parsed->secret.size(), 32u);
  EXPECT_EQ(parsed->secret.span()[0], 0x5a);

  struct Case {
    std::string text;
    std::string fragment;
  };
  std::string bad_char = good;
  bad_char[15] = 'u';  // not in Crockford base32
  std::string upper = good;
  upper[10] = 'A';
  std::string bad_sep = good;
  bad_sep[36] = '-';
  std::string bad_secret = good;
  bad_secret[40] = '*';
  std::string high_byte = good;
  high_byte[43] = static_cast<char>(0x8b);  // libsodium 1.0.18 would decode it as '_'
  std::string trailing_bits = good;
  trailing_bits.back() = 'B';  // the last character's two unused bits must be zero
  const Case cases[] = {
      {"", "it has 0 characters, not 80"},
      {good + "x", "it has 81 characters, not 80"},
      {"custos_xx_" + id + "_" + secret, "it does not start with 'custos_ak_'"},
      {bad_char, "character 16 is not a key id character"},
      {upper, "character 11 is not a key id character"},
      {bad_sep, "character 37 must be '_' between the key id and the secret"},
      {bad_secret, "character 41 is not a base64url character (A-Z a-z 0-9 - _)"},
      {high_byte, "character 44 is not a base64url character"},
      {trailing_bits, "the secret (characters 38 to 80) is not canonical base64url"},
  };
  for (const auto& c : cases) {
    auto p = ParseApiKey(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(p.status().message(), StartsWith("API key is malformed: ")) << c.text;
    EXPECT_THAT(p.status().message(), HasSubstr(c.fragment)) << c.text;
    // The presented text is never echoed back.
    if (c.text.size() > 20) {
      EXPECT_EQ(p.status().message().find(c.text.substr(37)), std::string::npos) << c.text;
    }
  }
}

TEST_F(ApiKeysTest, CreatesAndAuthenticates) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  const std::string text = Text(key.text);
  EXPECT_EQ(text.size(), kApiKeyTextLength);
  EXPECT_THAT(text, StartsWith("custos_ak_" + key.info.key_id.substr(3) + "_"));
  EXPECT_TRUE(common::ValidateId(key.info.key_id, "ak").ok());
  EXPECT_EQ(key.info.principal, PrincipalId::User("alice"));
  EXPECT_EQ(key.info.description, "feature pipeline");
  EXPECT_EQ(key.info.created, clock_.Now());
  EXPECT_EQ(key.info.expires, clock_.Now() + std::chrono::hours(24 * 90));
  EXPECT_FALSE(key.info.revoked);
  EXPECT_FALSE(key.info.last_used.has_value());

  clock_.Advance(std::chrono::seconds(42));
  auto who = keys_->Authenticate(login_, text);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, PrincipalId::User("alice"));
  auto info = keys_->Get(key.info.key_id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->last_used, clock_.Now());

  NewApiKey other = MustCreate(PrincipalId::ServiceAccount("scorer"), std::chrono::hours(1));
  EXPECT_NE(Text(other.text), text);
  EXPECT_EQ(*keys_->Authenticate(login_, Text(other.text)), PrincipalId::ServiceAccount("scorer"));
  auto all = keys_->List();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto alice_keys = keys_->List(PrincipalId::User("alice"));
  ASSERT_EQ(alice_keys->size(), 1u);
  EXPECT_EQ((*alice_keys)[0].key_id, key.info.key_id);
  EXPECT_EQ((*alice_keys)[0].last_used, clock_.Now());
}

TEST_F(ApiKeysTest, RefusesEachBadKeyWithItsReason) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  const std::string text = Text(key.text);
  const std::string id = key.info.key_id;

  EXPECT_THAT(Refusal("custos_ak_short"), HasSubstr("API key is malformed: it has 15 characters"));

  std::string unknown = text;
  unknown[10] = unknown[10] == '0' ? '1' : '0';
  EXPECT_THAT(Refusal(unknown), HasSubstr(" is unknown"));

  std::string wrong = text;
  wrong[40] = wrong[40] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Refusal(wrong), "API key " + id +
                                ": the secret does not match; present the key exactly as it "
                                "was shown at creation");

  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), true).ok());
  EXPECT_EQ(Refusal(text), "API key " + id +
                               ": principal User::\"alice\" is disabled; an administrator must "
                               "enable it");
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), false).ok());
  EXPECT_TRUE(keys_->Authenticate(login_, text).ok());

  clock_.Advance(std::chrono::hours(24 * 90));
  EXPECT_EQ(Refusal(text), "API key " + id + " expired at 2027-04-15T08:00:00Z; create a new one");
  // A wrong secret is told as wrong, not as expired: state is only for key holders.
  EXPECT_THAT(Refusal(wrong), HasSubstr("the secret does not match"));

  NewApiKey key2 = MustCreate(PrincipalId::User("alice"));
  ASSERT_TRUE(keys_->Revoke(admin_, key2.info.key_id).ok());
  EXPECT_EQ(Refusal(Text(key2.text)), "API key " + key2.info.key_id +
                                          " was revoked at 2027-04-15T08:00:00Z; create a new one");

  NewApiKey key3 = MustCreate(PrincipalId::User("alice"));
  ASSERT_TRUE(dir_->Delete(admin_, PrincipalId::User("alice")).ok());
  EXPECT_EQ(Refusal(Text(key3.text)),
            "API key " + key3.info.key_id + ": principal User::\"alice\" no longer exists");

  // Every refusal was audited with its reason and without the key text.
  std::vector<std::string> reasons;
  for (const auto& e : Events()) {
    if (e.action != "identity.api_key.authenticate") continue;
    if (e.outcome == audit::Outcome::kOk) continue;
    EXPECT_EQ(e.outcome, audit::Outcome::kDenied);
    EXPECT_EQ(e.decision, audit::Decision::kDeny);
    EXPECT_EQ(e.request_id, "req-login");
    EXPECT_EQ(e.auth_method, audit::AuthMethod::kToken);
    reasons.push_back(e.outcome_detail);
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"malformed", "unknown key id", "wrong secret",
                                               "principal disabled", "expired", "wrong secret",
                                               "revoked", "principal deleted"}));
}

TEST_F(ApiKeysTest, KeysDoNotPassToARecreatedPrincipal) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  ASSERT_TRUE(dir_->Delete(admin_, PrincipalId::User("alice")).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(dir_->Create(admin_, {PrincipalId::User("alice"), "", {}}).ok());
  EXPECT_EQ(Refusal(Text(key.text)),
            "API key " + key.info.key_id +
                " was issued before principal User::\"alice\" was last created (to an earlier "
                "principal with that id); create a new one");
  EXPECT_EQ(Events().back().outcome_detail, "principal re-created");
  NewApiKey fresh = MustCreate(PrincipalId::User("alice"));
  EXPECT_EQ(*keys_->Authenticate(login_, Text(fresh.text)), PrincipalId::User("alice"));
}

TEST_F(ApiKeysTest, RevokesAllKeysOfAPrincipal) {
  NewApiKey a1 = MustCreate(PrincipalId::User("alice"));
  NewApiKey a2 = MustCreate(PrincipalId::User("alice"));
  NewApiKey a3 = MustCreate(PrincipalId::User("alice"));
  NewApiKey s1 = MustCreate(PrincipalId::ServiceAccount("scorer"));
  ASSERT_TRUE(keys_->Revoke(admin_, a2.info.key_id).ok());
  const uint64_t before = log_->size();
  auto revoked = keys_->RevokeAllFor(admin_, PrincipalId::User("alice"));
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(*revoked, 2u);
  EXPECT_EQ(log_->size(), before + 2);
  for (const auto* k : {&a1, &a2, &a3}) EXPECT_THAT(Refusal(Text(k->text)), HasSubstr("revoked"));
  EXPECT_TRUE(keys_->Authenticate(login_, Text(s1.text)).ok());
  EXPECT_EQ(*keys_->RevokeAllFor(admin_, PrincipalId::User("alice")), 0u);
}

TEST_F(ApiKeysTest, ExpiresAtItsLifetime) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"), std::chrono::hours(1));
  EXPECT_EQ(key.info.expires, clock_.Now() + std::chrono::hours(1));
  clock_.Advance(std::chrono::hours(1) - std::chrono::microseconds(1));
  EXPECT_TRUE(keys_->Authenticate(login_, Text(key.text)).ok());
  clock_.Advance(std::chrono::microseconds(1));
  EXPECT_THAT(Refusal(Text(key.text)), HasSubstr(" expired at 2027-01-15T09:00:00Z"));
}

TEST_F(ApiKeysTest, RefusesBadCreateRequests) {
  auto zero = keys_->Create(admin_, PrincipalId::User("alice"), "", std::chrono::seconds(0));
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(zero.status().message(), "API key lifetime must be positive, got 0 s");
  auto too_long =
      keys_->Create(admin_, PrincipalId::User("alice"), "", std::chrono::hours(24 * 366));
  EXPECT_EQ(too_long.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(too_long.status().message(),
            "API key lifetime of 31622400 s exceeds the maximum of 31536000 s; ask for a shorter "
            "one");
  auto group = keys_->Create(admin_, PrincipalId::Group("risk"), "");
  EXPECT_EQ(group.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(group.status().message(), HasSubstr("Group::\"risk\" is a group"));
  auto nobody = keys_->Create(admin_, PrincipalId::User("nobody"), "");
  EXPECT_EQ(nobody.status().code(), StatusCode::kNotFound);
  auto long_text = keys_->Create(admin_, PrincipalId::User("alice"), std::string(300, 'd'));
  EXPECT_EQ(long_text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(long_text.status().message(), HasSubstr("300 bytes; the limit is 256"));
  ASSERT_TRUE(dir_->SetDisabled(admin_, PrincipalId::User("alice"), true).ok());
  auto disabled = keys_->Create(admin_, PrincipalId::User("alice"), "");
  EXPECT_EQ(disabled.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(disabled.status().message(), HasSubstr("User::\"alice\" is disabled"));
  EXPECT_TRUE(keys_->List()->empty());

  // The maximum is configurable.
  ApiKeyOptions options;
  options.default_ttl = std::chrono::hours(1);
  options.max_ttl = std::chrono::hours(2);
  Reopen(options);
  auto over =
      keys_->Create(admin_, PrincipalId::ServiceAccount("scorer"), "", std::chrono::hours(3));
  EXPECT_THAT(over.status().message(), HasSubstr("exceeds the maximum of 7200 s"));
  NewApiKey key = MustCreate(PrincipalId::ServiceAccount("scorer"));
  EXPECT_EQ(key.info.expires, clock_.Now() + std::chrono::hours(1));
  ApiKeyOptions bad;
  bad.max_ttl = std::chrono::hours(1);
  EXPECT_EQ(ApiKeys::Open(kv(), keyring(), *dir_, *auditor_, bad).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(ApiKeysTest, RevokesOnce) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  clock_.Advance(std::chrono::seconds(7));
  ASSERT_TRUE(keys_->Revoke(admin_, key.info.key_id).ok());
  auto info = keys_->Get(key.info.key_id);
  EXPECT_TRUE(info->revoked);
  EXPECT_EQ(info->revoked_at, clock_.Now());
  Status again = keys_->Revoke(admin_, key.info.key_id);
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.message(),
            "API key " + key.info.key_id + " was already revoked at 2027-01-15T08:00:07Z");
  Status unknown = keys_->Revoke(admin_, "ak_00000000000000000000000000");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "API key ak_00000000000000000000000000 does not exist");
  EXPECT_EQ(keys_->Revoke(admin_, "tok_123").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys_->Get("ak_00000000000000000000000000").status().code(), StatusCode::kNotFound);
}

TEST_F(ApiKeysTest, SurvivesReopenAndNeverStoresTheSecret) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  const std::string text = Text(key.text);
  Reopen();
  auto who = keys_->Authenticate(login_, text);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, PrincipalId::User("alice"));

  keys_.reset();
  dir_.reset();
  auditor_.reset();
  log_.reset();
  data_.dir.reset();
  const std::string secret_part = text.substr(37);
  auto secret_bytes = *common::Base64UrlDecode(secret_part);
  const std::string raw_secret(secret_bytes.begin(), secret_bytes.end());
  for (const auto& entry : std::filesystem::recursive_directory_iterator(tmp_.Sub("d"))) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content.find(secret_part), std::string::npos) << entry.path();
    EXPECT_EQ(content.find(raw_secret), std::string::npos) << entry.path();
  }
}

TEST_F(ApiKeysTest, AuditsCreateRevokeAndUseWithoutSecrets) {
  const uint64_t first = log_->size();
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  ASSERT_TRUE(keys_->Authenticate(login_, Text(key.text)).ok());
  ASSERT_TRUE(keys_->Revoke(admin_, key.info.key_id).ok());
  auto events = Events();
  ASSERT_EQ(events.size(), first + 3);
  const audit::HashedValue key_mac{"api_key_id", salt_.Mac("api_key_id", key.info.key_id)};

  const auto& create = events[first];
  EXPECT_EQ(create.action, "identity.api_key.create");
  EXPECT_EQ(create.principal_id, "User::\"root\"");
  EXPECT_EQ(create.resources, (std::vector<audit::ResourceRef>{{"User", "alice", 0}}));
  EXPECT_EQ(create.outcome_detail, "expires 2027-04-15T08:00:00Z");
  EXPECT_EQ(create.hashed_values, std::vector<audit::HashedValue>{key_mac});

  const auto& use = events[first + 1];
  EXPECT_EQ(use.action, "identity.api_key.authenticate");
  EXPECT_EQ(use.principal_id, "User::\"alice\"");
  EXPECT_EQ(use.outcome, audit::Outcome::kOk);
  EXPECT_EQ(use.hashed_values, std::vector<audit::HashedValue>{key_mac});

  const auto& revoke = events[first + 2];
  EXPECT_EQ(revoke.action, "identity.api_key.revoke");
  EXPECT_EQ(revoke.hashed_values, std::vector<audit::HashedValue>{key_mac});

  const std::string text = Text(key.text);
  for (const auto& e : events) {
    auto bytes = audit::EncodeEvent(e);
    ASSERT_TRUE(bytes.ok());
    const std::string raw(bytes->begin(), bytes->end());
    EXPECT_EQ(raw.find(text.substr(37)), std::string::npos);
    EXPECT_EQ(raw.find(key.info.key_id), std::string::npos);
  }
}

TEST_F(ApiKeysTest, FailsClosedWhenTheAuditLogRefuses) {
  NewApiKey key = MustCreate(PrincipalId::User("alice"));
  log_->Close();
  auto who = keys_->Authenticate(login_, Text(key.text));
  EXPECT_EQ(who.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(who.status().message(),
              HasSubstr("audit: cannot record 'identity.api_key.authenticate'"));
  EXPECT_FALSE(keys_->Get(key.info.key_id)->last_used.has_value());
  auto bad = keys_->Authenticate(login_, "nonsense");
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  auto created = keys_->Create(admin_, PrincipalId::User("alice"), "");
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(keys_->Revoke(admin_, key.info.key_id).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(keys_->Get(key.info.key_id)->revoked);
  EXPECT_EQ(keys_->List()->size(), 1u);
}

}  // namespace
}  // namespace custos::identity
