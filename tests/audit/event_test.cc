// The audit event's canonical encoding: round trips, a pinned golden encoding, and a
// rejection for every malformed form.
#include "audit/event.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "common/bytes.h"
#include "crypto/hash.h"

namespace custos::audit {
namespace {

using common::Bytes;

AuditSalt TestSalt() { return *AuditSalt::Create(crypto::SecretBytes::CopyOf(Bytes(32, 0x5a))); }

AuditEvent FullEvent() {
  AuditSalt salt = TestSalt();
  AuditEvent e;
  e.time = common::FromUnixMicros(1795000000123456);
  e.request_id = "req_0123456789abcdefghijklmnop";
  e.principal_id = "User::\"alice\"";
  e.auth_method = AuthMethod::kToken;
  e.token_id_mac = salt.Mac("token_id", "tok_secret");
  e.action = "read";
  e.resources = {{"FeatureView", "fraud_features", 3}, {"Feature", "fraud_features.amount", 0}};
  e.purpose = "fraud-detection";
  e.environment = "prod";
  e.decision = Decision::kAllow;
  e.determining_policies = {"policy0", "grant-17"};
  e.policy_set_version = 300;
  e.grant_id = "grt_abc";
  e.feature_modes = {{"amount", AccessMode::kRaw}, {"card_number", AccessMode::kMasked}};
  e.rows_returned = 12345678901;
  e.client_address_mac = salt.Mac("client_address", "10.1.2.3");
  e.risk_score = 250;
  e.outcome = Outcome::kOk;
  e.outcome_detail = "OK";
  e.hashed_values = {{"entity_key", salt.Mac("entity_key", "customer-42")}};
  return e;
}

// The default event: every field at its zero value. Offsets of its fields are used below.
Bytes MinimalEncoding() { return *EncodeEvent(AuditEvent{}); }
constexpr size_t kAuthOffset = 11, kTokenOffset = 12, kResourcesOffset = 14, kDecisionOffset = 17,
                 kRowsOffset = 22, kRiskOffset = 24, kOutcomeOffset = 25;

TEST(AuditSalt, MacIsDomainSeparatedHmac) {
  EXPECT_EQ(AuditSalt::Create(crypto::SecretBytes::CopyOf(Bytes(31, 1))).status().code(),
            StatusCode::kInvalidArgument);
  AuditSalt salt = TestSalt();
  Bytes message = common::ToBytes(std::string("token_id") + '\0' + "tok_secret");
  ASSERT_EQ(message.size(), 19u);
  EXPECT_EQ(salt.Mac("token_id", "tok_secret"), crypto::HmacSha256(Bytes(32, 0x5a), message));
  EXPECT_EQ(salt.Mac("token_id", "x"), salt.Mac("token_id", "x"));
  EXPECT_NE(salt.Mac("token_id", "x"), salt.Mac("client_address", "x"));
  EXPECT_NE(salt.Mac("a", "bc"), salt.Mac("ab", "c"));
}

TEST(AuditEventEncoding, FullEventRoundTrips) {
  AuditEvent e = FullEvent();
  Result<Bytes> encoded = EncodeEvent(e);
  ASSERT_TRUE(encoded.ok()) << encoded.status().ToString();
  Result<AuditEvent> decoded = DecodeEvent(*encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, e);
  EXPECT_EQ(*EncodeEvent(*decoded), *encoded);
  // No raw sensitive value reaches the bytes.
  std::string_view text = common::AsChars(*encoded);
  for (const char* secret : {"tok_secret", "10.1.2.3", "customer-42"}) {
    EXPECT_EQ(text.find(secret), std::string_view::npos) << secret;
  }
}

TEST(AuditEventEncoding, MinimalEncodingIsPinned) {
  // version 1 | time 0 | request_id..environment: 8 zero bytes | decision kDeny (the
  // default) | determining_policies..risk_score: 7 zero bytes | outcome kError (the
  // default) | outcome_detail, hashed_values: 2 zero bytes.
  EXPECT_EQ(common::HexEncode(MinimalEncoding()), std::string("01") + "0000000000000000" +
                                                      "0000000000000000" + "01" + "00000000000000" +
                                                      "02" + "0000");
  AuditEvent e;
  e.time = common::FromUnixMicros(-1);
  e.rows_returned = 300;
  e.risk_score = 1000;
  Bytes b = *EncodeEvent(e);
  EXPECT_EQ(common::HexEncode(common::ByteView(b).subspan(1, 8)), "ffffffffffffffff");
  EXPECT_EQ(common::HexEncode(common::ByteView(b).subspan(kRowsOffset, 2)), "ac02");
  EXPECT_EQ(common::HexEncode(common::ByteView(b).subspan(kRiskOffset + 1, 2)), "e807");
  EXPECT_EQ(*DecodeEvent(b), e);
}

TEST(AuditEventEncoding, RandomEventsRoundTripBothWays) {
  std::mt19937_64 rng(1);
  auto str = [&] {
    std::string s(rng() % 12, 'a');
    for (char& c : s) c = static_cast<char>(rng());  // any bytes, NUL included
    return s;
  };
  auto mac = [&] {
    Hash h;
    for (auto& b : h) b = static_cast<uint8_t>(rng());
    return h;
  };
  for (int i = 0; i < 300; ++i) {
    AuditEvent e;
    e.time = common::FromUnixMicros(static_cast<int64_t>(rng()));
    e.request_id = str();
    e.principal_id = str();
    e.auth_method = static_cast<AuthMethod>(rng() % 4);
    if (rng() % 2) e.token_id_mac = mac();
    e.action = str();
    for (size_t k = rng() % 4; k > 0; --k)
      e.resources.push_back({str(), str(), rng() >> (rng() % 64)});
    e.purpose = str();
    e.environment = str();
    e.decision = static_cast<Decision>(rng() % 2);
    for (size_t k = rng() % 4; k > 0; --k) e.determining_policies.push_back(str());
    e.policy_set_version = rng();
    e.grant_id = str();
    for (size_t k = rng() % 4; k > 0; --k) {
      e.feature_modes.push_back({str(), static_cast<AccessMode>(rng() % 5)});
    }
    e.rows_returned = rng() >> (rng() % 64);
    if (rng() % 2) e.client_address_mac = mac();
    e.risk_score = static_cast<uint32_t>(rng() % (kMaxRiskScore + 1));
    e.outcome = static_cast<Outcome>(rng() % 3);
    e.outcome_detail = str();
    for (size_t k = rng() % 3; k > 0; --k) e.hashed_values.push_back({str(), mac()});
    Result<Bytes> b = EncodeEvent(e);
    ASSERT_TRUE(b.ok());
    Result<AuditEvent> d = DecodeEvent(*b);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    ASSERT_EQ(*d, e);
    ASSERT_EQ(*EncodeEvent(*d), *b);
  }
}

TEST(AuditEventEncoding, EveryTruncationAndTrailingByteIsRejected) {
  Bytes full = *EncodeEvent(FullEvent());
  for (size_t n = 0; n < full.size(); ++n) {
    Result<AuditEvent> d = DecodeEvent(common::ByteView(full).first(n));
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << "prefix of " << n << " bytes";
  }
  Bytes longer = full;
  longer.push_back(0);
  Result<AuditEvent> d = DecodeEvent(longer);
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("1 trailing bytes"), std::string::npos)
      << d.status().message();
}

// Splices `replacement` over `count` bytes at `offset` of the minimal encoding.
Bytes Splice(size_t offset, size_t count, Bytes replacement) {
  Bytes b = MinimalEncoding();
  b.erase(b.begin() + offset, b.begin() + offset + count);
  b.insert(b.begin() + offset, replacement.begin(), replacement.end());
  return b;
}

TEST(AuditEventEncoding, EveryMalformedFormIsRejectedWithFieldAndOffset) {
  ASSERT_TRUE(DecodeEvent(MinimalEncoding()).ok());
  Bytes version2 = MinimalEncoding();
  version2[0] = 2;
  Bytes lonely_feature = Splice(21, 1, {0x01, 0x00, 0x05});  // one feature, mode 5
  const struct {
    Bytes data;
    std::string error_part;
  } kCases[] = {
      {{}, "offset 0: field 'version': truncated"},
      {version2, "version 2 is not supported"},
      {Splice(9, 1, {0x7F}), "field 'request_id': truncated string"},
      {Splice(9, 1, {0x81, 0x20}), "field 'request_id': length 4097 exceeds the limit"},
      {Splice(kAuthOffset, 1, {0x04}), "offset 11: field 'auth_method': unknown value 4"},
      {Splice(kTokenOffset, 1, {0x02}), "offset 12: field 'token_id_mac': presence byte"},
      {Splice(kTokenOffset, 1, {0x01, 0xAA}), "field 'token_id_mac': truncated MAC"},
      {Splice(kResourcesOffset, 1, {0x81, 0x20}), "field 'resources': 4097 items exceed"},
      {Splice(kDecisionOffset, 1, {0x02}), "field 'decision': unknown value 2"},
      {lonely_feature, "field 'feature_modes.mode': unknown value 5"},
      {Splice(kRowsOffset, 1, {0x80, 0x00}), "offset 22: field 'rows_returned': non-minimal"},
      {Splice(kRowsOffset, 1, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}),
       "field 'rows_returned': varint overflows 64 bits"},
      {Splice(27, 1, {0xFF}), "offset 28: field 'hashed_values': truncated varint"},
      {Splice(kRiskOffset, 1, {0xE9, 0x07}), "field 'risk_score': 1001 is above 1000"},
      {Splice(kOutcomeOffset, 1, {0x03}), "field 'outcome': unknown value 3"},
  };
  for (const auto& c : kCases) {
    Result<AuditEvent> d = DecodeEvent(c.data);
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << common::HexEncode(c.data);
    EXPECT_NE(d.status().message().find(c.error_part), std::string::npos)
        << d.status().message() << " | wanted: " << c.error_part;
  }
  // The largest varint is accepted.
  Bytes max_rows =
      Splice(kRowsOffset, 1, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  ASSERT_TRUE(DecodeEvent(max_rows).ok());
  EXPECT_EQ(DecodeEvent(max_rows)->rows_returned, UINT64_MAX);
}

TEST(AuditEventEncoding, EncodeRefusesWhatDecodeWouldReject) {
  AuditEvent risky;
  risky.risk_score = 1001;
  EXPECT_EQ(EncodeEvent(risky).status().code(), StatusCode::kInvalidArgument);
  AuditEvent long_string;
  long_string.purpose = std::string(kMaxEventString + 1, 'p');
  EXPECT_NE(EncodeEvent(long_string).status().message().find("'purpose'"), std::string::npos);
  AuditEvent long_list;
  long_list.determining_policies.resize(kMaxEventListItems + 1);
  EXPECT_NE(EncodeEvent(long_list).status().message().find("'determining_policies'"),
            std::string::npos);
  AuditEvent at_limits;
  at_limits.purpose = std::string(kMaxEventString, 'p');
  at_limits.determining_policies.resize(kMaxEventListItems);
  at_limits.risk_score = kMaxRiskScore;
  Result<Bytes> b = EncodeEvent(at_limits);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*DecodeEvent(*b), at_limits);
}

}  // namespace
}  // namespace custos::audit
