// Access modes per feature and compiled row filters (see feature_access.h).
#include "features/feature_access.h"

#include <cmath>

#include "policy/evaluator.h"

namespace custos::features {
namespace {

const policy::EntityUid& ActionUid(std::string_view name) {
  // One uid per action, made once (their hash is computed at construction).
  static const policy::EntityUid kRead("Action", "read");
  static const policy::EntityUid kPseudonymized("Action", "read_pseudonymized");
  static const policy::EntityUid kMasked("Action", "read_masked");
  static const policy::EntityUid kAggregate("Action", "read_aggregate");
  static const policy::EntityUid kReadRow("Action", "read_row");
  if (name == "read") return kRead;
  if (name == "read_pseudonymized") return kPseudonymized;
  if (name == "read_masked") return kMasked;
  if (name == "read_aggregate") return kAggregate;
  return kReadRow;
}

policy::Value TagsRecord(const catalog::Tags& tags) {
  std::vector<std::pair<std::string, policy::Value>> fields;
  fields.reserve(tags.size());
  for (const auto& [k, v] : tags) fields.emplace_back(k, policy::Value::String(v));
  return policy::Value::Record(std::move(fields));
}

std::optional<policy::Value> ScalarToCedar(const catalog::Scalar& s) {
  return std::visit(
      [](const auto& v) -> std::optional<policy::Value> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          return policy::Value(v);
        } else if constexpr (std::is_same_v<T, double>) {
          // Cedar's decimal has four fractional digits and an int64 range.
          if (!std::isfinite(v) || std::fabs(v) >= 9.2e14) return std::nullopt;
          return policy::Value(policy::Decimal{static_cast<int64_t>(std::llround(v * 10000))});
        } else if constexpr (std::is_same_v<T, std::string>) {
          return policy::Value::String(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          return policy::Value(v);
        } else {
          // Timestamp: micros -> datetime millis (floor, also before 1970).
          const int64_t ms = v.micros >= 0 ? v.micros / 1000 : -((-v.micros + 999) / 1000);
          return policy::Value(policy::Datetime{ms});
        }
      },
      s);
}

// Whether a scope constraint on the principal can match `principal`.
bool PrincipalScopeMatches(const policy::ScopeConstraint& scope, const policy::EntityUid& principal,
                           const policy::Entity* entity) {
  using Op = policy::ScopeConstraint::Op;
  const auto in = [&](const policy::EntityUid& target) {
    return principal == target || (entity != nullptr && entity->IsDescendantOf(target));
  };
  switch (scope.op) {
    case Op::kAny:
      return true;
    case Op::kEq:
      return !scope.entity.is_slot && principal == scope.entity.uid;
    case Op::kIn:
      return !scope.entity.is_slot && in(scope.entity.uid);
    case Op::kIs:
      return principal.type() == scope.entity_type;
    case Op::kIsIn:
      return principal.type() == scope.entity_type && !scope.entity.is_slot && in(scope.entity.uid);
    case Op::kInSet:
      return false;  // only for actions
  }
  return false;
}

bool ActionScopeAdmits(const policy::ScopeConstraint& scope, const policy::EntityUid& action) {
  using Op = policy::ScopeConstraint::Op;
  switch (scope.op) {
    case Op::kAny:
      return true;
    case Op::kEq:
    case Op::kIn:
      return scope.entity.uid == action;
    case Op::kInSet:
      for (const policy::EntityUid& uid : scope.entities) {
        if (uid == action) return true;
      }
      return false;
    case Op::kIs:
    case Op::kIsIn:
      return false;
  }
  return false;
}

}  // namespace

std::string_view AccessModeName(AccessMode mode) {
  switch (mode) {
    case AccessMode::kRaw:
      return "raw";
    case AccessMode::kPseudonymized:
      return "pseudonymized";
    case AccessMode::kMasked:
      return "masked";
    case AccessMode::kAggregateOnly:
      return "aggregate_only";
    case AccessMode::kDenied:
      return "denied";
  }
  return "denied";
}

policy::Value ContextRecord(const ReadContext& context) {
  return policy::Value::Record({
      {"purpose", policy::Value::String(context.purpose)},
      {"environment", policy::Value::String(context.environment)},
      {"zone", policy::Value::String(context.zone)},
      {"mfa", policy::Value(context.mfa)},
      {"now", policy::Value(context.now_seconds)},
      {"risk", policy::Value(context.risk)},
  });
}

policy::EntityUid FeatureUid(std::string_view view, std::string_view feature) {
  std::string id(view);
  id += '.';
  id += feature;
  return policy::EntityUid("Feature", id);
}

std::vector<policy::Entity> ViewEntities(const catalog::ResolvedView& view) {
  std::vector<policy::Entity> out;
  out.reserve(view.features.size() + 1);
  const policy::EntityUid view_uid("FeatureView", view.view.name);
  std::vector<policy::Value> owners;
  for (const policy::EntityUid& o : view.view.owners) owners.emplace_back(o);
  policy::Entity v;
  v.uid = view_uid;
  v.attrs = policy::Value::Record({
      {"classification",
       policy::Value::String(catalog::ClassificationName(view.view.classification))},
      {"tags", TagsRecord(view.view.tags)},
      {"owners", policy::Value::Set(std::move(owners))},
      {"version", policy::Value(static_cast<int64_t>(view.version.version))},
  });
  out.push_back(std::move(v));
  for (const catalog::Feature& f : view.features) {
    policy::Entity e;
    e.uid = FeatureUid(view.view.name, f.name);
    e.parents = {view_uid};
    e.attrs = policy::Value::Record({
        {"classification", policy::Value::String(catalog::ClassificationName(f.classification))},
        {"tags", TagsRecord(f.tags)},
        {"type", policy::Value::String(catalog::ValueTypeName(f.type))},
        {"view", policy::Value::String(view.view.name)},
    });
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<FeatureDecision> DecideFeatureAccess(const policy::PolicySet& policies,
                                                 const policy::EntityStore& entities,
                                                 const ReadContext& context,
                                                 const catalog::ResolvedView& view,
                                                 const std::vector<size_t>& features) {
  struct Step {
    std::string_view action;
    AccessMode mode;
  };
  static constexpr Step kSteps[] = {
      {"read", AccessMode::kRaw},
      {"read_pseudonymized", AccessMode::kPseudonymized},
      {"read_masked", AccessMode::kMasked},
      {"read_aggregate", AccessMode::kAggregateOnly},
  };
  std::vector<FeatureDecision> decisions;
  decisions.reserve(features.size());
  policy::Request request;
  request.principal = context.principal;
  request.context = ContextRecord(context);
  policy::Response response;
  for (size_t index : features) {
    FeatureDecision decision;
    decision.feature = index;
    const catalog::Feature& feature = view.features[index];
    request.resource = FeatureUid(view.view.name, feature.name);
    for (const Step& step : kSteps) {
      if (step.mode == AccessMode::kPseudonymized && context.purpose.empty()) continue;
      if (step.mode == AccessMode::kMasked && !feature.mask) continue;
      request.action = ActionUid(step.action);
      policies.IsAuthorized(request, entities, &response);
      for (const policy::PolicyError& e : response.errors) decision.errors.push_back(e.message);
      if (response.decision == policy::Decision::kAllow) {
        decision.mode = step.mode;
        for (std::string_view id : response.reasons) decision.reasons.emplace_back(id);
        break;
      }
    }
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

std::optional<policy::Value> ToCedarValue(const catalog::Value& value) {
  return std::visit(
      [](const auto& v) -> std::optional<policy::Value> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return std::nullopt;
        } else if constexpr (std::is_same_v<T, std::vector<catalog::Scalar>>) {
          std::vector<policy::Value> items;
          items.reserve(v.size());
          for (const catalog::Scalar& s : v) {
            if (auto c = ScalarToCedar(s)) items.push_back(std::move(*c));
          }
          return policy::Value::Set(std::move(items));
        } else {
          return ScalarToCedar(catalog::Scalar(v));
        }
      },
      value);
}

std::string EntityIdText(const std::vector<catalog::Value>& key_values) {
  std::string id;
  for (size_t i = 0; i < key_values.size(); ++i) {
    if (i > 0) id += '|';
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t>) {
            id += std::to_string(v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            id += v;
          } else if constexpr (std::is_same_v<T, bool>) {
            id += v ? "true" : "false";
          } else if constexpr (std::is_same_v<T, catalog::Timestamp>) {
            id += catalog::FormatTimestamp(v);
          } else if constexpr (std::is_same_v<T, double>) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", v);
            id += buf;
          }
        },
        key_values[i]);
  }
  return id;
}

RowFilter RowFilter::Compile(const policy::PolicySet& policies, const policy::EntityStore& entities,
                             const ReadContext& context, std::string entity_type,
                             std::vector<std::string> columns) {
  RowFilter filter;
  filter.entities_ = &entities;
  filter.entity_type_ = std::move(entity_type);
  filter.columns_ = std::move(columns);
  const policy::EntityUid& read_row = ActionUid("read_row");
  const policy::Entity* principal = entities.Find(context.principal);
  for (const policy::Policy& p : policies.policies()) {
    if (!ActionScopeAdmits(p.action, read_row)) continue;
    if (!PrincipalScopeMatches(p.principal, context.principal, principal)) continue;
    filter.candidates_.push_back(&p);
  }
  filter.request_.principal = context.principal;
  filter.request_.action = read_row;
  filter.request_.context = ContextRecord(context);
  return filter;
}

std::vector<std::string> RowFilter::PolicyIds() const {
  std::vector<std::string> ids;
  for (const policy::Policy* p : candidates_) ids.push_back(p->id);
  return ids;
}

bool RowFilter::Allows(std::string_view entity_id,
                       const std::vector<catalog::Value>& values) const {
  if (candidates_.empty()) return true;
  policy::Entity row;
  row.uid = policy::EntityUid(entity_type_, entity_id);
  std::vector<std::pair<std::string, policy::Value>> attrs;
  attrs.reserve(values.size());
  for (size_t i = 0; i < values.size() && i < columns_.size(); ++i) {
    if (auto v = ToCedarValue(values[i])) attrs.emplace_back(columns_[i], std::move(*v));
  }
  row.attrs = policy::Value::Record(std::move(attrs));
  policy::Request request = request_;
  request.resource = row.uid;
  policy::Evaluator evaluator(*entities_, request, &row);
  bool permitted = false;
  for (const policy::Policy* p : candidates_) {
    switch (evaluator.EvaluatePolicy(*p)) {
      case policy::Evaluator::Outcome::kError:
        return false;  // fail closed (see the header)
      case policy::Evaluator::Outcome::kTrue:
        if (p->effect == policy::Effect::kForbid) return false;
        permitted = true;
        break;
      case policy::Evaluator::Outcome::kFalse:
        break;
    }
  }
  return permitted;
}

}  // namespace custos::features
