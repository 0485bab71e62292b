// How policy decides what a principal may see of a feature view: an access mode per
// feature, and a row filter over the view's entities. This is the feature-read part of the
// pipeline's Authorize stage (DESIGN.md); handlers receive its answer and never ask the
// policy engine themselves.
//
// Access modes. For each feature, the Cedar request (principal, action,
// Feature::"<view>.<feature>", context) is asked for these actions in order, and the first
// one allowed sets the mode:
//   read                -> raw
//   read_pseudonymized  -> pseudonymized (HMAC per purpose; needs a non-empty purpose)
//   read_masked         -> masked (needs a mask rule on the feature, else skipped)
//   read_aggregate      -> aggregate-only (no row-level values)
//   none                -> denied (omitted; status DENIED)
// A `forbid` on `read` with a `permit` on `read_masked` therefore yields masked reads.
// Feature entities have the view as parent, so `resource in FeatureView::"v"` covers them;
// their attributes are classification, tags (a record), type and view.
//
// Row filters. Policies on action `read_row` limit which entities (rows) a principal sees.
// The filter is active for a request when at least one read_row policy's principal scope
// matches the principal; it is compiled once per request (the policies that can apply,
// the context record, the principal's entity) and applied to each row, whose resource
// entity is `<entity type>::"<key>"` with the row's join keys and features as attributes
// (timestamps as datetime, doubles as decimal, lists as sets). A row is visible when a
// permit applies and no forbid does; a policy that errors on a row hides the row (fail
// closed, stricter than Cedar's skip, since a skipped forbid would reveal it).
// Thread-safety: plain values and pure functions; a compiled RowFilter is immutable and may
// be shared by threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_store.h"
#include "features/offline_columns.h"
#include "policy/authorizer.h"
#include "policy/entities.h"

namespace custos::features {

enum class AccessMode : uint8_t { kRaw, kPseudonymized, kMasked, kAggregateOnly, kDenied };
// "raw", "pseudonymized", "masked", "aggregate_only", "denied".
std::string_view AccessModeName(AccessMode mode);

// Who reads, and why: the Cedar context of every decision of one request.
struct ReadContext {
  policy::EntityUid principal;
  std::string purpose;
  std::string environment;
  std::string zone;
  bool mfa = false;
  int64_t now_seconds = 0;  // Unix seconds (grants lapse against it)
  int64_t risk = 0;
};

// The context record: {purpose, environment, zone, mfa, now, risk}.
policy::Value ContextRecord(const ReadContext& context);

// The Cedar entities of a view version: FeatureView::"<view>" and one
// Feature::"<view>.<feature>" per feature of the version (parent: the view).
std::vector<policy::Entity> ViewEntities(const catalog::ResolvedView& view);
// Feature::"<view>.<feature>".
policy::EntityUid FeatureUid(std::string_view view, std::string_view feature);

struct FeatureDecision {
  size_t feature = 0;  // index in the version's features
  AccessMode mode = AccessMode::kDenied;
  std::vector<std::string> reasons;  // determining policy ids of the allowing decision
  std::vector<std::string> errors;   // policies skipped because they errored
};

// Decides the mode of each of `features` (indexes into view.features). `entities` must hold
// the principal (with its groups) and ViewEntities(view).
std::vector<FeatureDecision> DecideFeatureAccess(const policy::PolicySet& policies,
                                                 const policy::EntityStore& entities,
                                                 const ReadContext& context,
                                                 const catalog::ResolvedView& view,
                                                 const std::vector<size_t>& features);

class RowFilter {
 public:
  // Compiles the filter for rows of `entity_type` whose attributes are `columns` (join keys
  // then features, as they will be passed to Allows). `policies` and `entities` must
  // outlive the filter.
  static RowFilter Compile(const policy::PolicySet& policies, const policy::EntityStore& entities,
                           const ReadContext& context, std::string entity_type,
                           std::vector<std::string> columns);

  // False when no read_row policy applies to the principal: every row is visible.
  bool active() const { return !candidates_.empty(); }
  // Policy ids the filter evaluates (for the audit event).
  std::vector<std::string> PolicyIds() const;

  // Whether the row is visible. `entity_id` names the row's entity (its key text);
  // `values` are parallel to `columns`.
  bool Allows(std::string_view entity_id, const std::vector<catalog::Value>& values) const;

 private:
  RowFilter() = default;
  const policy::EntityStore* entities_ = nullptr;
  std::vector<const policy::Policy*> candidates_;
  std::string entity_type_;
  std::vector<std::string> columns_;
  policy::Request request_;
};

// A row's entity id: its join-key values as text, joined by "|" when there are several.
std::string EntityIdText(const std::vector<catalog::Value>& key_values);

// The Cedar value of a feature value (null: nullopt, the attribute is left out).
std::optional<policy::Value> ToCedarValue(const catalog::Value& value);

}  // namespace custos::features
