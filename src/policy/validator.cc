// Strict validation of Cedar policies against a schema, following the typing rules of
// Cedar's specification (boolean singleton types, capabilities from `has`/`hasTag`,
// least upper bounds without width subtyping), plus request and entity conformance.
#include "policy/validator.h"

#include <algorithm>
#include <functional>
#include <optional>

#include "policy/extensions.h"

namespace custos::policy {
namespace validator_detail {

enum class BoolT : uint8_t { kAny, kTrue, kFalse };

struct Ty;
using TyPtr = std::shared_ptr<const Ty>;

struct TyAttr {
  TyPtr type;
  bool required = true;
};

// A type of the typechecker: Cedar's schema types plus the singleton boolean types
// `True` and `False` that make short-circuiting precise.
struct Ty {
  enum class K : uint8_t { kBool, kLong, kString, kEntity, kSet, kRecord, kExt };
  K k = K::kBool;
  BoolT b = BoolT::kAny;
  std::string entity;
  TyPtr elem;
  std::map<std::string, TyAttr, std::less<>> attrs;
  ExtensionType ext = ExtensionType::kIpAddr;
};

TyPtr MakeBool(BoolT b) {
  auto t = std::make_shared<Ty>();
  t->k = Ty::K::kBool;
  t->b = b;
  return t;
}
TyPtr MakeSimple(Ty::K k) {
  auto t = std::make_shared<Ty>();
  t->k = k;
  return t;
}
TyPtr MakeEntity(std::string_view name) {
  auto t = std::make_shared<Ty>();
  t->k = Ty::K::kEntity;
  t->entity = std::string(name);
  return t;
}
TyPtr MakeSet(TyPtr elem) {
  auto t = std::make_shared<Ty>();
  t->k = Ty::K::kSet;
  t->elem = std::move(elem);
  return t;
}
TyPtr MakeExt(ExtensionType e) {
  auto t = std::make_shared<Ty>();
  t->k = Ty::K::kExt;
  t->ext = e;
  return t;
}

void AppendTy(const Ty& t, std::string& out) {
  constexpr size_t kLimit = 400;  // messages stay short even for huge record types
  if (out.size() >= kLimit) {
    if (out.size() < kLimit + 3) out += "...";
    return;
  }
  switch (t.k) {
    case Ty::K::kBool:
      out += t.b == BoolT::kTrue ? "True" : t.b == BoolT::kFalse ? "False" : "Bool";
      return;
    case Ty::K::kLong:
      out += "Long";
      return;
    case Ty::K::kString:
      out += "String";
      return;
    case Ty::K::kEntity:
      out += t.entity;
      return;
    case Ty::K::kSet:
      out += "Set<";
      AppendTy(*t.elem, out);
      out += ">";
      return;
    case Ty::K::kRecord: {
      out += "{";
      bool first = true;
      for (const auto& [name, a] : t.attrs) {
        if (!first) out += ", ";
        first = false;
        out += name + (a.required ? ": " : "?: ");
        AppendTy(*a.type, out);
      }
      out += "}";
      return;
    }
    case Ty::K::kExt:
      out += ExtensionTypeName(t.ext);
      return;
  }
}

std::string TyString(const Ty& t) {
  std::string out;
  AppendTy(t, out);
  return out;
}

bool TyEq(const Ty& a, const Ty& b) {
  if (&a == &b) return true;
  if (a.k != b.k) return false;
  switch (a.k) {
    case Ty::K::kBool:
      return a.b == b.b;
    case Ty::K::kLong:
    case Ty::K::kString:
      return true;
    case Ty::K::kEntity:
      return a.entity == b.entity;
    case Ty::K::kExt:
      return a.ext == b.ext;
    case Ty::K::kSet:
      return TyEq(*a.elem, *b.elem);
    case Ty::K::kRecord: {
      if (a.attrs.size() != b.attrs.size()) return false;
      auto it = b.attrs.begin();
      for (const auto& [name, attr] : a.attrs) {
        if (name != it->first || attr.required != it->second.required ||
            !TyEq(*attr.type, *it->second.type)) {
          return false;
        }
        ++it;
      }
      return true;
    }
  }
  return false;
}

// The least upper bound in strict mode: booleans join to Bool, sets element-wise, records
// need the same attribute names and qualifiers; anything else must be equal.
TyPtr Lub(const TyPtr& a, const TyPtr& b) {
  if (a == b) return a;
  if (a->k == Ty::K::kBool && b->k == Ty::K::kBool) {
    if (a->b == b->b) return a;
    return MakeBool(BoolT::kAny);
  }
  if (a->k == Ty::K::kSet && b->k == Ty::K::kSet) {
    TyPtr e = Lub(a->elem, b->elem);
    if (!e) return nullptr;
    return MakeSet(std::move(e));
  }
  if (a->k == Ty::K::kRecord && b->k == Ty::K::kRecord) {
    if (a->attrs.size() != b->attrs.size()) return nullptr;
    auto out = std::make_shared<Ty>();
    out->k = Ty::K::kRecord;
    auto it = b->attrs.begin();
    for (const auto& [name, attr] : a->attrs) {
      if (name != it->first || attr.required != it->second.required) return nullptr;
      TyPtr t = Lub(attr.type, it->second.type);
      if (!t) return nullptr;
      out->attrs.emplace(name, TyAttr{std::move(t), attr.required});
      ++it;
    }
    return out;
  }
  if (TyEq(*a, *b)) return a;
  return nullptr;
}

BoolT NotB(BoolT b) {
  return b == BoolT::kTrue ? BoolT::kFalse : b == BoolT::kFalse ? BoolT::kTrue : BoolT::kAny;
}

}  // namespace validator_detail

using validator_detail::BoolT;
using validator_detail::Ty;
using validator_detail::TyAttr;
using validator_detail::TyPtr;

// ---------------------------------------------------------------------------------------

namespace {

std::string Loc(const Policy& p, SourceLoc loc) {
  std::string out = p.filename.empty() ? std::string("<policy>") : p.filename;
  if (loc.line != 0) out += ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
  return out;
}

std::string UidString(const ActionUid& uid) {
  return uid.type + "::\"" + EscapeCedarString(uid.id) + "\"";
}

constexpr int kMaxTypecheckDepth = 2000;

constexpr const char* kEmptySetMessage =
    "the empty set `[]` has no type in strict validation; remove it or compare with a "
    "non-empty set";

std::string IncompatibleSetMessage(const Ty& a, const Ty& b) {
  return "set elements have incompatible types " + validator_detail::TyString(a) + " and " +
         validator_detail::TyString(b) + "; all elements of a set must have one type";
}

}  // namespace

// Typechecks one policy in one request environment.
class PolicyTypechecker {
 public:
  PolicyTypechecker(const Validator& v, const Policy& p, const Validator::RequestEnv& env)
      : v_(v),
        p_(p),
        pool_(p.pool),
        env_(env),
        action_uid_(env.action->uid.type, env.action->uid.id) {
    any_ = validator_detail::MakeBool(BoolT::kAny);
    tt_ = validator_detail::MakeBool(BoolT::kTrue);
    ff_ = validator_detail::MakeBool(BoolT::kFalse);
    long_ = validator_detail::MakeSimple(Ty::K::kLong);
    string_ = validator_detail::MakeSimple(Ty::K::kString);
  }

  // The type of the whole policy: scope && conditions. Error on a type error.
  Result<TyPtr> Run() {
    // principal && (action && (resource && (c1 && (c2 && ... true))))
    std::vector<std::function<Result<Out>(const Caps&)>> parts;
    parts.push_back([this](const Caps&) { return ScopeType(p_.principal, Var::kPrincipal); });
    parts.push_back([this](const Caps&) { return ActionScopeType(p_.action); });
    parts.push_back([this](const Caps&) { return ScopeType(p_.resource, Var::kResource); });
    for (const auto& cond : p_.conditions) {
      parts.push_back([this, &cond](const Caps& c) -> Result<Out> {
        CUSTOS_ASSIGN_OR_RETURN(Out o, TypeOf(cond.expr, c, 0));
        if (o.ty->k != Ty::K::kBool) {
          return Unexpected(cond.expr, o.ty, "a boolean condition");
        }
        if (cond.is_when) return o;
        return Out{Bool(validator_detail::NotB(o.ty->b)), {}};
      });
    }
    CUSTOS_ASSIGN_OR_RETURN(Out o, AndChain(parts));
    return o.ty;
  }

  // True if the policy's scope alone (principal, action, resource constraints) can hold in
  // this environment. Cedar rejects a policy whose scope matches no environment at all.
  bool ScopeCanMatch() {
    for (int i = 0; i < 3; ++i) {
      Result<Out> r = i == 0   ? ScopeType(p_.principal, Var::kPrincipal)
                      : i == 1 ? ActionScopeType(p_.action)
                               : ScopeType(p_.resource, Var::kResource);
      if (r.ok() && r->ty->b == BoolT::kFalse) return false;
    }
    return true;
  }

 private:
  struct Cap {
    uint32_t expr;
    bool is_tag;
    std::string attr;   // !is_tag
    uint32_t tag_expr;  // is_tag
  };
  using Caps = std::vector<Cap>;
  struct Out {
    TyPtr ty;
    Caps caps;
  };
  using Part = std::function<Result<Out>(const Caps&)>;

  TyPtr Bool(BoolT b) const { return b == BoolT::kTrue ? tt_ : b == BoolT::kFalse ? ff_ : any_; }

  std::string EnvText() const {
    return "principal " + env_.principal + ", action " + UidString(env_.action->uid) +
           ", resource " + env_.resource;
  }

  Status Fail(SourceLoc loc, const std::string& what) const {
    return InvalidArgumentError(Loc(p_, loc) + ": policy `" + p_.id + "`: " + what + " (for " +
                                EnvText() + ")");
  }
  SourceLoc LocOf(uint32_t node) const {
    return node < pool_.nodes.size() ? pool_.nodes[node].loc : p_.loc;
  }
  Status Unexpected(uint32_t node, const TyPtr& got, const std::string& wanted) const {
    return Fail(LocOf(node),
                "expected " + wanted + ", found type " + validator_detail::TyString(*got));
  }

  // -- capabilities ---------------------------------------------------------------------

  bool SameExpr(uint32_t x, uint32_t y, int depth = 0) const {
    if (x == y) return true;
    if (x == kNoChild || y == kNoChild) return false;
    if (depth > kMaxTypecheckDepth) return false;
    const ExprNode& a = pool_.nodes[x];
    const ExprNode& b = pool_.nodes[y];
    if (a.kind != b.kind || a.count != b.count) return false;
    switch (a.kind) {
      case ExprKind::kLiteral:
        return pool_.literals[a.data] == pool_.literals[b.data];
      case ExprKind::kVar:
        return a.var == b.var;
      case ExprKind::kSlot:
        return a.slot == b.slot;
      case ExprKind::kGetAttr:
      case ExprKind::kHas:
      case ExprKind::kIs:
        if (pool_.strings[a.data] != pool_.strings[b.data]) return false;
        break;
      case ExprKind::kLike: {
        const Pattern& pa = pool_.patterns[a.data];
        const Pattern& pb = pool_.patterns[b.data];
        if (pa.size() != pb.size()) return false;
        for (size_t i = 0; i < pa.size(); ++i) {
          if (pa[i].wildcard != pb[i].wildcard || pa[i].literal != pb[i].literal) return false;
        }
        break;
      }
      case ExprKind::kExtCall:
        if (a.fn != b.fn) return false;
        break;
      case ExprKind::kRecord:
        for (uint32_t i = 0; i < a.count; ++i) {
          if (pool_.strings[a.data + i] != pool_.strings[b.data + i]) return false;
        }
        break;
      default:
        break;
    }
    if (!SameExpr(a.a, b.a, depth + 1) || !SameExpr(a.b, b.b, depth + 1) ||
        !SameExpr(a.c, b.c, depth + 1)) {
      return false;
    }
    if (a.kind == ExprKind::kSet || a.kind == ExprKind::kRecord || a.kind == ExprKind::kExtCall) {
      for (uint32_t i = 0; i < a.count; ++i) {
        if (!SameExpr(pool_.child(a, i), pool_.child(b, i), depth + 1)) return false;
      }
    }
    return true;
  }

  bool SameCap(const Cap& a, const Cap& b) const {
    if (a.is_tag != b.is_tag) return false;
    if (a.is_tag) {
      if (!SameExpr(a.tag_expr, b.tag_expr)) return false;
    } else if (a.attr != b.attr) {
      return false;
    }
    return SameExpr(a.expr, b.expr);
  }
  bool HasCap(const Caps& c, const Cap& cap) const {
    for (const auto& x : c) {
      if (SameCap(x, cap)) return true;
    }
    return false;
  }
  Caps Union(const Caps& a, const Caps& b) const {
    Caps out = a;
    for (const auto& x : b) {
      if (!HasCap(out, x)) out.push_back(x);
    }
    return out;
  }
  Caps Intersect(const Caps& a, const Caps& b) const {
    Caps out;
    for (const auto& x : a) {
      if (HasCap(b, x)) out.push_back(x);
    }
    return out;
  }

  // -- boolean connectives ---------------------------------------------------------------

  // r1 && r2, where r2 is typed only if r1 is not False (as the evaluator short-circuits).
  Result<Out> And(Out r1, uint32_t node1, const std::function<Result<Out>(const Caps&)>& r2,
                  const Caps& c, uint32_t node2) {
    if (r1.ty->k != Ty::K::kBool) return Unexpected(node1, r1.ty, "a boolean");
    if (r1.ty->b == BoolT::kFalse) return Out{ff_, {}};
    CUSTOS_ASSIGN_OR_RETURN(Out o2, r2(Union(c, r1.caps)));
    if (o2.ty->k != Ty::K::kBool) return Unexpected(node2, o2.ty, "a boolean");
    if (o2.ty->b == BoolT::kFalse) return Out{ff_, {}};
    Caps caps = Union(r1.caps, o2.caps);
    if (o2.ty->b == BoolT::kTrue) return Out{Bool(r1.ty->b), std::move(caps)};
    return Out{any_, std::move(caps)};
  }

  // p0 && (p1 && (p2 && ... true)), typed iteratively so that a policy with thousands of
  // conditions needs no deep recursion. Each part sees the capabilities of those before it;
  // parts after a False one are not typechecked.
  Result<Out> AndChain(const std::vector<Part>& parts) {
    Caps caps;
    bool any = false;
    for (const auto& part : parts) {
      CUSTOS_ASSIGN_OR_RETURN(Out o, part(caps));
      if (o.ty->k != Ty::K::kBool)
        return Fail(p_.loc, "a condition is not a boolean (type " +
                                validator_detail::TyString(*o.ty) +
                                "); conditions must be booleans");
      if (o.ty->b == BoolT::kFalse) return Out{ff_, {}};
      if (o.ty->b == BoolT::kAny) any = true;
      caps = Union(caps, o.caps);
    }
    return Out{any ? any_ : tt_, std::move(caps)};
  }

  // -- scope -----------------------------------------------------------------------------

  Result<Out> ScopeType(const ScopeConstraint& s, Var var) {
    const std::string& var_type = var == Var::kPrincipal ? env_.principal : env_.resource;
    auto in_type = [&](const EntityRef& ref) -> TyPtr {
      if (ref.is_slot) return any_;
      return v_.DescendentOf(var_type, ref.uid.type()) ? any_ : ff_;
    };
    switch (s.op) {
      case ScopeConstraint::Op::kAny:
      case ScopeConstraint::Op::kInSet:
        return Out{tt_, {}};
      case ScopeConstraint::Op::kEq:
        if (s.entity.is_slot) return Out{any_, {}};
        return Out{s.entity.uid.type() == var_type ? any_ : ff_, {}};
      case ScopeConstraint::Op::kIn:
        return Out{in_type(s.entity), {}};
      case ScopeConstraint::Op::kIs:
        return Out{s.entity_type == var_type ? tt_ : ff_, {}};
      case ScopeConstraint::Op::kIsIn: {
        if (s.entity_type != var_type) return Out{ff_, {}};
        return Out{in_type(s.entity), {}};
      }
    }
    return Out{tt_, {}};
  }

  Result<Out> ActionScopeType(const ScopeConstraint& s) {
    const ActionUid& a = env_.action->uid;
    auto as_action = [](const EntityUid& uid) {
      return ActionUid{std::string(uid.type()), std::string(uid.id())};
    };
    switch (s.op) {
      case ScopeConstraint::Op::kAny:
        return Out{tt_, {}};
      case ScopeConstraint::Op::kEq:
        if (s.entity.is_slot) return Out{any_, {}};
        return Out{as_action(s.entity.uid) == a ? tt_ : ff_, {}};
      case ScopeConstraint::Op::kIn:
        if (s.entity.is_slot) return Out{any_, {}};
        return Out{v_.ActionDescendentOf(a, as_action(s.entity.uid)) ? tt_ : ff_, {}};
      case ScopeConstraint::Op::kInSet: {
        if (s.entities.empty()) {
          return Fail(s.loc, "the action list `[]` is empty; list at least one action");
        }
        for (const auto& e : s.entities) {
          if (e.type() != s.entities.front().type()) {
            return Fail(s.loc, "the actions in the list have different entity types (" +
                                   std::string(s.entities.front().type()) + " and " +
                                   std::string(e.type()) +
                                   "); a set's elements must have one type");
          }
        }
        for (const auto& e : s.entities) {
          if (v_.ActionDescendentOf(a, as_action(e))) return Out{tt_, {}};
        }
        return Out{ff_, {}};
      }
      case ScopeConstraint::Op::kIs:
        return Out{s.entity_type == a.type ? tt_ : ff_, {}};
      case ScopeConstraint::Op::kIsIn:
        if (s.entity_type != a.type) return Out{ff_, {}};
        if (s.entity.is_slot) return Out{any_, {}};
        return Out{v_.ActionDescendentOf(a, as_action(s.entity.uid)) ? tt_ : ff_, {}};
    }
    return Out{tt_, {}};
  }

  // -- expressions -----------------------------------------------------------------------

  // A primitive literal, with `action` standing for the environment's action uid.
  std::optional<Value> LiteralOf(uint32_t node) const {
    const ExprNode& n = pool_.nodes[node];
    if (n.kind == ExprKind::kVar && n.var == Var::kAction) return Value(action_uid_);
    if (n.kind != ExprKind::kLiteral) return std::nullopt;
    const Value& v = pool_.literals[n.data];
    switch (v.kind()) {
      case ValueKind::kBool:
      case ValueKind::kLong:
      case ValueKind::kString:
      case ValueKind::kEntity:
        return v;
      default:
        return std::nullopt;
    }
  }
  std::optional<EntityUid> EntityLiteralOf(uint32_t node) const {
    auto v = LiteralOf(node);
    if (!v || !v->is(ValueKind::kEntity)) return std::nullopt;
    return v->AsEntity();
  }
  // `[E1, E2, ...]` written with entity literals only.
  std::optional<std::vector<EntityUid>> EntityLiteralsOf(uint32_t node) const {
    const ExprNode& n = pool_.nodes[node];
    std::vector<EntityUid> out;
    if (n.kind == ExprKind::kSet) {
      for (uint32_t i = 0; i < n.count; ++i) {
        auto e = EntityLiteralOf(pool_.child(n, i));
        if (!e) return std::nullopt;
        out.push_back(*e);
      }
      return out;
    }
    if (n.kind == ExprKind::kLiteral && pool_.literals[n.data].is(ValueKind::kSet)) {
      for (const auto& e : pool_.literals[n.data].AsSet().elements) {
        if (!e.is(ValueKind::kEntity)) return std::nullopt;
        out.push_back(e.AsEntity());
      }
      return out;
    }
    return std::nullopt;
  }
  std::optional<ActionUid> ActionLiteralOf(uint32_t node) const {
    auto e = EntityLiteralOf(node);
    if (!e) return std::nullopt;
    const ActionSchema* a = v_.schema_.FindAction(e->type(), e->id());
    if (!a) return std::nullopt;
    return a->uid;
  }

  Result<TyPtr> TypeOfValue(const Value& v, uint32_t node, int depth) {
    if (depth > kMaxTypecheckDepth) return Fail(LocOf(node), "value nests too deeply");
    switch (v.kind()) {
      case ValueKind::kBool:
        return v.AsBool() ? tt_ : ff_;
      case ValueKind::kLong:
        return long_;
      case ValueKind::kString:
        return string_;
      case ValueKind::kEntity:
        if (!v_.IsValidEntityLiteral(v.AsEntity())) {
          return Fail(LocOf(node), "unknown entity " + v.AsEntity().ToString() +
                                       "; declare its type (or action) in the schema");
        }
        return validator_detail::MakeEntity(v.AsEntity().type());
      case ValueKind::kSet: {
        const auto& els = v.AsSet().elements;
        if (els.empty()) return Fail(LocOf(node), kEmptySetMessage);
        TyPtr acc;
        for (const auto& e : els) {
          CUSTOS_ASSIGN_OR_RETURN(TyPtr t, TypeOfValue(e, node, depth + 1));
          if (!acc) {
            acc = t;
          } else {
            TyPtr l = validator_detail::Lub(acc, t);
            if (!l) return Fail(LocOf(node), IncompatibleSetMessage(*acc, *t));
            acc = l;
          }
        }
        return validator_detail::MakeSet(acc);
      }
      case ValueKind::kRecord: {
        auto out = std::make_shared<Ty>();
        out->k = Ty::K::kRecord;
        for (const auto& [k, fv] : v.AsRecord().fields) {
          CUSTOS_ASSIGN_OR_RETURN(TyPtr t, TypeOfValue(fv, node, depth + 1));
          out->attrs[k] = TyAttr{t, true};
        }
        return TyPtr(out);
      }
      case ValueKind::kIpAddr:
        return validator_detail::MakeExt(ExtensionType::kIpAddr);
      case ValueKind::kDecimal:
        return validator_detail::MakeExt(ExtensionType::kDecimal);
      case ValueKind::kDatetime:
        return validator_detail::MakeExt(ExtensionType::kDatetime);
      case ValueKind::kDuration:
        return validator_detail::MakeExt(ExtensionType::kDuration);
    }
    return Fail(LocOf(node), "unsupported literal");
  }

  Result<Out> TypeOf(uint32_t node, const Caps& c, int depth) {
    if (depth > kMaxTypecheckDepth) {
      return Fail(LocOf(node), "expression nests too deeply to typecheck");
    }
    const ExprNode& n = pool_.nodes[node];
    switch (n.kind) {
      case ExprKind::kLiteral: {
        CUSTOS_ASSIGN_OR_RETURN(TyPtr t, TypeOfValue(pool_.literals[n.data], node, 0));
        return Out{t, {}};
      }
      case ExprKind::kVar:
        switch (n.var) {
          case Var::kPrincipal:
            return Out{validator_detail::MakeEntity(env_.principal), {}};
          case Var::kResource:
            return Out{validator_detail::MakeEntity(env_.resource), {}};
          case Var::kAction:
            return Out{validator_detail::MakeEntity(env_.action->uid.type), {}};
          case Var::kContext:
            return Out{env_.context, {}};
        }
        break;
      case ExprKind::kSlot:
        return Out{validator_detail::MakeEntity(n.slot == SlotId::kPrincipal ? env_.principal
                                                                             : env_.resource),
                   {}};
      case ExprKind::kIf: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        if (r1.ty->k != Ty::K::kBool) return Unexpected(n.a, r1.ty, "a boolean condition");
        if (r1.ty->b == BoolT::kTrue) {
          CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, Union(c, r1.caps), depth + 1));
          return Out{r2.ty, Union(r1.caps, r2.caps)};
        }
        if (r1.ty->b == BoolT::kFalse) return TypeOf(n.c, c, depth + 1);
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, Union(c, r1.caps), depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r3, TypeOf(n.c, c, depth + 1));
        TyPtr l = validator_detail::Lub(r2.ty, r3.ty);
        if (!l) {
          return Fail(n.loc, "the branches of if-then-else have incompatible types " +
                                 validator_detail::TyString(*r2.ty) + " and " +
                                 validator_detail::TyString(*r3.ty) +
                                 "; make both branches the same type");
        }
        return Out{l, Intersect(Union(r1.caps, r2.caps), r3.caps)};
      }
      case ExprKind::kAnd: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        return And(
            std::move(r1), n.a, [&](const Caps& c2) { return TypeOf(n.b, c2, depth + 1); }, c, n.b);
      }
      case ExprKind::kOr: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        if (r1.ty->k != Ty::K::kBool) return Unexpected(n.a, r1.ty, "a boolean");
        if (r1.ty->b == BoolT::kTrue) return Out{tt_, {}};
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        if (r2.ty->k != Ty::K::kBool) return Unexpected(n.b, r2.ty, "a boolean");
        if (r1.ty->b == BoolT::kFalse) return Out{r2.ty, r2.caps};
        if (r2.ty->b == BoolT::kTrue) return Out{tt_, {}};
        if (r2.ty->b == BoolT::kFalse) return Out{any_, r1.caps};
        return Out{any_, Intersect(r1.caps, r2.caps)};
      }
      case ExprKind::kNot: {
        CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(n.a, c, depth + 1));
        if (r.ty->k != Ty::K::kBool) return Unexpected(n.a, r.ty, "a boolean after `!`");
        return Out{Bool(validator_detail::NotB(r.ty->b)), {}};
      }
      case ExprKind::kNeg: {
        CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(n.a, c, depth + 1));
        if (r.ty->k != Ty::K::kLong) return Unexpected(n.a, r.ty, "a Long after `-`");
        return Out{long_, {}};
      }
      case ExprKind::kEq:
      case ExprKind::kNe: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        BoolT b;
        auto l1 = LiteralOf(n.a);
        auto l2 = LiteralOf(n.b);
        if (l1 && l2) {
          b = *l1 == *l2 ? BoolT::kTrue : BoolT::kFalse;
        } else if (validator_detail::Lub(r1.ty, r2.ty)) {
          b = BoolT::kAny;
        } else if (r1.ty->k == Ty::K::kEntity && r2.ty->k == Ty::K::kEntity) {
          b = BoolT::kFalse;
        } else {
          return Fail(n.loc, "cannot compare values of types " +
                                 validator_detail::TyString(*r1.ty) + " and " +
                                 validator_detail::TyString(*r2.ty) +
                                 " with `==`/`!=`; compare values of the same type");
        }
        if (n.kind == ExprKind::kNe) b = validator_detail::NotB(b);
        return Out{Bool(b), {}};
      }
      case ExprKind::kLt:
      case ExprKind::kLe:
      case ExprKind::kGt:
      case ExprKind::kGe: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        const Ty& t1 = *r1.ty;
        const Ty& t2 = *r2.ty;
        bool ok = (t1.k == Ty::K::kLong && t2.k == Ty::K::kLong) ||
                  (t1.k == Ty::K::kExt && t2.k == Ty::K::kExt && t1.ext == t2.ext &&
                   (t1.ext == ExtensionType::kDatetime || t1.ext == ExtensionType::kDuration));
        if (!ok) {
          return Fail(n.loc, "comparison operands have types " + validator_detail::TyString(t1) +
                                 " and " + validator_detail::TyString(t2) +
                                 "; `<`, `<=`, `>`, `>=` take two Longs, two datetimes or two "
                                 "durations");
        }
        return Out{any_, {}};
      }
      case ExprKind::kAdd:
      case ExprKind::kSub:
      case ExprKind::kMul: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        if (r1.ty->k != Ty::K::kLong) return Unexpected(n.a, r1.ty, "a Long operand");
        if (r2.ty->k != Ty::K::kLong) return Unexpected(n.b, r2.ty, "a Long operand");
        return Out{long_, {}};
      }
      case ExprKind::kIn: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(BoolT b, InType(n, r1.ty, r2.ty));
        return Out{Bool(b), {}};
      }
      case ExprKind::kContains:
      case ExprKind::kContainsAll:
      case ExprKind::kContainsAny: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        if (r1.ty->k != Ty::K::kSet) return Unexpected(n.a, r1.ty, "a set");
        TyPtr other = r2.ty;
        if (n.kind != ExprKind::kContains) {
          if (r2.ty->k != Ty::K::kSet) return Unexpected(n.a, r1.ty, "a set");
          other = r2.ty->elem;
        }
        if (!validator_detail::Lub(other, r1.ty->elem)) {
          return Fail(n.loc, "set of " + validator_detail::TyString(*r1.ty->elem) +
                                 " cannot contain " + validator_detail::TyString(*other) +
                                 "; the element types must match");
        }
        return Out{any_, {}};
      }
      case ExprKind::kIsEmpty: {
        CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(n.a, c, depth + 1));
        if (r.ty->k != Ty::K::kSet) return Unexpected(n.a, r.ty, "a set for isEmpty()");
        return Out{any_, {}};
      }
      case ExprKind::kGetTag:
      case ExprKind::kHasTag: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        if (r1.ty->k != Ty::K::kEntity || r2.ty->k != Ty::K::kString) {
          return Unexpected(n.a, r1.ty, "an entity and a String tag name");
        }
        return TagType(n, r1.ty->entity, c);
      }
      case ExprKind::kGetAttr:
      case ExprKind::kHas: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        return AttrType(n, r1.ty, c);
      }
      case ExprKind::kLike: {
        CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(n.a, c, depth + 1));
        if (r.ty->k != Ty::K::kString) return Unexpected(n.a, r.ty, "a String for `like`");
        return Out{any_, {}};
      }
      case ExprKind::kIs: {
        CUSTOS_ASSIGN_OR_RETURN(Out r1, TypeOf(n.a, c, depth + 1));
        if (r1.ty->k != Ty::K::kEntity) return Unexpected(n.a, r1.ty, "an entity for `is`");
        BoolT is = r1.ty->entity == pool_.strings[n.data] ? BoolT::kTrue : BoolT::kFalse;
        if (n.b == kNoChild) return Out{Bool(is), {}};
        if (is == BoolT::kFalse) return Out{ff_, {}};
        CUSTOS_ASSIGN_OR_RETURN(Out r2, TypeOf(n.b, c, depth + 1));
        CUSTOS_ASSIGN_OR_RETURN(BoolT b, InType(n, r1.ty, r2.ty));
        return Out{Bool(b), {}};
      }
      case ExprKind::kSet: {
        if (n.count == 0) return Fail(n.loc, kEmptySetMessage);
        TyPtr acc;
        for (uint32_t i = 0; i < n.count; ++i) {
          CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(pool_.child(n, i), c, depth + 1));
          if (!acc) {
            acc = r.ty;
            continue;
          }
          TyPtr l = validator_detail::Lub(acc, r.ty);
          if (!l) return Fail(n.loc, IncompatibleSetMessage(*acc, *r.ty));
          acc = l;
        }
        return Out{validator_detail::MakeSet(acc), {}};
      }
      case ExprKind::kRecord: {
        auto out = std::make_shared<Ty>();
        out->k = Ty::K::kRecord;
        for (uint32_t i = 0; i < n.count; ++i) {
          CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(pool_.child(n, i), c, depth + 1));
          out->attrs[pool_.strings[n.data + i]] = TyAttr{r.ty, true};
        }
        return Out{TyPtr(out), {}};
      }
      case ExprKind::kExtCall:
        return CallType(n, c, depth);
    }
    return Fail(n.loc, "unsupported expression");
  }

  Result<Out> CallType(const ExprNode& n, const Caps& c, int depth) {
    std::vector<TyPtr> tys;
    for (uint32_t i = 0; i < n.count; ++i) {
      CUSTOS_ASSIGN_OR_RETURN(Out r, TypeOf(pool_.child(n, i), c, depth + 1));
      tys.push_back(r.ty);
    }
    auto ext_arg = [&](size_t i, ExtensionType e) {
      return i < tys.size() && tys[i]->k == Ty::K::kExt && tys[i]->ext == e;
    };
    auto fail = [&](const std::string& why) {
      return Fail(n.loc, "invalid call of " + std::string(ExtFnName(n.fn)) + ": " + why);
    };
    if (ExtFnIsConstructor(n.fn)) {
      if (n.count != 1) return fail("it takes one string literal");
      const ExprNode& arg = pool_.nodes[pool_.child(n, 0)];
      if (arg.kind != ExprKind::kLiteral || !pool_.literals[arg.data].is(ValueKind::kString)) {
        return fail("its argument must be a string literal, so that it can be checked now");
      }
      const std::string& s = pool_.literals[arg.data].AsString();
      ExtensionType e = ExtensionType::kIpAddr;
      bool valid = false;
      switch (n.fn) {
        case ExtFn::kIp:
          valid = ParseIpAddr(s).ok();
          e = ExtensionType::kIpAddr;
          break;
        case ExtFn::kDecimal:
          valid = ParseDecimal(s).ok();
          e = ExtensionType::kDecimal;
          break;
        case ExtFn::kDatetime:
          valid = ParseDatetime(s).ok();
          e = ExtensionType::kDatetime;
          break;
        case ExtFn::kDuration:
          valid = ParseDuration(s).ok();
          e = ExtensionType::kDuration;
          break;
        default:
          break;
      }
      if (!valid) return fail("\"" + EscapeCedarString(s) + "\" is not a valid value");
      return Out{validator_detail::MakeExt(e), {}};
    }
    using E = ExtensionType;
    auto need = [&](std::initializer_list<E> kinds) {
      if (tys.size() != kinds.size()) return false;
      size_t i = 0;
      for (E k : kinds) {
        if (!ext_arg(i++, k)) return false;
      }
      return true;
    };
    TyPtr result;
    switch (n.fn) {
      case ExtFn::kIsIpv4:
      case ExtFn::kIsIpv6:
      case ExtFn::kIsLoopback:
      case ExtFn::kIsMulticast:
        if (need({E::kIpAddr})) result = any_;
        break;
      case ExtFn::kIsInRange:
        if (need({E::kIpAddr, E::kIpAddr})) result = any_;
        break;
      case ExtFn::kLessThan:
      case ExtFn::kLessThanOrEqual:
      case ExtFn::kGreaterThan:
      case ExtFn::kGreaterThanOrEqual:
        if (need({E::kDecimal, E::kDecimal})) result = any_;
        break;
      case ExtFn::kOffset:
        if (need({E::kDatetime, E::kDuration})) result = validator_detail::MakeExt(E::kDatetime);
        break;
      case ExtFn::kDurationSince:
        if (need({E::kDatetime, E::kDatetime})) result = validator_detail::MakeExt(E::kDuration);
        break;
      case ExtFn::kToDate:
        if (need({E::kDatetime})) result = validator_detail::MakeExt(E::kDatetime);
        break;
      case ExtFn::kToTime:
        if (need({E::kDatetime})) result = validator_detail::MakeExt(E::kDuration);
        break;
      case ExtFn::kToDays:
      case ExtFn::kToHours:
      case ExtFn::kToMinutes:
      case ExtFn::kToSeconds:
      case ExtFn::kToMilliseconds:
        if (need({E::kDuration})) result = long_;
        break;
      default:
        break;
    }
    if (!result) {
      std::string got;
      for (const auto& t : tys) {
        if (!got.empty()) got += ", ";
        got += validator_detail::TyString(*t);
      }
      return fail("wrong argument types (" + got + ")");
    }
    return Out{result, {}};
  }

  Result<Out> TagType(const ExprNode& n, const std::string& ety, const Caps& c) {
    bool known = v_.schema_.FindEntityType(ety) != nullptr;
    Cap cap{n.a, true, {}, n.b};
    if (!known) {
      if (n.kind == ExprKind::kHasTag && v_.schema_.IsActionEntityType(ety)) {
        return Out{ff_, {}};
      }
      return Fail(n.loc, "unknown entity type " + ety);
    }
    auto it = v_.entity_tags_.find(ety);
    TyPtr tag_type = it == v_.entity_tags_.end() ? nullptr : it->second;
    if (n.kind == ExprKind::kHasTag) {
      if (!tag_type) return Out{ff_, {}};
      if (HasCap(c, cap)) return Out{tt_, {}};
      return Out{any_, Caps{cap}};
    }
    if (!tag_type) {
      return Fail(n.loc, "entity type " + ety + " has no tags; declare `tags T` on it");
    }
    if (!HasCap(c, cap)) {
      return Fail(n.loc,
                  "this tag may be absent; test it with `hasTag` first, as in "
                  "`e.hasTag(t) && e.getTag(t) ...`");
    }
    return Out{tag_type, {}};
  }

  Result<Out> AttrType(const ExprNode& n, const TyPtr& ty, const Caps& c) {
    const std::string& attr = pool_.strings[n.data];
    const Ty* record = nullptr;
    bool known_to_exist = true;
    if (ty->k == Ty::K::kRecord) {
      record = ty.get();
    } else if (ty->k == Ty::K::kEntity) {
      auto it = v_.entity_attrs_.find(ty->entity);
      if (it == v_.entity_attrs_.end()) {
        if (n.kind == ExprKind::kHas && v_.schema_.IsActionEntityType(ty->entity)) {
          return Out{ff_, {}};
        }
        return Fail(n.loc, "entities of type " + ty->entity + " have no attributes");
      }
      record = it->second.get();
      known_to_exist = false;
    } else {
      return Unexpected(n.a, ty, "an entity or a record");
    }
    auto found = record->attrs.find(attr);
    Cap cap{n.a, false, attr, kNoChild};
    if (n.kind == ExprKind::kHas) {
      if (found == record->attrs.end()) return Out{ff_, {}};
      if (HasCap(c, cap) || (found->second.required && known_to_exist)) return Out{tt_, {}};
      return Out{any_, Caps{cap}};
    }
    if (found == record->attrs.end()) {
      return Fail(n.loc, "attribute `" + attr + "` is not declared on type " +
                             validator_detail::TyString(*ty) +
                             "; declare it in the schema or fix the name");
    }
    if (!found->second.required && !HasCap(c, cap)) {
      return Fail(n.loc, "attribute `" + attr +
                             "` is optional; test it with `has` first, as in `x has " + attr +
                             " && x." + attr + " ...`");
    }
    return Out{found->second.type, {}};
  }

  // `x in y`, `x is T in y`: Cedar types these by the entity hierarchy, and exactly for
  // action literals.
  Result<BoolT> InType(const ExprNode& n, const TyPtr& t1, const TyPtr& t2) {
    if (t1->k != Ty::K::kEntity) {
      return Unexpected(n.a, t1, "an entity on the left of `in`");
    }
    if (t2->k == Ty::K::kEntity) {
      auto a1 = ActionLiteralOf(n.a);
      auto u2 = EntityLiteralOf(n.b);
      if (a1 && u2) {
        return v_.ActionDescendentOf(*a1, ActionUid{std::string(u2->type()), std::string(u2->id())})
                   ? BoolT::kTrue
                   : BoolT::kFalse;
      }
      return v_.DescendentOf(t1->entity, t2->entity) ? BoolT::kAny : BoolT::kFalse;
    }
    if (t2->k == Ty::K::kSet && t2->elem->k == Ty::K::kEntity) {
      auto a1 = ActionLiteralOf(n.a);
      auto us = EntityLiteralsOf(n.b);
      if (a1 && us) {
        for (const auto& u : *us) {
          if (v_.ActionDescendentOf(*a1, ActionUid{std::string(u.type()), std::string(u.id())})) {
            return BoolT::kTrue;
          }
        }
        return BoolT::kFalse;
      }
      return v_.DescendentOf(t1->entity, t2->elem->entity) ? BoolT::kAny : BoolT::kFalse;
    }
    return Unexpected(n.b, t2, "an entity or a set of entities on the right of `in`");
  }

 private:
  const Validator& v_;
  const Policy& p_;
  const ExprPool& pool_;
  const Validator::RequestEnv& env_;
  EntityUid action_uid_;
  TyPtr any_, tt_, ff_, long_, string_;
};

// ---------------------------------------------------------------------------------------
// Validator.

Validator::Validator(const Schema& schema, ValidatorOptions options)
    : schema_(schema), options_(options) {
  std::map<const SchemaType*, TyPtr> cache;
  for (const auto& [name, et] : schema_.entity_types()) {
    entity_attrs_.emplace(name, ConvertRecord(et.shape, cache));
    entity_tags_.emplace(name, et.tags ? Convert(*et.tags, cache) : nullptr);
    for (const auto& d : schema_.DescendantTypes(name)) {
      if (d != name) type_descends_.emplace(d, name);
    }
  }
  // Action entity types: `A in B` is possible if some action of type A has an ancestor
  // of type B.
  for (const auto& [uid, action] : schema_.actions()) {
    for (const auto& anc : schema_.ActionAncestors(uid)) {
      if (anc.type != uid.type) type_descends_.emplace(uid.type, anc.type);
    }
  }
  for (const auto& [uid, action] : schema_.actions()) {
    TyPtr context = ConvertRecord(action.context, cache);
    for (const auto& p : action.principal_types) {
      for (const auto& r : action.resource_types) {
        envs_.push_back(RequestEnv{&action, p, r, context});
      }
    }
  }
}

Validator::~Validator() = default;

Validator::TyPtr Validator::Convert(const SchemaType& type,
                                    std::map<const SchemaType*, TyPtr>& cache) const {
  auto it = cache.find(&type);
  if (it != cache.end()) return it->second;
  TyPtr out;
  switch (type.kind) {
    case SchemaType::Kind::kBool:
      out = validator_detail::MakeBool(BoolT::kAny);
      break;
    case SchemaType::Kind::kLong:
      out = validator_detail::MakeSimple(Ty::K::kLong);
      break;
    case SchemaType::Kind::kString:
      out = validator_detail::MakeSimple(Ty::K::kString);
      break;
    case SchemaType::Kind::kEntity:
      out = validator_detail::MakeEntity(type.entity_type);
      break;
    case SchemaType::Kind::kExtension:
      out = validator_detail::MakeExt(type.extension);
      break;
    case SchemaType::Kind::kSet:
      out = validator_detail::MakeSet(Convert(*type.element, cache));
      break;
    case SchemaType::Kind::kRecord:
      out = ConvertRecord(type.record, cache);
      break;
  }
  cache.emplace(&type, out);  // keys are nodes owned by the schema, so they stay valid
  return out;
}

Validator::TyPtr Validator::ConvertRecord(const RecordSchema& record,
                                          std::map<const SchemaType*, TyPtr>& cache) const {
  auto rec = std::make_shared<Ty>();
  rec->k = Ty::K::kRecord;
  for (const auto& [name, attr] : record.attributes) {
    rec->attrs.emplace(name, TyAttr{Convert(*attr.type, cache), attr.required});
  }
  return rec;
}

bool Validator::DescendentOf(std::string_view type, std::string_view ancestor) const {
  if (type == ancestor) return true;
  return type_descends_.count(std::make_pair(std::string(type), std::string(ancestor))) != 0;
}

bool Validator::ActionDescendentOf(const ActionUid& action, const ActionUid& ancestor) const {
  if (action == ancestor) return true;
  const auto& ancestors = schema_.ActionAncestors(action);
  return std::binary_search(ancestors.begin(), ancestors.end(), ancestor);
}

bool Validator::IsValidEntityLiteral(const EntityUid& uid) const {
  if (const EntityTypeSchema* et = schema_.FindEntityType(uid.type())) {
    if (!et->enum_ids) return true;
    return std::find(et->enum_ids->begin(), et->enum_ids->end(), uid.id()) != et->enum_ids->end();
  }
  return schema_.FindAction(uid.type(), uid.id()) != nullptr;
}

namespace {

// Every entity literal must name a declared entity (type, enum id or action), and every
// `is` a declared entity type, even where short-circuiting skips typechecking.
class EntityReferenceChecker {
 public:
  EntityReferenceChecker(const Validator& v, const Schema& schema, const Policy& p)
      : v_(v), schema_(schema), p_(p) {}

  Status Run() {
    for (const ScopeConstraint* s : {&p_.principal, &p_.action, &p_.resource}) {
      if ((s->op == ScopeConstraint::Op::kEq || s->op == ScopeConstraint::Op::kIn ||
           s->op == ScopeConstraint::Op::kIsIn) &&
          !s->entity.is_slot) {
        CUSTOS_RETURN_IF_ERROR(CheckUid(s->entity.uid, s->loc));
      }
      for (const auto& uid : s->entities) CUSTOS_RETURN_IF_ERROR(CheckUid(uid, s->loc));
      if (s->op == ScopeConstraint::Op::kIs || s->op == ScopeConstraint::Op::kIsIn) {
        CUSTOS_RETURN_IF_ERROR(CheckIsType(s->entity_type, s->loc));
      }
    }
    for (const auto& cond : p_.conditions) {
      // Iterative walk: the tree may be deep.
      std::vector<uint32_t> stack{cond.expr};
      while (!stack.empty()) {
        uint32_t i = stack.back();
        stack.pop_back();
        if (i == kNoChild || i >= p_.pool.nodes.size()) continue;
        const ExprNode& n = p_.pool.nodes[i];
        if (n.kind == ExprKind::kLiteral) {
          CUSTOS_RETURN_IF_ERROR(CheckValue(p_.pool.literals[n.data], n.loc));
        } else if (n.kind == ExprKind::kIs) {
          CUSTOS_RETURN_IF_ERROR(CheckIsType(p_.pool.strings[n.data], n.loc));
        }
        stack.push_back(n.a);
        stack.push_back(n.b);
        stack.push_back(n.c);
        if (n.kind == ExprKind::kSet || n.kind == ExprKind::kRecord ||
            n.kind == ExprKind::kExtCall) {
          for (uint32_t k = 0; k < n.count; ++k) stack.push_back(p_.pool.child(n, k));
        }
      }
    }
    return Status::Ok();
  }

 private:
  Status Fail(SourceLoc loc, const std::string& what) const {
    return InvalidArgumentError(Loc(p_, loc) + ": policy `" + p_.id + "`: " + what);
  }
  Status CheckUid(const EntityUid& uid, SourceLoc loc) const {
    if (v_.schema().FindEntityType(uid.type()) != nullptr) {
      if (IsValid(uid)) return Status::Ok();
      return Fail(loc, "entity " + uid.ToString() +
                           " is not one of the ids the enumerated "
                           "entity type " +
                           std::string(uid.type()) + " allows");
    }
    if (schema_.FindAction(uid.type(), uid.id()) != nullptr) return Status::Ok();
    if (schema_.IsActionEntityType(uid.type())) {
      return Fail(loc, "unknown action " + uid.ToString() + "; declare it in the schema");
    }
    return Fail(loc, "unknown entity type " + std::string(uid.type()) +
                         "; declare it in the schema or fix the name");
  }
  bool IsValid(const EntityUid& uid) const {
    const EntityTypeSchema* et = schema_.FindEntityType(uid.type());
    if (!et->enum_ids) return true;
    return std::find(et->enum_ids->begin(), et->enum_ids->end(), uid.id()) != et->enum_ids->end();
  }
  Status CheckValue(const Value& v, SourceLoc loc) const {
    if (v.is(ValueKind::kEntity)) return CheckUid(v.AsEntity(), loc);
    if (v.is(ValueKind::kSet)) {
      for (const auto& e : v.AsSet().elements) CUSTOS_RETURN_IF_ERROR(CheckValue(e, loc));
    } else if (v.is(ValueKind::kRecord)) {
      for (const auto& [k, e] : v.AsRecord().fields) CUSTOS_RETURN_IF_ERROR(CheckValue(e, loc));
    }
    return Status::Ok();
  }
  Status CheckIsType(const std::string& type, SourceLoc loc) const {
    if (schema_.FindEntityType(type) != nullptr) return Status::Ok();
    return Fail(loc, "unknown entity type " + type + " after `is`; declare it in the schema");
  }

  const Validator& v_;
  const Schema& schema_;
  const Policy& p_;
};

}  // namespace

ValidationResult Validator::Validate(const std::vector<Policy>& policies) const {
  ValidationResult out;
  for (const auto& p : policies) ValidatePolicy(p, out);
  return out;
}

void Validator::ValidatePolicy(const Policy& policy, ValidationResult& out) const {
  Status refs = EntityReferenceChecker(*this, schema_, policy).Run();
  if (!refs.ok()) {
    out.errors.push_back(PolicyDiagnostic{policy.id, policy.loc, refs.message()});
    return;
  }
  bool all_false = true;
  bool scope_matches = false;
  for (const auto& env : envs_) {
    PolicyTypechecker checker(*this, policy, env);
    Result<TyPtr> t = checker.Run();
    if (!t.ok()) {
      out.errors.push_back(PolicyDiagnostic{policy.id, policy.loc, t.status().message()});
      return;
    }
    if (!((*t)->k == Ty::K::kBool && (*t)->b == BoolT::kFalse)) all_false = false;
    if (!scope_matches) scope_matches = checker.ScopeCanMatch();
  }
  if (!scope_matches) {
    out.errors.push_back(PolicyDiagnostic{
        policy.id, policy.loc,
        Loc(policy, policy.loc) + ": policy `" + policy.id +
            "`: no action in its scope applies to a principal and resource of the types its "
            "scope allows; fix the scope or the actions' appliesTo in the schema"});
    return;
  }
  if (all_false) {
    PolicyDiagnostic d{policy.id, policy.loc,
                       Loc(policy, policy.loc) + ": policy `" + policy.id +
                           "` is impossible: it is false for every principal, action and "
                           "resource the schema allows; check its scope against the "
                           "actions' appliesTo"};
    (options_.reject_impossible_policies ? out.errors : out.warnings).push_back(std::move(d));
  }
}

// ---------------------------------------------------------------------------------------
// Requests and entities.

Status Validator::CheckValue(const Value& value, const SchemaType& type,
                             std::string_view where) const {
  auto mismatch = [&](std::string_view expected) {
    return InvalidArgumentError(std::string(where) + ": expected " + std::string(expected) +
                                ", found a " + std::string(ValueKindName(value.kind())) + " value");
  };
  switch (type.kind) {
    case SchemaType::Kind::kBool:
      return value.is(ValueKind::kBool) ? Status::Ok() : mismatch("a Bool");
    case SchemaType::Kind::kLong:
      return value.is(ValueKind::kLong) ? Status::Ok() : mismatch("a Long");
    case SchemaType::Kind::kString:
      return value.is(ValueKind::kString) ? Status::Ok() : mismatch("a String");
    case SchemaType::Kind::kEntity: {
      if (!value.is(ValueKind::kEntity)) return mismatch("an entity of type " + type.entity_type);
      const EntityUid& uid = value.AsEntity();
      if (uid.type() != type.entity_type) {
        return InvalidArgumentError(std::string(where) + ": expected an entity of type " +
                                    type.entity_type + ", found " + uid.ToString());
      }
      if (!IsValidEntityLiteral(uid)) {
        return InvalidArgumentError(std::string(where) + ": " + uid.ToString() +
                                    " is not a valid id of the enumerated type " +
                                    type.entity_type);
      }
      return Status::Ok();
    }
    case SchemaType::Kind::kExtension: {
      ValueKind want = ValueKind::kIpAddr;
      switch (type.extension) {
        case ExtensionType::kIpAddr:
          want = ValueKind::kIpAddr;
          break;
        case ExtensionType::kDecimal:
          want = ValueKind::kDecimal;
          break;
        case ExtensionType::kDatetime:
          want = ValueKind::kDatetime;
          break;
        case ExtensionType::kDuration:
          want = ValueKind::kDuration;
          break;
      }
      return value.is(want) ? Status::Ok()
                            : mismatch("a " + std::string(ExtensionTypeName(type.extension)));
    }
    case SchemaType::Kind::kSet: {
      if (!value.is(ValueKind::kSet)) return mismatch("a set");
      for (const auto& e : value.AsSet().elements) {
        CUSTOS_RETURN_IF_ERROR(CheckValue(e, *type.element, std::string(where) + "[element]"));
      }
      return Status::Ok();
    }
    case SchemaType::Kind::kRecord: {
      if (!value.is(ValueKind::kRecord)) return mismatch("a record");
      const RecordData& rec = value.AsRecord();
      for (const auto& [name, attr] : type.record.attributes) {
        const Value* v = rec.Find(name);
        if (v == nullptr) {
          if (attr.required) {
            return InvalidArgumentError(std::string(where) + ": required attribute `" + name +
                                        "` is missing");
          }
          continue;
        }
        CUSTOS_RETURN_IF_ERROR(CheckValue(*v, *attr.type, std::string(where) + "." + name));
      }
      if (!type.record.additional_attributes) {
        for (const auto& [name, v] : rec.fields) {
          if (type.record.Find(name) == nullptr) {
            return InvalidArgumentError(std::string(where) + ": attribute `" + name +
                                        "` is not declared in the schema");
          }
        }
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status Validator::ValidateRequest(const EntityUid& principal, const EntityUid& action,
                                  const EntityUid& resource, const Value& context) const {
  const ActionSchema* a = schema_.FindAction(action.type(), action.id());
  if (a == nullptr) {
    return InvalidArgumentError("request: action " + action.ToString() +
                                " is not declared in the schema");
  }
  auto listed = [](const std::vector<std::string>& types, std::string_view t) {
    return std::find(types.begin(), types.end(), t) != types.end();
  };
  if (!listed(a->principal_types, principal.type())) {
    return InvalidArgumentError("request: principal " + principal.ToString() +
                                " is not of a type that action " + action.ToString() +
                                " applies to");
  }
  if (!IsValidEntityLiteral(principal)) {
    return InvalidArgumentError("request: principal " + principal.ToString() +
                                " is not a valid id of its enumerated type");
  }
  if (!listed(a->resource_types, resource.type())) {
    return InvalidArgumentError("request: resource " + resource.ToString() +
                                " is not of a type that action " + action.ToString() +
                                " applies to");
  }
  if (!IsValidEntityLiteral(resource)) {
    return InvalidArgumentError("request: resource " + resource.ToString() +
                                " is not a valid id of its enumerated type");
  }
  return CheckValue(context, *SchemaType::Record(a->context), "request: context");
}

Status Validator::ValidateEntity(const EntityUid& uid, const RecordData& attributes,
                                 const std::vector<EntityUid>& parents,
                                 const RecordData* tags) const {
  const std::string where = "entity " + uid.ToString();
  const EntityTypeSchema* et = schema_.FindEntityType(uid.type());
  if (et == nullptr) {
    const ActionSchema* a = schema_.FindAction(uid.type(), uid.id());
    if (a == nullptr) {
      return InvalidArgumentError(where + ": its type is not declared in the schema");
    }
    if (!attributes.fields.empty() || (tags != nullptr && !tags->fields.empty())) {
      return InvalidArgumentError(where + ": actions cannot have attributes or tags");
    }
    for (const auto& p : parents) {
      ActionUid pu{std::string(p.type()), std::string(p.id())};
      if (std::find(a->member_of.begin(), a->member_of.end(), pu) == a->member_of.end() &&
          !ActionDescendentOf(a->uid, pu)) {
        return InvalidArgumentError(where + ": parent " + p.ToString() +
                                    " is not one of its groups in the schema");
      }
    }
    return Status::Ok();
  }
  if (!IsValidEntityLiteral(uid)) {
    return InvalidArgumentError(where + ": not one of the ids the enumerated type allows");
  }
  auto record = std::make_shared<RecordData>(attributes);
  CUSTOS_RETURN_IF_ERROR(
      CheckValue(Value(RecordPtr(record)), *SchemaType::Record(et->shape), where + " attributes"));
  for (const auto& p : parents) {
    if (std::find(et->member_of_types.begin(), et->member_of_types.end(), p.type()) ==
        et->member_of_types.end()) {
      return InvalidArgumentError(where + ": parent " + p.ToString() +
                                  " has a type not listed in memberOfTypes of " + et->name);
    }
    if (!IsValidEntityLiteral(p)) {
      return InvalidArgumentError(where + ": parent " + p.ToString() +
                                  " is not a valid id of its enumerated type");
    }
  }
  if (tags != nullptr && !tags->fields.empty()) {
    if (!et->tags) {
      return InvalidArgumentError(where + ": has tags, but type " + et->name + " declares none");
    }
    for (const auto& [k, v] : tags->fields) {
      CUSTOS_RETURN_IF_ERROR(CheckValue(v, *et->tags, where + " tag `" + k + "`"));
    }
  }
  return Status::Ok();
}

}  // namespace custos::policy
