// Secondary indexes of the audit log (see audit_index.h).
#include "audit/audit_index.h"

#include <algorithm>
#include <climits>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/key_encoding.h"
#include "crypto/hash.h"
#include "storage/encrypted_keyspace.h"

namespace custos::audit {
namespace {

constexpr size_t kMacBytes = 16;
constexpr size_t kMaxLimit = 1000;
// Postings examined per page before returning a partial page (bounds the work of a
// selective filter on top of a broad scan).
constexpr size_t kScanBudgetPerHit = 64;
// Event times in microseconds >> kBucketBits give the posting-list bucket (~65 ms).
constexpr int kBucketBits = 16;
constexpr size_t kPostingBytes = 16;

int64_t BucketOf(int64_t micros) { return micros >> kBucketBits; }  // floor, also < 0

struct Posting {
  int64_t time = 0;  // Unix microseconds
  uint64_t index = 0;
  friend auto operator<=>(const Posting&, const Posting&) = default;
};

void AppendPosting(std::string& out, const Posting& p) {
  out.append(common::KeyBuilder().AddInt64(p.time).AddUint64(p.index).key());
}

Result<Posting> ReadPosting(std::string_view data) {
  common::KeyReader reader(data);
  auto time = reader.ReadInt64();
  auto index = reader.ReadUint64();
  if (!time.ok() || !index.ok() || !reader.Done()) {
    return DataLossError("audit index posting is malformed");
  }
  return Posting{*time, *index};
}

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

IndexTerms IndexTerms::Of(const AuditEvent& event) {
  IndexTerms terms;
  terms.time_micros = common::ToUnixMicros(event.time);
  terms.principal = event.principal_id;
  terms.action = event.action;
  terms.decision = event.decision;
  terms.resources.reserve(event.resources.size());
  for (const ResourceRef& r : event.resources) terms.resources.push_back(r.type + "::" + r.id);
  return terms;
}

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

void AuditIndex::AddTo(storage::WriteBatch& batch, std::span<const IndexedEvent> events) const {
  // Names repeat across events (a few principals, actions and resources serve many
  // requests), so each is MACed once per call.
  std::unordered_map<std::string, std::string> macs;
  auto mac = [&](std::string_view field, const std::string& value) -> const std::string& {
    std::string cache_key(field);
    cache_key.push_back('\0');
    cache_key.append(value);
    auto it = macs.find(cache_key);
    if (it == macs.end()) it = macs.emplace(std::move(cache_key), Mac(field, value)).first;
    return it->second;
  };
  // Record key without <first> -> (first, postings). Events arrive in log order, so a
  // record's first posting has its smallest index. The map keeps records in key order.
  std::map<std::string, std::pair<uint64_t, std::string>> records;
  for (const IndexedEvent& item : events) {
    const IndexTerms& terms = *item.terms;
    const Posting posting{terms.time_micros, item.index};
    const int64_t bucket = BucketOf(posting.time);
    auto add = [&](common::KeyBuilder key) {
      auto [it, inserted] = records.try_emplace(key.AddInt64(bucket).Release());
      if (inserted) it->second.first = item.index;
      AppendPosting(it->second.second, posting);
    };
    add(common::KeyBuilder().AddString("i").AddString("p").AddString(mac("p", terms.principal)));
    add(common::KeyBuilder().AddString("i").AddString("a").AddString(mac("a", terms.action)));
    add(common::KeyBuilder().AddString("i").AddString("d").AddUint32(
        static_cast<uint32_t>(terms.decision)));
    add(common::KeyBuilder().AddString("i").AddString("t"));
    for (const std::string& resource : terms.resources) {
      add(common::KeyBuilder().AddString("i").AddString("r").AddString(mac("r", resource)));
    }
  }
  for (auto& [key, record] : records) {
    batch.Put(storage::Keyspace::kAudit,
              common::KeyBuilder().AddRaw(key).AddUint64(record.first).key(), record.second);
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
  const std::string& p = prefix.key();
  const int64_t from = query.from ? common::ToUnixMicros(*query.from) : INT64_MIN;
  const int64_t to = query.to ? common::ToUnixMicros(*query.to) : INT64_MAX;  // exclusive
  if (from >= to) return QueryPage{};

  // Resume strictly after the last posting the previous page examined.
  std::optional<Posting> after;
  if (!query.page_token.empty()) {
    auto token = common::HexDecode(query.page_token);
    std::string_view resume = token.ok() ? common::AsChars(*token) : std::string_view();
    auto posting = resume.size() == p.size() + kPostingBytes && resume.substr(0, p.size()) == p
                       ? ReadPosting(resume.substr(p.size()))
                       : Result<Posting>(InvalidArgumentError("no token"));
    if (!posting.ok()) {
      return InvalidArgumentError(
          "audit query: the page token does not belong to this query; repeat the query "
          "without --page-token");
    }
    after = *posting;
  }
  const int64_t first_bucket = BucketOf(std::max(from, after ? after->time : INT64_MIN));
  storage::ReadOptions options;
  options.lower_bound = common::KeyBuilder(prefix).AddInt64(first_bucket).Release();
  options.upper_bound = to == INT64_MAX
                            ? common::PrefixSuccessor(p)
                            : common::KeyBuilder(prefix).AddInt64(BucketOf(to - 1) + 1).Release();
  auto token_for = [&](const Posting& last) {
    std::string key = p;
    AppendPosting(key, last);
    return common::HexEncode(common::AsBytes(key));
  };

  QueryPage page;
  size_t budget = query.limit * kScanBudgetPerHit;
  auto it = kv_->NewIterator(storage::Keyspace::kAudit, options);
  it->Seek(options.lower_bound);
  std::vector<Posting> bucket;
  while (it->Valid()) {
    // Gather one bucket: every record sharing its key up to <first>.
    common::KeyReader key(it->key().substr(p.size()));
    auto bucket_id = key.ReadInt64();
    if (!bucket_id.ok()) return DataLossError("audit index record key is malformed");
    bucket.clear();
    for (; it->Valid(); it->Next()) {
      common::KeyReader next(it->key().substr(p.size()));
      auto next_bucket = next.ReadInt64();
      if (!next_bucket.ok() || !next.ReadUint64().ok() || !next.Done()) {
        return DataLossError("audit index record key is malformed");
      }
      if (*next_bucket != *bucket_id) break;
      std::string_view value = it->value();
      if (value.size() % kPostingBytes != 0) {
        return DataLossError("audit index record holds " + std::to_string(value.size()) +
                             " bytes, not whole postings");
      }
      for (size_t off = 0; off < value.size(); off += kPostingBytes) {
        CUSTOS_ASSIGN_OR_RETURN(Posting posting, ReadPosting(value.substr(off, kPostingBytes)));
        if (posting.time < from || posting.time >= to) continue;
        if (after && posting <= *after) continue;
        bucket.push_back(posting);
      }
    }
    CUSTOS_RETURN_IF_ERROR(it->status());
    std::sort(bucket.begin(), bucket.end());
    for (size_t i = 0; i < bucket.size(); ++i) {
      Result<AuditEvent> event = read(bucket[i].index);
      // NotFound: the event's segment was shredded; nothing of it can be shown.
      if (!event.ok() && event.status().code() != StatusCode::kNotFound) return event.status();
      if (event.ok() && Matches(query, *event)) {
        page.hits.push_back({bucket[i].index, std::move(*event)});
      }
      const bool more = i + 1 < bucket.size() || it->Valid();
      if ((page.hits.size() == query.limit || --budget == 0) && more) {
        page.next_page_token = token_for(bucket[i]);
        return page;
      }
      if (page.hits.size() == query.limit) return page;
    }
  }
  CUSTOS_RETURN_IF_ERROR(it->status());
  return page;
}

}  // namespace custos::audit
