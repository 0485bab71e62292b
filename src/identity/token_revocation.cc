// Revoked access tokens: storage, the in-memory mirror and the revocation epoch.
#include "identity/token_revocation.h"

#include <mutex>
#include <vector>

#include "common/key_encoding.h"

namespace custos::identity {
namespace {

constexpr std::string_view kTokenTag = "token-revoked-jti";
constexpr std::string_view kSubjectTag = "token-revoked-sub";

std::string RecordKey(std::string_view tag, std::string_view id) {
  return common::KeyBuilder().AddString(tag).AddString(id).Release();
}

std::string EncodeTime(common::TimePoint t) {
  return common::KeyBuilder().AddInt64(common::ToUnixMicros(t)).Release();
}

Result<common::TimePoint> DecodeTime(std::string_view value) {
  common::KeyReader reader(value);
  CUSTOS_ASSIGN_OR_RETURN(int64_t micros, reader.ReadInt64());
  if (!reader.Done()) return DataLossError("trailing bytes");
  return common::FromUnixMicros(micros);
}

}  // namespace

Result<std::unique_ptr<TokenRevocationList>> TokenRevocationList::Load(storage::Kv& kv) {
  std::unique_ptr<TokenRevocationList> list(new TokenRevocationList(kv));
  for (auto [tag, map] :
       {std::pair{kTokenTag, &list->tokens_}, std::pair{kSubjectTag, &list->subjects_}}) {
    const std::string prefix = common::KeyBuilder().AddString(tag).Release();
    CUSTOS_RETURN_IF_ERROR(kv.ScanPrefix(
        storage::Keyspace::kIdentity, prefix,
        [&, tag = tag, map = map](std::string_view key, std::string_view value) -> Status {
          common::KeyReader reader(key);
          (void)reader.ReadString();
          auto id = reader.ReadString();
          auto time = DecodeTime(value);
          if (!id.ok() || !reader.Done() || !time.ok()) {
            return DataLossError("identity keyspace: malformed " + std::string(tag) +
                                 " record; restore the data directory from a backup");
          }
          (*map)[*id] = *time;
          return Status::Ok();
        }));
  }
  return list;
}

Status TokenRevocationList::RevokeToken(std::string_view token_id, common::TimePoint expires_at) {
  if (token_id.empty()) return InvalidArgumentError("revoke token: the token id is empty");
  std::unique_lock lock(mu_);
  CUSTOS_RETURN_IF_ERROR(kv_.Put(storage::Keyspace::kIdentity, RecordKey(kTokenTag, token_id),
                                 EncodeTime(expires_at)));
  tokens_[std::string(token_id)] = expires_at;
  // Published only once durable and visible: a verifier that sees the new epoch finds
  // the entry (the lock orders the map write before the epoch).
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Status TokenRevocationList::RevokeSubject(std::string_view subject, common::TimePoint cutoff) {
  if (subject.empty()) return InvalidArgumentError("revoke principal: the principal uid is empty");
  std::unique_lock lock(mu_);
  auto it = subjects_.find(std::string(subject));
  if (it != subjects_.end() && it->second >= cutoff) return Status::Ok();
  CUSTOS_RETURN_IF_ERROR(
      kv_.Put(storage::Keyspace::kIdentity, RecordKey(kSubjectTag, subject), EncodeTime(cutoff)));
  subjects_[std::string(subject)] = cutoff;
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

std::optional<std::string> TokenRevocationList::IsRevoked(const TokenClaims& claims) const {
  std::shared_lock lock(mu_);
  if (tokens_.contains(claims.token_id)) return "token " + claims.token_id + " was revoked";
  auto it = subjects_.find(claims.subject);
  if (it != subjects_.end() && claims.issued_at <= it->second) {
    return "every token of " + claims.subject + " issued at or before " +
           common::FormatRfc3339(it->second) + " was revoked";
  }
  return std::nullopt;
}

Result<size_t> TokenRevocationList::PurgeExpired(common::TimePoint now) {
  std::unique_lock lock(mu_);
  storage::WriteBatch batch;
  std::vector<std::string> gone;
  for (const auto& [id, exp] : tokens_) {
    if (exp < now) {
      batch.Delete(storage::Keyspace::kIdentity, RecordKey(kTokenTag, id));
      gone.push_back(id);
    }
  }
  if (gone.empty()) return size_t{0};
  CUSTOS_RETURN_IF_ERROR(kv_.Write(batch));
  for (const auto& id : gone) tokens_.erase(id);
  return gone.size();
}

size_t TokenRevocationList::revoked_token_count() const {
  std::shared_lock lock(mu_);
  return tokens_.size();
}

}  // namespace custos::identity
