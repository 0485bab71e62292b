// Secondary indexes of the audit log, so that events can be found by principal,
// resource, action, decision and time range without scanning the log. Each index is a
// set of posting lists, one record per indexed name, time bucket and indexer write:
//
//   i p <mac(principal)> <bucket> <first>     i a <mac(action)> <bucket> <first>
//   i r <mac(type::id)>  <bucket> <first>     i d <decision> <bucket> <first>
//   i t <bucket> <first>
//
// where <bucket> is the event time in microseconds >> 16 (about 65 ms), <first> the
// smallest log index in the record, and the value the record's postings: (time, index)
// pairs, 16 bytes each. A busy log thus writes a few hundred index records per
// thousands of events rather than five per event, and a time range maps to a key range.
// Queries merge a bucket's records and return hits in time order, then index order.
//
// Names are stored as HMAC-SHA256 (first 16 bytes) under an index key that is sealed in
// the keyring (owner "audit-index-key"), so the keyspace never holds a principal or
// resource name in clear; querying needs the unsealed data directory anyway (events are
// encrypted). The records are derived from the log and written behind it by the
// AuditIndexer (indexer.h).
// Thread-safety: an AuditIndex is immutable after Open and safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
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

// What the indexes need of an event: a small copy, so that events waiting for the
// indexer cost little memory.
struct IndexTerms {
  int64_t time_micros = 0;
  std::string principal;
  std::string action;
  Decision decision = Decision::kDeny;
  std::vector<std::string> resources;  // "Type::id"
  static IndexTerms Of(const AuditEvent& event);
};

// An event's index terms and its index in the log.
struct IndexedEvent {
  uint64_t index = 0;
  const IndexTerms* terms = nullptr;
};

class AuditIndex {
 public:
  // Loads (creating on first use) the index key.
  static Result<AuditIndex> Open(storage::Kv& kv, crypto::Keyring& keyring);

  // Adds the index records of `events` to `batch`, in key order (which makes the
  // storage write cheaper). Each distinct name is MACed once per call.
  void AddTo(storage::WriteBatch& batch, std::span<const IndexedEvent> events) const;

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
