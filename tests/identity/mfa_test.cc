// TOTP MFA: enrolment and confirmation, verification with one step of skew, refusal of a
// reused code (within the window, across a restart and under concurrent calls), wrong and
// malformed codes, lockout, the last-MFA time, and the audit events of each outcome.
#include "identity/mfa.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/bytes.h"
#include "crypto/totp.h"
#include "identity_test_util.h"

namespace custos::identity {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// 1'800'000'000 is a multiple of 30: the test clock starts at the first second of step kStep.
constexpr int64_t kStart = 1'800'000'000;
constexpr uint64_t kStep = kStart / 30;

class MfaTest : public testing::IdentityTest {
 protected:
  MfaTest() : IdentityTest(common::FromUnixSeconds(kStart)) {}

  void SetUp() override {
    IdentityTest::SetUp();
    MustCreatePrincipal(alice_);
    MustCreatePrincipal(PrincipalId::ServiceAccount("scorer"));
    MustCreatePrincipal(PrincipalId::Group("risk"));
  }

  void OpenServices() override {
    auto mfa = Mfa::Open(kv(), keyring(), *dir_, *auditor_);
    ASSERT_TRUE(mfa.ok()) << mfa.status().ToString();
    mfa_ = std::move(*mfa);
  }
  void CloseServices() override { mfa_.reset(); }

  // Enrolls `who` and returns the secret read back from the otpauth URI.
  crypto::SecretBytes EnrollSecret(const PrincipalId& who,
                                   crypto::TotpAlgorithm algorithm = crypto::TotpAlgorithm::kSha1) {
    auto enrollment = mfa_->Enroll(admin_, who, algorithm);
    EXPECT_TRUE(enrollment.ok()) << enrollment.status().ToString();
    if (!enrollment.ok()) return {};
    uri_ = std::string(common::AsChars(enrollment->otpauth_uri.span()));
    const size_t at = uri_.find("secret=") + 7;
    auto secret = crypto::Base32Decode(uri_.substr(at, uri_.find('&', at) - at));
    EXPECT_TRUE(secret.ok()) << secret.status().ToString();
    return secret.ok() ? std::move(*secret) : crypto::SecretBytes();
  }

  std::string Code(const crypto::SecretBytes& secret, uint64_t step,
                   crypto::TotpAlgorithm algorithm = crypto::TotpAlgorithm::kSha1) {
    crypto::TotpOptions options;
    options.algorithm = algorithm;
    return *crypto::Totp::Hotp(secret, step, options);
  }

  // A 6-digit code that matches no step near now.
  std::string WrongCode(const crypto::SecretBytes& secret) {
    for (int candidate = 0; candidate < 1000; ++candidate) {
      std::string buf = std::to_string(candidate);
      buf.insert(0, 6 - buf.size(), '0');
      bool matches = false;
      for (uint64_t s = kStep - 20; s < kStep + 1000; ++s) matches |= Code(secret, s) == buf;
      if (!matches) return buf;
    }
    ADD_FAILURE() << "no wrong code found";
    return "000000";
  }

  void SetStep(uint64_t step, int64_t second_in_step = 0) {
    clock_.Set(common::FromUnixSeconds(static_cast<int64_t>(step) * 30 + second_in_step));
  }

  std::unique_ptr<Mfa> mfa_;
  std::string uri_;
  const PrincipalId alice_ = PrincipalId::User("alice");
  Caller self_{.principal_id = "User::\"alice\"", .request_id = "req-self"};
};

TEST_F(MfaTest, EnrollConfirmVerify) {
  crypto::SecretBytes secret = EnrollSecret(alice_);
  EXPECT_EQ(secret.size(), 20u);  // 160 bits for SHA-1
  EXPECT_THAT(uri_, StartsWith("otpauth://totp/custos:alice?secret="));
  EXPECT_THAT(uri_, HasSubstr("algorithm=SHA1&digits=6&period=30"));
  auto status = mfa_->GetStatus(alice_);
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->confirmed);
  EXPECT_EQ(status->enrolled, clock_.Now());

  // Unconfirmed: no verification, no MFA time.
  auto early = mfa_->Verify(self_, alice_, Code(secret, kStep));
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.status().message(),
            "MFA enrolment of User::\"alice\" is not confirmed; confirm it with a code from the "
            "authenticator");
  EXPECT_FALSE(mfa_->LastMfaTime(alice_)->has_value());

  Status wrong = mfa_->ConfirmEnrollment(self_, alice_, WrongCode(secret));
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(mfa_->GetStatus(alice_)->confirmed);

  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  EXPECT_TRUE(mfa_->GetStatus(alice_)->confirmed);
  EXPECT_EQ(*mfa_->LastMfaTime(alice_), clock_.Now());
  Status twice = mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep));
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.message(), "MFA enrolment of User::\"alice\" is already confirmed");

  SetStep(kStep + 1, 10);
  auto verified = mfa_->Verify(self_, alice_, Code(secret, kStep + 1));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, clock_.Now());
  EXPECT_EQ(*mfa_->LastMfaTime(alice_), clock_.Now());
  EXPECT_TRUE(*mfa_->MfaWithin(alice_, std::chrono::minutes(5)));
  clock_.Advance(std::chrono::seconds(300));
  EXPECT_TRUE(*mfa_->MfaWithin(alice_, std::chrono::minutes(5)));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(*mfa_->MfaWithin(alice_, std::chrono::minutes(5)));
}

TEST_F(MfaTest, RefusesReusedCodes) {
  crypto::SecretBytes secret = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  // The confirmation code is spent.
  auto reused = mfa_->Verify(self_, alice_, Code(secret, kStep));
  EXPECT_EQ(reused.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(reused.status().message(),
            "MFA code for User::\"alice\" was already used; wait for the next code");

  SetStep(kStep + 1);
  const std::string code = Code(secret, kStep + 1);
  ASSERT_TRUE(mfa_->Verify(self_, alice_, code).ok());
  // Still inside its skew window half a minute later, but spent.
  SetStep(kStep + 2);
  EXPECT_THAT(mfa_->Verify(self_, alice_, code).status().message(), HasSubstr("already used"));
  // And after a restart.
  Reopen();
  EXPECT_THAT(mfa_->Verify(self_, alice_, code).status().message(), HasSubstr("already used"));
  // An earlier step than the last accepted one is refused too, even inside the window.
  ASSERT_TRUE(mfa_->Verify(self_, alice_, Code(secret, kStep + 3)).ok());  // skew ahead
  auto older = mfa_->Verify(self_, alice_, Code(secret, kStep + 2));
  EXPECT_THAT(older.status().message(), HasSubstr("already used"));
}

TEST_F(MfaTest, AcceptsOneStepOfSkewOnly) {
  crypto::SecretBytes secret = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  SetStep(kStep + 10, 29);
  EXPECT_TRUE(mfa_->Verify(self_, alice_, Code(secret, kStep + 9)).ok());   // one behind
  EXPECT_TRUE(mfa_->Verify(self_, alice_, Code(secret, kStep + 11)).ok());  // one ahead
  SetStep(kStep + 20);
  auto behind = mfa_->Verify(self_, alice_, Code(secret, kStep + 18));  // two behind
  EXPECT_EQ(behind.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(behind.status().message(),
            "MFA code for User::\"alice\" is wrong (check the authenticator entry and the "
            "device's clock)");
  auto ahead = mfa_->Verify(self_, alice_, Code(secret, kStep + 22));  // two ahead
  EXPECT_EQ(ahead.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(mfa_->Verify(self_, alice_, Code(secret, kStep + 20)).ok());
}

TEST_F(MfaTest, RefusesWrongMalformedAndUnenrolled) {
  auto none = mfa_->Verify(self_, alice_, "123456");
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(none.status().message(),
            "User::\"alice\" has no MFA enrolment; enroll an authenticator first");
  EXPECT_EQ(mfa_->ConfirmEnrollment(self_, alice_, "123456").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(mfa_->GetStatus(alice_).status().code(), StatusCode::kNotFound);
  Status no_disable = mfa_->Disable(admin_, alice_);
  EXPECT_EQ(no_disable.code(), StatusCode::kNotFound);
  EXPECT_EQ(no_disable.message(), "User::\"alice\" has no MFA enrolment to disable");

  crypto::SecretBytes secret = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  SetStep(kStep + 1);
  for (const char* bad : {"12345", "1234567", "12a456", ""}) {
    auto r = mfa_->Verify(self_, alice_, bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message(), "MFA code for User::\"alice\" must be 6 digits") << bad;
    SetStep(kStep + 1);
  }
  EXPECT_EQ(mfa_->GetStatus(alice_)->failed_attempts, 4u);
  EXPECT_EQ(mfa_->Verify(self_, alice_, WrongCode(secret)).status().code(),
            StatusCode::kUnauthenticated);
  // That was the fifth failure: locked.
  auto locked = mfa_->Verify(self_, alice_, Code(secret, kStep + 1));
  EXPECT_EQ(locked.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(locked.status().message(),
            "MFA for User::\"alice\" is locked after repeated wrong codes until "
            "2027-01-15T08:05:30Z; try again then");
  EXPECT_EQ(mfa_->GetStatus(alice_)->locked_until, clock_.Now() + std::chrono::minutes(5));
  clock_.Advance(std::chrono::minutes(5));
  SetStep(kStep + 11);
  ASSERT_TRUE(mfa_->Verify(self_, alice_, Code(secret, kStep + 11)).ok());
  EXPECT_EQ(mfa_->GetStatus(alice_)->failed_attempts, 0u);
  EXPECT_FALSE(mfa_->GetStatus(alice_)->locked_until.has_value());
}

TEST_F(MfaTest, EnrolmentRules) {
  auto group = mfa_->Enroll(admin_, PrincipalId::Group("risk"));
  EXPECT_EQ(group.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(group.status().message(), HasSubstr("Group::\"risk\" is a group"));
  EXPECT_EQ(mfa_->Enroll(admin_, PrincipalId::User("nobody")).status().code(),
            StatusCode::kNotFound);

  // An unconfirmed enrolment is replaced by a new one: the old secret stops working.
  crypto::SecretBytes first = EnrollSecret(alice_);
  crypto::SecretBytes second = EnrollSecret(alice_);
  EXPECT_EQ(mfa_->ConfirmEnrollment(self_, alice_, Code(first, kStep)).code(),
            StatusCode::kUnauthenticated);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(second, kStep)).ok());
  auto again = mfa_->Enroll(admin_, alice_);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(again.status().message(), HasSubstr("disable it first"));

  // A disabled principal cannot verify.
  ASSERT_TRUE(dir_->SetDisabled(admin_, alice_, true).ok());
  SetStep(kStep + 1);
  auto disabled = mfa_->Verify(self_, alice_, Code(second, kStep + 1));
  EXPECT_EQ(disabled.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(disabled.status().message(), HasSubstr("is disabled"));
  EXPECT_EQ(mfa_->Enroll(admin_, alice_).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(dir_->SetDisabled(admin_, alice_, false).ok());

  // Nor confirm an enrolment.
  const PrincipalId scorer = PrincipalId::ServiceAccount("scorer");
  crypto::SecretBytes scorer_secret = EnrollSecret(scorer);
  ASSERT_TRUE(dir_->SetDisabled(admin_, scorer, true).ok());
  Status confirm = mfa_->ConfirmEnrollment(admin_, scorer, Code(scorer_secret, kStep + 1));
  EXPECT_EQ(confirm.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(confirm.message(),
            "principal ServiceAccount::\"scorer\" is disabled; an administrator must enable it");
  EXPECT_FALSE(mfa_->GetStatus(scorer)->confirmed);

  ASSERT_TRUE(mfa_->Disable(admin_, alice_).ok());
  EXPECT_FALSE(mfa_->LastMfaTime(alice_)->has_value());
  EXPECT_EQ(mfa_->Verify(self_, alice_, Code(second, kStep + 1)).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(mfa_->Enroll(admin_, alice_).ok());
}

TEST_F(MfaTest, EnrolmentDoesNotPassToARecreatedPrincipal) {
  crypto::SecretBytes secret = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  ASSERT_TRUE(dir_->Delete(admin_, alice_).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(dir_->Create(admin_, {alice_, "", {}}).ok());
  EXPECT_FALSE(mfa_->LastMfaTime(alice_)->has_value());
  EXPECT_EQ(mfa_->GetStatus(alice_).status().code(), StatusCode::kNotFound);
  SetStep(kStep + 1);
  auto r = mfa_->Verify(self_, alice_, Code(secret, kStep + 1));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("has no MFA enrolment"));
  // The new principal enrolls afresh (the stale confirmed enrolment does not block it).
  crypto::SecretBytes fresh = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(fresh, kStep + 1)).ok());
}

TEST_F(MfaTest, Sha256Enrolment) {
  const PrincipalId scorer = PrincipalId::ServiceAccount("scorer");
  crypto::SecretBytes secret = EnrollSecret(scorer, crypto::TotpAlgorithm::kSha256);
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_THAT(uri_, StartsWith("otpauth://totp/custos:scorer?secret="));
  EXPECT_THAT(uri_, HasSubstr("algorithm=SHA256"));
  EXPECT_EQ(mfa_->ConfirmEnrollment(admin_, scorer, Code(secret, kStep)).code(),
            StatusCode::kUnauthenticated);  // a SHA-1 code for a SHA-256 secret
  ASSERT_TRUE(
      mfa_->ConfirmEnrollment(admin_, scorer, Code(secret, kStep, crypto::TotpAlgorithm::kSha256))
          .ok());
  EXPECT_EQ(mfa_->GetStatus(scorer)->algorithm, crypto::TotpAlgorithm::kSha256);
}

TEST_F(MfaTest, ConcurrentUsesOfOneCodeAcceptExactlyOne) {
  crypto::SecretBytes secret = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  for (uint64_t round = 1; round <= 3; ++round) {
    SetStep(kStep + 2 * round);
    const std::string code = Code(secret, kStep + 2 * round);
    std::atomic<int> accepted{0};
    std::atomic<int> reused{0};
    std::vector<std::thread> threads;
    // 4 callers: 3 refusals stay below the lockout threshold of 5 consecutive failures.
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto r = mfa_->Verify(self_, alice_, code);
        if (r.ok()) {
          ++accepted;
        } else if (r.status().message().find("already used") != std::string::npos) {
          ++reused;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(accepted.load(), 1) << round;
    EXPECT_EQ(reused.load(), 3) << round;
  }
}

TEST_F(MfaTest, AuditsEveryOutcomeWithoutCodes) {
  const uint64_t first = log_->size();
  ASSERT_EQ(mfa_->Verify(self_, alice_, "111111").status().code(), StatusCode::kFailedPrecondition);
  crypto::SecretBytes secret = EnrollSecret(alice_);
  (void)mfa_->Verify(self_, alice_, "222222");
  const std::string confirm_code = Code(secret, kStep);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, confirm_code).ok());
  const std::string wrong = WrongCode(secret);
  (void)mfa_->Verify(self_, alice_, wrong);
  (void)mfa_->Verify(self_, alice_, confirm_code);
  SetStep(kStep + 1);
  ASSERT_TRUE(mfa_->Verify(self_, alice_, Code(secret, kStep + 1)).ok());
  ASSERT_TRUE(mfa_->Disable(admin_, alice_).ok());

  struct Expected {
    const char* action;
    audit::Outcome outcome;
    const char* detail;
  };
  const Expected expected[] = {
      {"identity.mfa.verify", audit::Outcome::kDenied, "not enrolled"},
      {"identity.mfa.enroll", audit::Outcome::kOk, "TOTP SHA1"},
      {"identity.mfa.verify", audit::Outcome::kDenied, "enrolment not confirmed"},
      {"identity.mfa.confirm", audit::Outcome::kOk, ""},
      {"identity.mfa.verify", audit::Outcome::kDenied, "wrong code"},
      {"identity.mfa.verify", audit::Outcome::kDenied, "code reused"},
      {"identity.mfa.verify", audit::Outcome::kOk, ""},
      {"identity.mfa.disable", audit::Outcome::kOk, ""},
  };
  auto events = Events(first);
  ASSERT_EQ(events.size(), std::size(expected));
  const std::string secret_b32 = crypto::Base32Encode(secret.span());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].action, expected[i].action) << i;
    EXPECT_EQ(events[i].outcome, expected[i].outcome) << i;
    EXPECT_EQ(events[i].outcome_detail, expected[i].detail) << i;
    EXPECT_EQ(events[i].resources, (std::vector<audit::ResourceRef>{{"User", "alice", 0}})) << i;
    auto bytes = audit::EncodeEvent(events[i]);
    ASSERT_TRUE(bytes.ok());
    const std::string raw(bytes->begin(), bytes->end());
    EXPECT_EQ(raw.find(confirm_code), std::string::npos) << i;
    EXPECT_EQ(raw.find(wrong), std::string::npos) << i;
    EXPECT_EQ(raw.find(secret_b32.substr(0, 16)), std::string::npos) << i;
  }
  EXPECT_EQ(events[1].principal_id, "User::\"root\"");
  EXPECT_EQ(events[6].principal_id, "User::\"alice\"");
  EXPECT_EQ(events[6].request_id, "req-self");
}

TEST_F(MfaTest, FailsClosedWhenTheAuditLogRefuses) {
  crypto::SecretBytes secret = EnrollSecret(alice_);
  ASSERT_TRUE(mfa_->ConfirmEnrollment(self_, alice_, Code(secret, kStep)).ok());
  const auto confirmed_at = *mfa_->LastMfaTime(alice_);
  SetStep(kStep + 1);
  log_->Close();
  const std::string code = Code(secret, kStep + 1);
  auto r = mfa_->Verify(self_, alice_, code);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("audit: cannot record 'identity.mfa.verify'"));
  EXPECT_EQ(*mfa_->LastMfaTime(alice_), confirmed_at);  // no unaudited MFA counts
  EXPECT_EQ(mfa_->Verify(self_, alice_, WrongCode(secret)).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(mfa_->GetStatus(alice_)->failed_attempts, 0u);
  EXPECT_EQ(mfa_->Disable(admin_, alice_).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(mfa_->GetStatus(alice_).ok());
  EXPECT_EQ(mfa_->Enroll(admin_, PrincipalId::ServiceAccount("scorer")).status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(mfa_->GetStatus(PrincipalId::ServiceAccount("scorer")).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace custos::identity
