// Secondary indexes of the audit log, so that events can be found by principal,
// resource, action, decision and time range without scanning the log:
//
//   i p <mac(principal)> <time> <index>     i a <mac(action)> <time> <index>
//   i r <mac(type::id)>  <time> <index>     i d <decision> <time> <index>
//   i t <time> <index>
//
// Names are stored as HMAC-SHA256 (first 16 bytes) under an index key that is sealed in
// the keyring (owner "audit-index-key"), so the keyspace never holds a principal or
// resource name in clear; querying needs the unsealed data directory anyway (events are
// encrypted). Index records are written in the same batch as the entries they point at.
// Thread-safety: an AuditIndex is immutable after Open and safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/event.h"
#include "common/clock.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "crypto/secret.h"
#include "storage/kv.h"

namespace custos::audit {

inline constexpr std::string_view kIndexKeyOwner = "audit-index-key";

// At most one of principal/resource/action/decision drives the scan (in that order of
// preference); the others, and the time range, filter what it finds.
struct EventQuery {
  std::optional<std::string> principal;
  std::optional<std::string> resource;  // "Type::id", e.g. "FeatureView::fraud_v1"
  std::optional<std::string> action;
  std::optional<Decision> decision;
  std::optional<common::TimePoint> from;  // inclusive
  std::optional<common::TimePoint> to;    // exclusive
  // Most events per page (1..1000). Default 100.
  size_t limit = 100;
  // From a previous page's next_page_token; empty for the first page.
  std::string page_token;
};

struct QueryHit {
  uint64_t index = 0;
  AuditEvent event;
};

struct QueryPage {
  std::vector<QueryHit> hits;   // in time order, then index order
  std::string next_page_token;  // empty when there is nothing more
};

class AuditIndex {
 public:
  // Loads (creating on first use) the index key.
  static Result<AuditIndex> Open(storage::Kv& kv, crypto::Keyring& keyring);

  // Adds the index records of entry `index` to `batch`.
  void AddTo(storage::WriteBatch& batch, const AuditEvent& event, uint64_t index) const;

  // One page of matching events, read through `read` (which decrypts an entry).
  // InvalidArgument for a bad limit or a page token from another query.
  Result<QueryPage> Query(const EventQuery& query,
                          const std::function<Result<AuditEvent>(uint64_t)>& read) const;

 private:
  AuditIndex(storage::Kv& kv, crypto::SecretBytes key) : kv_(&kv), key_(std::move(key)) {}
  std::string Mac(std::string_view field, std::string_view value) const;

  storage::Kv* kv_;
  crypto::SecretBytes key_;
};

}  // namespace custos::audit
