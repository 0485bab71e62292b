// Secondary indexes of the audit log (see audit_index.h).
#include "audit/audit_index.h"

#include "common/key_encoding.h"
#include "crypto/hash.h"
#include "storage/encrypted_keyspace.h"

namespace custos::audit {
namespace {

constexpr size_t kMacBytes = 16;
constexpr size_t kMaxLimit = 1000;
// Index records examined per page before returning a partial page (bounds the work of
// a selective filter on top of a broad scan).
constexpr size_t kScanBudgetPerHit = 64;

std::string IndexKeyKey() {
  return common::KeyBuilder().AddString("k").AddString("index-key").Release();
}

bool Matches(const EventQuery& q, const AuditEvent& e) {
  if (q.principal && e.principal_id != *q.principal) return false;
  if (q.action && e.action != *q.action) return false;
  if (q.decision && e.decision != *q.decision) return false;
  if (q.resource) {
    bool found = false;
    for (const ResourceRef& r : e.resources) found = found || (r.type + "::" + r.id) == *q.resource;
    if (!found) return false;
  }
  if (q.from && e.time < *q.from) return false;
  if (q.to && e.time >= *q.to) return false;
  return true;
}

}  // namespace

Result<AuditIndex> AuditIndex::Open(storage::Kv& kv, crypto::Keyring& keyring) {
  CUSTOS_ASSIGN_OR_RETURN(auto space, storage::EncryptedKeyspace::Open(
                                          kv, storage::Keyspace::kAudit, keyring, kIndexKeyOwner));
  CUSTOS_ASSIGN_OR_RETURN(auto stored, space.Get(IndexKeyKey()));
  if (stored) {
    crypto::SecretBytes key = crypto::SecretBytes::CopyOf(common::AsBytes(*stored));
    crypto::Zeroize(std::span<uint8_t>(reinterpret_cast<uint8_t*>(stored->data()), stored->size()));
    return AuditIndex(kv, std::move(key));
  }
  crypto::SecretBytes key = crypto::SecretBytes::Random(32);
  CUSTOS_RETURN_IF_ERROR(space.Put(IndexKeyKey(), common::AsChars(key.span())));
  return AuditIndex(kv, std::move(key));
}

std::string AuditIndex::Mac(std::string_view field, std::string_view value) const {
  std::string message(field);
  message.push_back('\0');
  message.append(value);
  crypto::Digest mac = crypto::HmacSha256(key_.span(), common::AsBytes(message));
  return std::string(reinterpret_cast<const char*>(mac.data()), kMacBytes);
}

void AuditIndex::AddTo(storage::WriteBatch& batch, const AuditEvent& event, uint64_t index) const {
  const int64_t ts = common::ToUnixMicros(event.time);
  auto put = [&](common::KeyBuilder key) {
    key.AddInt64(ts).AddUint64(index);
    batch.Put(storage::Keyspace::kAudit, key.key(), "");
  };
  put(common::KeyBuilder().AddString("i").AddString("p").AddString(Mac("p", event.principal_id)));
  put(common::KeyBuilder().AddString("i").AddString("a").AddString(Mac("a", event.action)));
  put(common::KeyBuilder().AddString("i").AddString("d").AddUint32(
      static_cast<uint32_t>(event.decision)));
  put(common::KeyBuilder().AddString("i").AddString("t"));
  for (const ResourceRef& r : event.resources) {
    put(common::KeyBuilder().AddString("i").AddString("r").AddString(
        Mac("r", r.type + "::" + r.id)));
  }
}

Result<QueryPage> AuditIndex::Query(const EventQuery& query,
                                    const std::function<Result<AuditEvent>(uint64_t)>& read) const {
  if (query.limit == 0 || query.limit > kMaxLimit) {
    return InvalidArgumentError("audit query limit must be 1.." + std::to_string(kMaxLimit) +
                                ", got " + std::to_string(query.limit));
  }
  common::KeyBuilder prefix;
  prefix.AddString("i");
  if (query.principal) {
    prefix.AddString("p").AddString(Mac("p", *query.principal));
  } else if (query.resource) {
    prefix.AddString("r").AddString(Mac("r", *query.resource));
  } else if (query.action) {
    prefix.AddString("a").AddString(Mac("a", *query.action));
  } else if (query.decision) {
    prefix.AddString("d").AddUint32(static_cast<uint32_t>(*query.decision));
  } else {
    prefix.AddString("t");
  }
  storage::ReadOptions options;
  options.lower_bound = prefix.key();
  options.upper_bound = common::PrefixSuccessor(prefix.key());
  if (query.from) {
    options.lower_bound =
        common::KeyBuilder(prefix).AddInt64(common::ToUnixMicros(*query.from)).Release();
  }
  if (query.to) {
    options.upper_bound =
        common::KeyBuilder(prefix).AddInt64(common::ToUnixMicros(*query.to)).Release();
  }
  std::string start = options.lower_bound;
  if (!query.page_token.empty()) {
    auto token = common::HexDecode(query.page_token);
    std::string resume = token.ok() ? std::string(common::AsChars(*token)) : std::string();
    if (!token.ok() || resume.compare(0, prefix.key().size(), prefix.key()) != 0 ||
        resume < options.lower_bound) {
      return InvalidArgumentError(
          "audit query: the page token does not belong to this query; repeat the query "
          "without --page-token");
    }
    resume.push_back('\0');  // the smallest key after the last one returned
    start = std::move(resume);
  }
  QueryPage page;
  auto it = kv_->NewIterator(storage::Keyspace::kAudit, options);
  size_t budget = query.limit * kScanBudgetPerHit;
  std::string last_key;
  for (it->Seek(start); it->Valid(); it->Next()) {
    if (page.hits.size() == query.limit || budget-- == 0) {
      page.next_page_token = common::HexEncode(common::AsBytes(last_key));
      return page;
    }
    last_key = std::string(it->key());
    common::KeyReader key(it->key().substr(prefix.key().size()));
    auto ts = key.ReadInt64();
    auto index = key.ReadUint64();
    if (!ts.ok() || !index.ok()) {
      return DataLossError("audit index record is malformed; rebuild the index");
    }
    CUSTOS_ASSIGN_OR_RETURN(AuditEvent event, read(*index));
    if (Matches(query, event)) page.hits.push_back({*index, std::move(event)});
  }
  CUSTOS_RETURN_IF_ERROR(it->status());
  return page;
}

}  // namespace custos::audit
