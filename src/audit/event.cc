// Canonical binary encoding of audit events, and the audit salt.
#include "audit/event.h"

#include <algorithm>

#include "crypto/hash.h"

namespace custos::audit {
namespace {

class Writer {
 public:
  Writer() { out_.reserve(512); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
  }
  void Byte(uint8_t b) { out_.push_back(b); }
  void Int64(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(u >> shift));
  }
  Status String(std::string_view s, std::string_view field) {
    if (s.size() > kMaxEventString) {
      return InvalidArgumentError("audit event: field '" + std::string(field) + "' has " +
                                  std::to_string(s.size()) + " bytes, the limit is " +
                                  std::to_string(kMaxEventString));
    }
    Varint(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
    return Status::Ok();
  }
  Status Count(size_t n, std::string_view field) {
    if (n > kMaxEventListItems) {
      return InvalidArgumentError("audit event: list '" + std::string(field) + "' has " +
                                  std::to_string(n) + " items, the limit is " +
                                  std::to_string(kMaxEventListItems));
    }
    Varint(n);
    return Status::Ok();
  }
  void Mac(const Hash& h) { out_.insert(out_.end(), h.begin(), h.end()); }
  void OptionalMac(const std::optional<Hash>& h) {
    Byte(h.has_value() ? 1 : 0);
    if (h) Mac(*h);
  }
  common::Bytes Release() { return std::move(out_); }

 private:
  common::Bytes out_;
};

class Reader {
 public:
  explicit Reader(common::ByteView data) : data_(data) {}

  Status Error(std::string_view field, const std::string& why) const {
    return InvalidArgumentError("audit event: offset " + std::to_string(pos_) + ": field '" +
                                std::string(field) + "': " + why);
  }

  Result<uint64_t> Varint(std::string_view field) {
    size_t start = pos_;
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      if (pos_ >= data_.size()) return Error(field, "truncated varint");
      uint8_t b = data_[pos_++];
      if (shift == 63 && b > 1) return Error(field, "varint overflows 64 bits");
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) {
        // Minimal form only: a final zero byte after the first adds nothing.
        if (b == 0 && pos_ - start > 1) {
          pos_ = start;
          return Error(field, "non-minimal varint");
        }
        return v;
      }
    }
  }
  Result<uint8_t> Byte(std::string_view field) {
    if (pos_ >= data_.size()) return Error(field, "truncated");
    return data_[pos_++];
  }
  Result<int64_t> Int64(std::string_view field) {
    if (data_.size() - pos_ < 8) return Error(field, "truncated 8-byte integer");
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u = u << 8 | data_[pos_++];
    return static_cast<int64_t>(u);
  }
  Result<std::string> String(std::string_view field) {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t len, Varint(field));
    if (len > kMaxEventString) {
      return Error(field, "length " + std::to_string(len) + " exceeds the limit of " +
                              std::to_string(kMaxEventString));
    }
    if (data_.size() - pos_ < len) return Error(field, "truncated string");
    std::string s(reinterpret_cast<const char*>(data_.data() + pos_), len);
    pos_ += len;
    return s;
  }
  Result<size_t> Count(std::string_view field) {
    CUSTOS_ASSIGN_OR_RETURN(uint64_t n, Varint(field));
    if (n > kMaxEventListItems) {
      return Error(field, std::to_string(n) + " items exceed the limit of " +
                              std::to_string(kMaxEventListItems));
    }
    return static_cast<size_t>(n);
  }
  Result<Hash> Mac(std::string_view field) {
    if (data_.size() - pos_ < 32) return Error(field, "truncated MAC");
    Hash h;
    std::copy_n(data_.begin() + pos_, 32, h.begin());
    pos_ += 32;
    return h;
  }
  Result<std::optional<Hash>> OptionalMac(std::string_view field) {
    CUSTOS_ASSIGN_OR_RETURN(uint8_t present, Byte(field));
    if (present > 1) {
      --pos_;
      return Error(field, "presence byte must be 0 or 1, got " + std::to_string(present));
    }
    if (present == 0) return std::optional<Hash>();
    CUSTOS_ASSIGN_OR_RETURN(Hash h, Mac(field));
    return std::optional<Hash>(h);
  }
  template <typename Enum>
  Result<Enum> EnumByte(std::string_view field, Enum max) {
    CUSTOS_ASSIGN_OR_RETURN(uint8_t b, Byte(field));
    if (b > static_cast<uint8_t>(max)) {
      --pos_;
      return Error(field, "unknown value " + std::to_string(b));
    }
    return static_cast<Enum>(b);
  }
  bool Done() const { return pos_ == data_.size(); }
  size_t pos() const { return pos_; }

 private:
  common::ByteView data_;
  size_t pos_ = 0;
};

}  // namespace

Result<AuditSalt> AuditSalt::Create(crypto::SecretBytes key) {
  if (key.size() < 32) {
    return InvalidArgumentError("the audit salt must have at least 32 bytes, got " +
                                std::to_string(key.size()));
  }
  return AuditSalt(std::move(key));
}

Hash AuditSalt::Mac(std::string_view field, std::string_view value) const {
  common::Bytes message(field.begin(), field.end());
  message.push_back(0x00);  // field names contain no NUL, so the split is unambiguous
  message.insert(message.end(), value.begin(), value.end());
  Hash mac = crypto::HmacSha256(key_.span(), message);
  crypto::Zeroize(message);
  return mac;
}

Result<common::Bytes> EncodeEvent(const AuditEvent& e) {
  if (e.risk_score > kMaxRiskScore) {
    return InvalidArgumentError("audit event: risk score " + std::to_string(e.risk_score) +
                                " is above " + std::to_string(kMaxRiskScore));
  }
  Writer w;
  w.Byte(kEventVersion);
  w.Int64(common::ToUnixMicros(e.time));
  CUSTOS_RETURN_IF_ERROR(w.String(e.request_id, "request_id"));
  CUSTOS_RETURN_IF_ERROR(w.String(e.principal_id, "principal_id"));
  w.Byte(static_cast<uint8_t>(e.auth_method));
  w.OptionalMac(e.token_id_mac);
  CUSTOS_RETURN_IF_ERROR(w.String(e.action, "action"));
  CUSTOS_RETURN_IF_ERROR(w.Count(e.resources.size(), "resources"));
  for (const ResourceRef& r : e.resources) {
    CUSTOS_RETURN_IF_ERROR(w.String(r.type, "resources.type"));
    CUSTOS_RETURN_IF_ERROR(w.String(r.id, "resources.id"));
    w.Varint(r.version);
  }
  CUSTOS_RETURN_IF_ERROR(w.String(e.purpose, "purpose"));
  CUSTOS_RETURN_IF_ERROR(w.String(e.environment, "environment"));
  w.Byte(static_cast<uint8_t>(e.decision));
  CUSTOS_RETURN_IF_ERROR(w.Count(e.determining_policies.size(), "determining_policies"));
  for (const std::string& p : e.determining_policies) {
    CUSTOS_RETURN_IF_ERROR(w.String(p, "determining_policies"));
  }
  w.Varint(e.policy_set_version);
  CUSTOS_RETURN_IF_ERROR(w.String(e.grant_id, "grant_id"));
  CUSTOS_RETURN_IF_ERROR(w.Count(e.feature_modes.size(), "feature_modes"));
  for (const FeatureAccess& f : e.feature_modes) {
    CUSTOS_RETURN_IF_ERROR(w.String(f.feature, "feature_modes.feature"));
    w.Byte(static_cast<uint8_t>(f.mode));
  }
  w.Varint(e.rows_returned);
  w.OptionalMac(e.client_address_mac);
  w.Varint(e.risk_score);
  w.Byte(static_cast<uint8_t>(e.outcome));
  CUSTOS_RETURN_IF_ERROR(w.String(e.outcome_detail, "outcome_detail"));
  CUSTOS_RETURN_IF_ERROR(w.Count(e.hashed_values.size(), "hashed_values"));
  for (const HashedValue& h : e.hashed_values) {
    CUSTOS_RETURN_IF_ERROR(w.String(h.field, "hashed_values.field"));
    w.Mac(h.mac);
  }
  return w.Release();
}

Result<AuditEvent> DecodeEvent(common::ByteView data) {
  Reader r(data);
  AuditEvent e;
  CUSTOS_ASSIGN_OR_RETURN(uint8_t version, r.Byte("version"));
  if (version != kEventVersion) {
    return InvalidArgumentError("audit event: version " + std::to_string(version) +
                                " is not supported (this build reads version " +
                                std::to_string(kEventVersion) + ")");
  }
  CUSTOS_ASSIGN_OR_RETURN(int64_t micros, r.Int64("time"));
  e.time = common::FromUnixMicros(micros);
  CUSTOS_ASSIGN_OR_RETURN(e.request_id, r.String("request_id"));
  CUSTOS_ASSIGN_OR_RETURN(e.principal_id, r.String("principal_id"));
  CUSTOS_ASSIGN_OR_RETURN(e.auth_method, r.EnumByte("auth_method", AuthMethod::kEmbedded));
  CUSTOS_ASSIGN_OR_RETURN(e.token_id_mac, r.OptionalMac("token_id_mac"));
  CUSTOS_ASSIGN_OR_RETURN(e.action, r.String("action"));
  CUSTOS_ASSIGN_OR_RETURN(size_t resources, r.Count("resources"));
  for (size_t i = 0; i < resources; ++i) {
    ResourceRef ref;
    CUSTOS_ASSIGN_OR_RETURN(ref.type, r.String("resources.type"));
    CUSTOS_ASSIGN_OR_RETURN(ref.id, r.String("resources.id"));
    CUSTOS_ASSIGN_OR_RETURN(ref.version, r.Varint("resources.version"));
    e.resources.push_back(std::move(ref));
  }
  CUSTOS_ASSIGN_OR_RETURN(e.purpose, r.String("purpose"));
  CUSTOS_ASSIGN_OR_RETURN(e.environment, r.String("environment"));
  CUSTOS_ASSIGN_OR_RETURN(e.decision, r.EnumByte("decision", Decision::kDeny));
  CUSTOS_ASSIGN_OR_RETURN(size_t policies, r.Count("determining_policies"));
  for (size_t i = 0; i < policies; ++i) {
    CUSTOS_ASSIGN_OR_RETURN(std::string p, r.String("determining_policies"));
    e.determining_policies.push_back(std::move(p));
  }
  CUSTOS_ASSIGN_OR_RETURN(e.policy_set_version, r.Varint("policy_set_version"));
  CUSTOS_ASSIGN_OR_RETURN(e.grant_id, r.String("grant_id"));
  CUSTOS_ASSIGN_OR_RETURN(size_t features, r.Count("feature_modes"));
  for (size_t i = 0; i < features; ++i) {
    FeatureAccess f;
    CUSTOS_ASSIGN_OR_RETURN(f.feature, r.String("feature_modes.feature"));
    CUSTOS_ASSIGN_OR_RETURN(f.mode, r.EnumByte("feature_modes.mode", AccessMode::kDenied));
    e.feature_modes.push_back(std::move(f));
  }
  CUSTOS_ASSIGN_OR_RETURN(e.rows_returned, r.Varint("rows_returned"));
  CUSTOS_ASSIGN_OR_RETURN(e.client_address_mac, r.OptionalMac("client_address_mac"));
  CUSTOS_ASSIGN_OR_RETURN(uint64_t risk, r.Varint("risk_score"));
  if (risk > kMaxRiskScore) {
    return r.Error("risk_score",
                   std::to_string(risk) + " is above " + std::to_string(kMaxRiskScore));
  }
  e.risk_score = static_cast<uint32_t>(risk);
  CUSTOS_ASSIGN_OR_RETURN(e.outcome, r.EnumByte("outcome", Outcome::kError));
  CUSTOS_ASSIGN_OR_RETURN(e.outcome_detail, r.String("outcome_detail"));
  CUSTOS_ASSIGN_OR_RETURN(size_t hashed, r.Count("hashed_values"));
  for (size_t i = 0; i < hashed; ++i) {
    HashedValue h;
    CUSTOS_ASSIGN_OR_RETURN(h.field, r.String("hashed_values.field"));
    CUSTOS_ASSIGN_OR_RETURN(h.mac, r.Mac("hashed_values.mac"));
    e.hashed_values.push_back(std::move(h));
  }
  if (!r.Done()) {
    return r.Error("end",
                   std::to_string(data.size() - r.pos()) + " trailing bytes after the event");
  }
  return e;
}

}  // namespace custos::audit
