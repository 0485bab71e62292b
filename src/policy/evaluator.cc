// Tree-walking evaluation over a policy's contiguous node pool. Errors are recorded in the
// evaluator (kind, position, detail) and reported as `false` from Eval, so the hot path
// carries no Status objects; messages are only formatted when a caller asks for them.
#include "policy/evaluator.h"

#include <algorithm>

#include "policy/extensions.h"

namespace custos::policy {

namespace {

Status ExtTypeError(ExtFn fn, std::string_view expected, const Value& got) {
  std::string msg = "`" + std::string(ExtFnName(fn)) + "` expects " + std::string(expected) +
                    ", got " + std::string(ValueKindName(got.kind()));
  if (got.is(ValueKind::kString) && expected != "string") {
    msg += "; maybe you forgot to apply a constructor such as ip(\"...\")?";
  }
  return InvalidArgumentError(msg);
}

}  // namespace

Result<Value> ApplyExtFn(ExtFn fn, const Value* args, size_t count) {
  if (static_cast<int>(count) != ExtFnArity(fn)) {
    return InvalidArgumentError("`" + std::string(ExtFnName(fn)) + "` takes " +
                                std::to_string(ExtFnArity(fn)) + " argument(s), got " +
                                std::to_string(count));
  }
  auto need = [&](size_t i, ValueKind kind, std::string_view name) -> Status {
    if (!args[i].is(kind)) return ExtTypeError(fn, name, args[i]);
    return Status::Ok();
  };
  switch (fn) {
    case ExtFn::kIp: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kString, "string"));
      CUSTOS_ASSIGN_OR_RETURN(IpAddr ip, ParseIpAddr(args[0].AsString()));
      return Value(ip);
    }
    case ExtFn::kDecimal: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kString, "string"));
      CUSTOS_ASSIGN_OR_RETURN(Decimal d, ParseDecimal(args[0].AsString()));
      return Value(d);
    }
    case ExtFn::kDatetime: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kString, "string"));
      CUSTOS_ASSIGN_OR_RETURN(Datetime d, ParseDatetime(args[0].AsString()));
      return Value(d);
    }
    case ExtFn::kDuration: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kString, "string"));
      CUSTOS_ASSIGN_OR_RETURN(Duration d, ParseDuration(args[0].AsString()));
      return Value(d);
    }
    case ExtFn::kIsIpv4:
    case ExtFn::kIsIpv6:
    case ExtFn::kIsLoopback:
    case ExtFn::kIsMulticast: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kIpAddr, "ipaddr"));
      const IpAddr& ip = args[0].AsIpAddr();
      if (fn == ExtFn::kIsIpv4) return Value(!ip.v6);
      if (fn == ExtFn::kIsIpv6) return Value(ip.v6);
      if (fn == ExtFn::kIsLoopback) return Value(IpIsLoopback(ip));
      return Value(IpIsMulticast(ip));
    }
    case ExtFn::kIsInRange: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kIpAddr, "ipaddr"));
      CUSTOS_RETURN_IF_ERROR(need(1, ValueKind::kIpAddr, "ipaddr"));
      return Value(IpIsInRange(args[0].AsIpAddr(), args[1].AsIpAddr()));
    }
    case ExtFn::kLessThan:
    case ExtFn::kLessThanOrEqual:
    case ExtFn::kGreaterThan:
    case ExtFn::kGreaterThanOrEqual: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kDecimal, "decimal"));
      CUSTOS_RETURN_IF_ERROR(need(1, ValueKind::kDecimal, "decimal"));
      int64_t a = args[0].AsDecimal().scaled, b = args[1].AsDecimal().scaled;
      if (fn == ExtFn::kLessThan) return Value(a < b);
      if (fn == ExtFn::kLessThanOrEqual) return Value(a <= b);
      if (fn == ExtFn::kGreaterThan) return Value(a > b);
      return Value(a >= b);
    }
    case ExtFn::kOffset: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kDatetime, "datetime"));
      CUSTOS_RETURN_IF_ERROR(need(1, ValueKind::kDuration, "duration"));
      auto r = DatetimeOffset(args[0].AsDatetime(), args[1].AsDuration());
      if (!r) return InvalidArgumentError("`offset` overflows the datetime range");
      return Value(*r);
    }
    case ExtFn::kDurationSince: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kDatetime, "datetime"));
      CUSTOS_RETURN_IF_ERROR(need(1, ValueKind::kDatetime, "datetime"));
      auto r = DatetimeDurationSince(args[0].AsDatetime(), args[1].AsDatetime());
      if (!r) return InvalidArgumentError("`durationSince` overflows the duration range");
      return Value(*r);
    }
    case ExtFn::kToDate: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kDatetime, "datetime"));
      auto r = DatetimeToDate(args[0].AsDatetime());
      if (!r) return InvalidArgumentError("`toDate` overflows the datetime range");
      return Value(*r);
    }
    case ExtFn::kToTime: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kDatetime, "datetime"));
      return Value(DatetimeToTime(args[0].AsDatetime()));
    }
    case ExtFn::kToDays:
    case ExtFn::kToHours:
    case ExtFn::kToMinutes:
    case ExtFn::kToSeconds:
    case ExtFn::kToMilliseconds: {
      CUSTOS_RETURN_IF_ERROR(need(0, ValueKind::kDuration, "duration"));
      int64_t ms = args[0].AsDuration().ms;
      switch (fn) {
        case ExtFn::kToDays:
          return Value(ms / 86400000);
        case ExtFn::kToHours:
          return Value(ms / 3600000);
        case ExtFn::kToMinutes:
          return Value(ms / 60000);
        case ExtFn::kToSeconds:
          return Value(ms / 1000);
        default:
          return Value(ms);
      }
    }
  }
  return InternalError("unknown extension function");
}

bool MatchesPattern(std::string_view text, const Pattern& pattern) {
  const size_t n = pattern.size();
  size_t t = 0, p = 0;
  size_t star_p = static_cast<size_t>(-1), star_t = 0;
  while (true) {
    if (p < n && pattern[p].wildcard) {
      star_p = p;
      star_t = t;
      ++p;
      continue;
    }
    if (p < n) {
      const std::string& lit = pattern[p].literal;
      if (text.size() - t >= lit.size() && text.compare(t, lit.size(), lit) == 0) {
        t += lit.size();
        ++p;
        continue;
      }
    } else if (t == text.size()) {
      return true;
    }
    if (star_p == static_cast<size_t>(-1)) return false;
    if (++star_t > text.size()) return false;
    t = star_t;
    p = star_p + 1;
  }
}

Evaluator::Evaluator(const EntityStore& entities, const Request& request)
    : Evaluator(entities, request, entities.Find(request.resource)) {}

Evaluator::Evaluator(const EntityStore& entities, const Request& request, const Entity* resource)
    : entities_(entities),
      request_(request),
      principal_value_(request.principal),
      action_value_(request.action),
      resource_value_(request.resource),
      principal_entity_(entities.Find(request.principal)),
      action_entity_(entities.Find(request.action)),
      resource_entity_(resource) {}

const Entity* Evaluator::Lookup(const EntityUid& uid) const {
  // The request's own entities are looked up once per request.
  if (uid == request_.principal) return principal_entity_;
  if (uid == request_.resource) return resource_entity_;
  if (uid == request_.action) return action_entity_;
  return entities_.Find(uid);
}

bool Evaluator::InEntity(const EntityUid& uid, const EntityUid& target) const {
  if (uid == target) return true;
  const Entity* e = Lookup(uid);
  return e != nullptr && e->IsDescendantOf(target);
}

bool Evaluator::ScopeMatches(const Policy& policy) const {
  auto check = [&](const ScopeConstraint& sc, const EntityUid& uid) {
    switch (sc.op) {
      case ScopeConstraint::Op::kAny:
        return true;
      case ScopeConstraint::Op::kEq:
        return !sc.entity.is_slot && uid == sc.entity.uid;
      case ScopeConstraint::Op::kIn:
        return !sc.entity.is_slot && InEntity(uid, sc.entity.uid);
      case ScopeConstraint::Op::kIs:
        return uid.type() == sc.entity_type;
      case ScopeConstraint::Op::kIsIn:
        return !sc.entity.is_slot && uid.type() == sc.entity_type && InEntity(uid, sc.entity.uid);
      case ScopeConstraint::Op::kInSet:
        for (const auto& a : sc.entities) {
          if (InEntity(uid, a)) return true;
        }
        return false;
    }
    return false;
  };
  return check(policy.principal, request_.principal) && check(policy.action, request_.action) &&
         check(policy.resource, request_.resource);
}

Evaluator::Outcome Evaluator::EvaluatePolicy(const Policy& policy, std::string* error) {
  if (!ScopeMatches(policy)) return Outcome::kFalse;
  Value v;
  for (const Condition& c : policy.conditions) {
    if (!Eval(policy.pool, c.expr, &v)) {
      if (error) *error = ErrorMessage(policy);
      return Outcome::kError;
    }
    if (!v.is(ValueKind::kBool)) {
      TypeError(policy.pool.node(c.expr), "bool", v);
      if (error) *error = ErrorMessage(policy);
      return Outcome::kError;
    }
    if (v.AsBool() != c.is_when) return Outcome::kFalse;
  }
  return Outcome::kTrue;
}

Result<Value> Evaluator::EvaluateExpr(const Policy& policy, uint32_t node) {
  Value v;
  if (!Eval(policy.pool, node, &v)) return InvalidArgumentError(ErrorMessage(policy));
  return v;
}

std::string Evaluator::ErrorMessage(const Policy& policy) const {
  std::string kind;
  switch (error_kind_) {
    case ErrorKind::kType:
      kind = "type error";
      break;
    case ErrorKind::kOverflow:
      kind = "integer overflow";
      break;
    case ErrorKind::kMissingAttribute:
      kind = "missing attribute";
      break;
    case ErrorKind::kMissingEntity:
      kind = "entity does not exist";
      break;
    case ErrorKind::kMissingTag:
      kind = "missing tag";
      break;
    case ErrorKind::kExtension:
      kind = "extension function error";
      break;
  }
  return policy.filename + ":" + std::to_string(error_loc_.line) + ":" +
         std::to_string(error_loc_.column) + ": policy `" + policy.id + "`: " + kind + ": " +
         error_detail_;
}

bool Evaluator::Fail(ErrorKind kind, const ExprNode& node, std::string detail) {
  error_kind_ = kind;
  error_loc_ = node.loc;
  error_detail_ = std::move(detail);
  return false;
}

bool Evaluator::TypeError(const ExprNode& node, std::string_view expected, const Value& got) {
  return Fail(
      ErrorKind::kType, node,
      "expected " + std::string(expected) + ", got " + std::string(ValueKindName(got.kind())));
}

bool Evaluator::Eval(const ExprPool& pool, uint32_t index, Value* out) {
  const ExprNode& n = pool.nodes[index];
  switch (n.kind) {
    case ExprKind::kLiteral:
      *out = pool.literals[n.data];
      return true;
    case ExprKind::kVar:
      switch (n.var) {
        case Var::kPrincipal:
          *out = principal_value_;
          break;
        case Var::kAction:
          *out = action_value_;
          break;
        case Var::kResource:
          *out = resource_value_;
          break;
        case Var::kContext:
          *out = request_.context;
          break;
      }
      return true;
    case ExprKind::kSlot:
      return Fail(ErrorKind::kType, n, "template slot in an expression");
    case ExprKind::kIf: {
      Value c;
      if (!Eval(pool, n.a, &c)) return false;
      if (!c.is(ValueKind::kBool)) return TypeError(n, "bool", c);
      return Eval(pool, c.AsBool() ? n.b : n.c, out);
    }
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      Value l;
      if (!Eval(pool, n.a, &l)) return false;
      if (!l.is(ValueKind::kBool)) return TypeError(n, "bool", l);
      bool short_value = n.kind == ExprKind::kOr;
      if (l.AsBool() == short_value) {
        *out = Value(short_value);
        return true;
      }
      Value r;
      if (!Eval(pool, n.b, &r)) return false;
      if (!r.is(ValueKind::kBool)) return TypeError(n, "bool", r);
      *out = Value(r.AsBool());
      return true;
    }
    case ExprKind::kNot: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      if (!v.is(ValueKind::kBool)) return TypeError(n, "bool", v);
      *out = Value(!v.AsBool());
      return true;
    }
    case ExprKind::kNeg: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      if (!v.is(ValueKind::kLong)) return TypeError(n, "long", v);
      int64_t r;
      if (__builtin_sub_overflow(int64_t{0}, v.AsLong(), &r)) {
        return Fail(ErrorKind::kOverflow, n, "negation of " + std::to_string(v.AsLong()));
      }
      *out = Value(r);
      return true;
    }
    case ExprKind::kEq:
    case ExprKind::kNe: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      bool eq = l == r;
      *out = Value(n.kind == ExprKind::kEq ? eq : !eq);
      return true;
    }
    case ExprKind::kLt:
    case ExprKind::kLe:
    case ExprKind::kGt:
    case ExprKind::kGe: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      std::strong_ordering c = std::strong_ordering::equal;
      if (l.is(ValueKind::kLong) && r.is(ValueKind::kLong)) {
        c = l.AsLong() <=> r.AsLong();
      } else if (l.is(ValueKind::kDatetime) && r.is(ValueKind::kDatetime)) {
        c = l.AsDatetime().ms <=> r.AsDatetime().ms;
      } else if (l.is(ValueKind::kDuration) && r.is(ValueKind::kDuration)) {
        c = l.AsDuration().ms <=> r.AsDuration().ms;
      } else {
        const Value& bad =
            (l.is(ValueKind::kLong) || l.is(ValueKind::kDatetime) || l.is(ValueKind::kDuration))
                ? r
                : l;
        return TypeError(n, "long, datetime or duration (both the same)", bad);
      }
      bool res = false;
      switch (n.kind) {
        case ExprKind::kLt:
          res = c < 0;
          break;
        case ExprKind::kLe:
          res = c <= 0;
          break;
        case ExprKind::kGt:
          res = c > 0;
          break;
        default:
          res = c >= 0;
          break;
      }
      *out = Value(res);
      return true;
    }
    case ExprKind::kAdd:
    case ExprKind::kSub:
    case ExprKind::kMul: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      if (!l.is(ValueKind::kLong)) return TypeError(n, "long", l);
      if (!r.is(ValueKind::kLong)) return TypeError(n, "long", r);
      int64_t a = l.AsLong(), b = r.AsLong(), res;
      bool overflow = n.kind == ExprKind::kAdd   ? __builtin_add_overflow(a, b, &res)
                      : n.kind == ExprKind::kSub ? __builtin_sub_overflow(a, b, &res)
                                                 : __builtin_mul_overflow(a, b, &res);
      if (overflow) {
        const char* op = n.kind == ExprKind::kAdd   ? " + "
                         : n.kind == ExprKind::kSub ? " - "
                                                    : " * ";
        return Fail(ErrorKind::kOverflow, n, std::to_string(a) + op + std::to_string(b));
      }
      *out = Value(res);
      return true;
    }
    case ExprKind::kIn: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      if (!l.is(ValueKind::kEntity)) return TypeError(n, "entity", l);
      const EntityUid& uid = l.AsEntity();
      if (r.is(ValueKind::kEntity)) {
        *out = Value(InEntity(uid, r.AsEntity()));
        return true;
      }
      if (!r.is(ValueKind::kSet)) return TypeError(n, "entity or set of entities", r);
      const auto& elems = r.AsSet().elements;
      for (const Value& e : elems) {
        if (!e.is(ValueKind::kEntity)) return TypeError(n, "set of entities", e);
      }
      const Entity* entity = Lookup(uid);
      bool found = false;
      for (const Value& e : elems) {
        const EntityUid& target = e.AsEntity();
        if (target == uid || (entity != nullptr && entity->IsDescendantOf(target))) {
          found = true;
          break;
        }
      }
      *out = Value(found);
      return true;
    }
    case ExprKind::kContains: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      if (!l.is(ValueKind::kSet)) return TypeError(n, "set", l);
      *out = Value(l.AsSet().Contains(r));
      return true;
    }
    case ExprKind::kContainsAll:
    case ExprKind::kContainsAny: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      if (!l.is(ValueKind::kSet)) return TypeError(n, "set", l);
      if (!r.is(ValueKind::kSet)) return TypeError(n, "set", r);
      const SetData& ls = l.AsSet();
      const auto& re = r.AsSet().elements;
      bool res;
      if (n.kind == ExprKind::kContainsAll) {
        res = std::all_of(re.begin(), re.end(), [&](const Value& v) { return ls.Contains(v); });
      } else {
        res = std::any_of(re.begin(), re.end(), [&](const Value& v) { return ls.Contains(v); });
      }
      *out = Value(res);
      return true;
    }
    case ExprKind::kIsEmpty: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      if (!v.is(ValueKind::kSet)) return TypeError(n, "set", v);
      *out = Value(v.AsSet().elements.empty());
      return true;
    }
    case ExprKind::kGetTag:
    case ExprKind::kHasTag: {
      Value l, r;
      if (!Eval(pool, n.a, &l) || !Eval(pool, n.b, &r)) return false;
      if (!l.is(ValueKind::kEntity)) return TypeError(n, "entity", l);
      if (!r.is(ValueKind::kString)) return TypeError(n, "string", r);
      const Entity* e = Lookup(l.AsEntity());
      if (n.kind == ExprKind::kHasTag) {
        *out = Value(e != nullptr && e->tags.AsRecord().Find(r.AsString()) != nullptr);
        return true;
      }
      if (e == nullptr) return Fail(ErrorKind::kMissingEntity, n, l.AsEntity().ToString());
      const Value* tag = e->tags.AsRecord().Find(r.AsString());
      if (tag == nullptr) {
        return Fail(ErrorKind::kMissingTag, n,
                    l.AsEntity().ToString() + " has no tag `" + r.AsString() + "`");
      }
      *out = *tag;
      return true;
    }
    case ExprKind::kGetAttr: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      const std::string& attr = pool.strings[n.data];
      const RecordData* rec;
      if (v.is(ValueKind::kRecord)) {
        rec = &v.AsRecord();
      } else if (v.is(ValueKind::kEntity)) {
        const Entity* e = Lookup(v.AsEntity());
        if (e == nullptr) {
          return Fail(ErrorKind::kMissingEntity, n,
                      v.AsEntity().ToString() + " (reading attribute `" + attr + "`)");
        }
        rec = &e->attrs.AsRecord();
      } else {
        return TypeError(n, "entity or record", v);
      }
      const Value* field = rec->Find(attr);
      if (field == nullptr) {
        return Fail(ErrorKind::kMissingAttribute, n,
                    "`" + attr + "` is not present; guard it with `has`");
      }
      Value copy = *field;  // `v` may own `rec`
      *out = std::move(copy);
      return true;
    }
    case ExprKind::kHas: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      const std::string& attr = pool.strings[n.data];
      if (v.is(ValueKind::kRecord)) {
        *out = Value(v.AsRecord().Find(attr) != nullptr);
      } else if (v.is(ValueKind::kEntity)) {
        const Entity* e = Lookup(v.AsEntity());
        *out = Value(e != nullptr && e->attrs.AsRecord().Find(attr) != nullptr);
      } else {
        return TypeError(n, "entity or record", v);
      }
      return true;
    }
    case ExprKind::kLike: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      if (!v.is(ValueKind::kString)) return TypeError(n, "string", v);
      *out = Value(MatchesPattern(v.AsString(), pool.patterns[n.data]));
      return true;
    }
    case ExprKind::kIs: {
      Value v;
      if (!Eval(pool, n.a, &v)) return false;
      if (!v.is(ValueKind::kEntity)) return TypeError(n, "entity", v);
      bool is_type = v.AsEntity().type() == pool.strings[n.data];
      if (!is_type || n.b == kNoChild) {
        *out = Value(is_type);
        return true;
      }
      // `e is T in x` is `e is T && e in x`.
      Value r;
      if (!Eval(pool, n.b, &r)) return false;
      const EntityUid& uid = v.AsEntity();
      if (r.is(ValueKind::kEntity)) {
        *out = Value(InEntity(uid, r.AsEntity()));
        return true;
      }
      if (!r.is(ValueKind::kSet)) return TypeError(n, "entity or set of entities", r);
      for (const Value& e : r.AsSet().elements) {
        if (!e.is(ValueKind::kEntity)) return TypeError(n, "set of entities", e);
      }
      bool found = false;
      for (const Value& e : r.AsSet().elements) {
        if (InEntity(uid, e.AsEntity())) {
          found = true;
          break;
        }
      }
      *out = Value(found);
      return true;
    }
    case ExprKind::kSet: {
      std::vector<Value> items(n.count);
      for (uint32_t i = 0; i < n.count; ++i) {
        if (!Eval(pool, pool.child(n, i), &items[i])) return false;
      }
      *out = Value::Set(std::move(items));
      return true;
    }
    case ExprKind::kRecord: {
      std::vector<std::pair<std::string, Value>> fields(n.count);
      for (uint32_t i = 0; i < n.count; ++i) {
        fields[i].first = pool.strings[n.data + i];
        if (!Eval(pool, pool.child(n, i), &fields[i].second)) return false;
      }
      *out = Value::Record(std::move(fields));
      return true;
    }
    case ExprKind::kExtCall: {
      Value args[2];
      Value extra;
      for (uint32_t i = 0; i < n.count; ++i) {
        if (!Eval(pool, pool.child(n, i), i < 2 ? &args[i] : &extra)) return false;
      }
      if (static_cast<int>(n.count) != ExtFnArity(n.fn)) {
        return Fail(ErrorKind::kExtension, n,
                    "`" + std::string(ExtFnName(n.fn)) + "` takes " +
                        std::to_string(ExtFnArity(n.fn)) +
                        " argument(s) including the "
                        "receiver, got " +
                        std::to_string(n.count));
      }
      auto r = ApplyExtFn(n.fn, args, n.count);
      if (!r.ok()) return Fail(ErrorKind::kExtension, n, r.status().message());
      *out = std::move(r).value();
      return true;
    }
  }
  return Fail(ErrorKind::kType, n, "unknown expression");
}

}  // namespace custos::policy
