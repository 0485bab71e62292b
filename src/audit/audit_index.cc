// Secondary indexes of the audit log (see audit_index.h).
#include "audit/audit_index.h"

#include <algorithm>
#include <climits>
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
  // This runs for every event of the log, so it avoids per-event allocations: names
  // repeat across events (a few principals, actions and resources serve many requests),
  // so each distinct name's key prefix ("i" <kind> <mac>) is built, and MACed, once per
  // call; a record is found by (prefix, bucket) through the prefix's stable address,
  // and postings are appended as raw bytes.
  using PrefixCache = std::unordered_map<std::string, std::string>;
  PrefixCache principals, actions, resources;
  auto named_prefix = [&](PrefixCache& cache, std::string_view field,
                          const std::string& value) -> const std::string* {
    auto it = cache.find(value);
    if (it == cache.end()) {
      it = cache
               .emplace(value, common::KeyBuilder()
                                   .AddString("i")
                                   .AddString(field)
                                   .AddString(Mac(field, value))
                                   .Release())
               .first;
    }
    return &it->second;
  };
  std::unordered_map<uint32_t, std::string> decisions;
  auto decision_prefix = [&](Decision decision) -> const std::string* {
    const auto value = static_cast<uint32_t>(decision);
    auto it = decisions.find(value);
    if (it == decisions.end()) {
      it = decisions
               .emplace(
                   value,
                   common::KeyBuilder().AddString("i").AddString("d").AddUint32(value).Release())
               .first;
    }
    return &it->second;
  };
  const std::string time_prefix = common::KeyBuilder().AddString("i").AddString("t").Release();

  // One record per (prefix, bucket). Events arrive in log order, so a record's first
  // posting has its smallest index.
  struct Record {
    const std::string* prefix;
    int64_t bucket;
    uint64_t first;
    std::string postings;
  };
  struct RecordId {
    const std::string* prefix;
    int64_t bucket;
    bool operator==(const RecordId&) const = default;
  };
  struct RecordIdHash {
    size_t operator()(const RecordId& id) const {
      return std::hash<const void*>()(id.prefix) ^
             (static_cast<size_t>(id.bucket) * 0x9e3779b97f4a7c15ull);
    }
  };
  std::vector<Record> records;
  std::unordered_map<RecordId, size_t, RecordIdHash> slots;
  // First pass: each event's records (in `of_event`, five or more per event) and their
  // sizes, so that the second pass appends postings without growing any string.
  std::vector<uint32_t> of_event;
  of_event.reserve(events.size() * 5);
  std::vector<size_t> counts;
  for (const IndexedEvent& item : events) {
    const IndexTerms& terms = *item.terms;
    const int64_t bucket = BucketOf(terms.time_micros);
    auto add = [&](const std::string* prefix) {
      auto [it, inserted] = slots.try_emplace(RecordId{prefix, bucket}, records.size());
      if (inserted) {
        records.push_back({prefix, bucket, item.index, {}});
        counts.push_back(0);
      }
      ++counts[it->second];
      of_event.push_back(static_cast<uint32_t>(it->second));
    };
    add(named_prefix(principals, "p", terms.principal));
    add(named_prefix(actions, "a", terms.action));
    add(decision_prefix(terms.decision));
    add(&time_prefix);
    for (const std::string& resource : terms.resources) {
      add(named_prefix(resources, "r", resource));
    }
  }
  for (size_t i = 0; i < records.size(); ++i)
    records[i].postings.reserve(counts[i] * kPostingBytes);
  size_t next = 0;
  for (const IndexedEvent& item : events) {
    // The posting as AppendPosting encodes it: time (sign bit flipped) and index, both
    // big-endian.
    char posting[kPostingBytes];
    const uint64_t time_bits = static_cast<uint64_t>(item.terms->time_micros) ^ (uint64_t{1} << 63);
    for (int i = 0; i < 8; ++i) {
      posting[i] = static_cast<char>(time_bits >> (56 - 8 * i));
      posting[8 + i] = static_cast<char>(item.index >> (56 - 8 * i));
    }
    const size_t terms = 4 + item.terms->resources.size();
    for (size_t t = 0; t < terms; ++t) {
      records[of_event[next++]].postings.append(posting, kPostingBytes);
    }
  }
  // Key order makes the storage write cheaper.
  std::vector<std::pair<std::string, size_t>> keys;
  keys.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    keys.emplace_back(
        common::KeyBuilder().AddRaw(*r.prefix).AddInt64(r.bucket).AddUint64(r.first).Release(), i);
  }
  std::sort(keys.begin(), keys.end());
  for (auto& [key, i] : keys) {
    batch.PutOwned(storage::Keyspace::kAudit, std::move(key), std::move(records[i].postings));
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
