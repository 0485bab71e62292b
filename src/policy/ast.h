// The Cedar policy AST: policies with their scope, conditions and annotations, and the
// expressions of `when`/`unless` bodies stored in one contiguous node array per policy.
// Thread-safety: immutable after parsing; safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/value.h"

namespace custos::policy {

// 1-based line and column of a token in the source text.
struct SourceLoc {
  uint32_t line = 0;
  uint32_t column = 0;
};

enum class Effect : uint8_t { kPermit, kForbid };

// The four request variables.
enum class Var : uint8_t { kPrincipal, kAction, kResource, kContext };
std::string_view VarName(Var var);

// Template slots.
enum class SlotId : uint8_t { kPrincipal, kResource };

// Extension functions and methods. Methods take their receiver as the first argument.
enum class ExtFn : uint8_t {
  // constructors (functions of one string)
  kIp,
  kDecimal,
  kDatetime,
  kDuration,
  // ipaddr methods
  kIsIpv4,
  kIsIpv6,
  kIsLoopback,
  kIsMulticast,
  kIsInRange,
  // decimal methods
  kLessThan,
  kLessThanOrEqual,
  kGreaterThan,
  kGreaterThanOrEqual,
  // datetime methods
  kOffset,
  kDurationSince,
  kToDate,
  kToTime,
  // duration methods
  kToDays,
  kToHours,
  kToMinutes,
  kToSeconds,
  kToMilliseconds,
};
std::string_view ExtFnName(ExtFn fn);
// Looks up an extension function or method by its Cedar name; false if unknown.
bool ExtFnFromName(std::string_view name, ExtFn* fn);
// True for kIp..kDuration (called as `f(x)`); false for methods (called as `x.f(...)`).
bool ExtFnIsConstructor(ExtFn fn);
// Number of arguments including the receiver of a method.
int ExtFnArity(ExtFn fn);

// Expression node kinds. Child indices point into Policy::nodes (or ExprPool::nodes).
enum class ExprKind : uint8_t {
  kLiteral,      // literal value: pool.literals[data]
  kVar,          // variable: var
  kSlot,         // template slot: slot (only after parsing a template body, never evaluated)
  kIf,           // if a then b else c
  kAnd,          // a && b
  kOr,           // a || b
  kNot,          // !a
  kNeg,          // -a
  kEq,           // a == b
  kNe,           // a != b
  kLt,           // a < b
  kLe,           // a <= b
  kGt,           // a > b
  kGe,           // a >= b
  kAdd,          // a + b
  kSub,          // a - b
  kMul,          // a * b
  kIn,           // a in b
  kContains,     // a.contains(b)
  kContainsAll,  // a.containsAll(b)
  kContainsAny,  // a.containsAny(b)
  kIsEmpty,      // a.isEmpty()
  kGetTag,       // a.getTag(b)
  kHasTag,       // a.hasTag(b)
  kGetAttr,      // a.attr or a["attr"]: attribute name pool.strings[data]
  kHas,          // a has attr: attribute name pool.strings[data]
  kLike,         // a like pattern: pool.patterns[data]
  kIs,           // a is Type (b == kNoChild) or a is Type in b: type pool.strings[data]
  kSet,          // [e...]: children pool.children[first .. first+count)
  kRecord,       // {k: e, ...}: values as children, keys pool.strings[data + i]
  kExtCall,      // fn(args...) / args[0].fn(args[1..]): children as for kSet
};

inline constexpr uint32_t kNoChild = 0xffffffffu;

// One expression node. Which fields are meaningful depends on `kind` (see ExprKind).
struct ExprNode {
  ExprKind kind = ExprKind::kLiteral;
  Var var = Var::kPrincipal;         // kVar
  SlotId slot = SlotId::kPrincipal;  // kSlot
  ExtFn fn = ExtFn::kIp;             // kExtCall
  uint32_t a = kNoChild;             // first operand
  uint32_t b = kNoChild;             // second operand
  uint32_t c = kNoChild;             // third operand (kIf's else)
  uint32_t data = 0;                 // index into a pool (see ExprKind)
  uint32_t first = 0;                // kSet, kRecord, kExtCall: first index into pool.children
  uint32_t count = 0;                // kSet, kRecord, kExtCall: number of children
  SourceLoc loc;
};

// A `like` pattern: a sequence of literal characters and `*` wildcards.
struct PatternElem {
  bool wildcard = false;
  std::string literal;  // when !wildcard: a maximal run of literal bytes
};
using Pattern = std::vector<PatternElem>;

// Storage for the expressions of one policy. Nodes reference children by index.
struct ExprPool {
  std::vector<ExprNode> nodes;
  std::vector<uint32_t> children;  // kSet / kRecord / kExtCall operand lists
  std::vector<Value> literals;
  std::vector<std::string> strings;  // attribute names, record keys, entity type names
  std::vector<Pattern> patterns;

  const ExprNode& node(uint32_t i) const { return nodes[i]; }
  uint32_t child(const ExprNode& n, uint32_t i) const { return children[n.first + i]; }
};

// An entity in a scope constraint: a literal uid or a template slot.
struct EntityRef {
  bool is_slot = false;
  SlotId slot = SlotId::kPrincipal;  // when is_slot
  EntityUid uid;                     // when !is_slot
};

// A principal, action or resource constraint in the policy head.
struct ScopeConstraint {
  enum class Op : uint8_t {
    kAny,    // `principal`
    kEq,     // `principal == E`
    kIn,     // `principal in E`
    kIs,     // `principal is T`
    kIsIn,   // `principal is T in E`
    kInSet,  // `action in [A1, A2]` (action only)
  };
  Op op = Op::kAny;
  std::string entity_type;          // kIs, kIsIn
  EntityRef entity;                 // kEq, kIn, kIsIn
  std::vector<EntityUid> entities;  // kInSet
  SourceLoc loc;
};

struct Annotation {
  std::string key;
  std::string value;  // "" when written without a value (`@key`)
  SourceLoc loc;
};

struct Condition {
  bool is_when = true;  // `when` (true) or `unless` (false)
  uint32_t expr = 0;    // root node index in the policy's pool
  SourceLoc loc;
};

// A static policy, a template (has slots), or a template-linked policy (slots filled).
struct Policy {
  std::string id;
  Effect effect = Effect::kPermit;
  std::vector<Annotation> annotations;
  ScopeConstraint principal;
  ScopeConstraint action;
  ScopeConstraint resource;
  std::vector<Condition> conditions;
  ExprPool pool;
  SourceLoc loc;         // position of the effect keyword
  std::string filename;  // source name given to the parser
  // For a linked policy: the template's id. Empty for static policies and templates.
  std::string template_id;

  // True if the scope still contains `?principal` or `?resource`.
  bool IsTemplate() const { return principal.entity.is_slot || resource.entity.is_slot; }
  // The value of annotation `key`, if present.
  std::optional<std::string_view> FindAnnotation(std::string_view key) const;
};

}  // namespace custos::policy
