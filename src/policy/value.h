// Cedar runtime values: booleans, 64-bit integers, strings, entity references, sets,
// records and the extension values ipaddr, decimal, datetime and duration.
// Thread-safety: values are immutable once built (sets, records and strings are shared,
// reference-counted and never mutated), so they may be copied and read from any thread.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace custos::policy {

// An entity reference `Type::"id"`, e.g. `NS::User::"alice"`. The type is the fully
// written name (namespaces joined by "::"). Copying shares the immutable data, and the
// hash is computed once, so uids are cheap to copy, compare and look up.
class EntityUid {
 public:
  EntityUid();  // `::""`, only useful as a placeholder
  EntityUid(std::string_view type, std::string_view id);

  std::string_view type() const { return data_->type; }
  std::string_view id() const { return data_->id; }
  size_t hash() const { return data_->hash; }

  // `Type::"id"` with the id escaped as a Cedar string literal.
  std::string ToString() const;

  friend bool operator==(const EntityUid& a, const EntityUid& b) {
    return a.data_ == b.data_ || (a.data_->hash == b.data_->hash &&
                                  a.data_->type == b.data_->type && a.data_->id == b.data_->id);
  }
  // Total order by (type, id).
  friend std::strong_ordering operator<=>(const EntityUid& a, const EntityUid& b);

 private:
  struct Data {
    std::string type;
    std::string id;
    size_t hash;
  };
  std::shared_ptr<const Data> data_;
};

struct EntityUidHash {
  size_t operator()(const EntityUid& uid) const { return uid.hash(); }
};

// An IPv4 or IPv6 address with a prefix length (a single address has prefix 32 / 128).
// The address is kept as written (not masked), as Cedar does: ip("10.0.0.1/24") is not
// equal to ip("10.0.0.0/24").
struct IpAddr {
  bool v6 = false;
  uint8_t prefix = 32;
  std::array<uint8_t, 16> bytes{};  // v4 uses bytes[0..3]; the rest stay zero

  friend bool operator==(const IpAddr&, const IpAddr&) = default;
  friend auto operator<=>(const IpAddr&, const IpAddr&) = default;
};

// A fixed-point decimal with 4 fractional digits: value = scaled / 10^4.
struct Decimal {
  int64_t scaled = 0;
  friend bool operator==(const Decimal&, const Decimal&) = default;
  friend auto operator<=>(const Decimal&, const Decimal&) = default;
};

// A point in time: milliseconds since the Unix epoch (UTC).
struct Datetime {
  int64_t ms = 0;
  friend bool operator==(const Datetime&, const Datetime&) = default;
  friend auto operator<=>(const Datetime&, const Datetime&) = default;
};

// A signed length of time in milliseconds.
struct Duration {
  int64_t ms = 0;
  friend bool operator==(const Duration&, const Duration&) = default;
  friend auto operator<=>(const Duration&, const Duration&) = default;
};

class Value;
struct SetData;
struct RecordData;
using StringPtr = std::shared_ptr<const std::string>;
using SetPtr = std::shared_ptr<const SetData>;
using RecordPtr = std::shared_ptr<const RecordData>;

// The type of a value, in the order used to sort values of different types.
enum class ValueKind : uint8_t {
  kBool,
  kLong,
  kString,
  kEntity,
  kSet,
  kRecord,
  kIpAddr,
  kDecimal,
  kDatetime,
  kDuration,
};

// "bool", "long", "string", "entity", "set", "record", "ipaddr", "decimal", "datetime",
// "duration" (used in error messages).
std::string_view ValueKindName(ValueKind kind);

// A Cedar value. Small (<= 32 bytes) and cheap to copy: heap parts are shared.
class Value {
 public:
  Value() : v_(false) {}
  explicit Value(bool b) : v_(b) {}
  explicit Value(int64_t n) : v_(n) {}
  explicit Value(StringPtr s) : v_(std::move(s)) {}
  explicit Value(EntityUid uid) : v_(std::move(uid)) {}
  explicit Value(SetPtr s) : v_(std::move(s)) {}
  explicit Value(RecordPtr r) : v_(std::move(r)) {}
  explicit Value(IpAddr ip) : v_(ip) {}
  explicit Value(Decimal d) : v_(d) {}
  explicit Value(Datetime d) : v_(d) {}
  explicit Value(Duration d) : v_(d) {}

  static Value String(std::string_view s) { return Value(std::make_shared<const std::string>(s)); }
  // Builds a set: sorts and removes duplicates.
  static Value Set(std::vector<Value> elements);
  // Builds a record; on duplicate keys the last one wins.
  static Value Record(std::vector<std::pair<std::string, Value>> fields);

  ValueKind kind() const { return static_cast<ValueKind>(v_.index()); }
  bool is(ValueKind k) const { return kind() == k; }

  // Preconditions: the value has that kind.
  bool AsBool() const { return std::get<bool>(v_); }
  int64_t AsLong() const { return std::get<int64_t>(v_); }
  const std::string& AsString() const { return *std::get<StringPtr>(v_); }
  const EntityUid& AsEntity() const { return std::get<EntityUid>(v_); }
  const SetData& AsSet() const { return *std::get<SetPtr>(v_); }
  const RecordData& AsRecord() const { return *std::get<RecordPtr>(v_); }
  const IpAddr& AsIpAddr() const { return std::get<IpAddr>(v_); }
  Decimal AsDecimal() const { return std::get<Decimal>(v_); }
  Datetime AsDatetime() const { return std::get<Datetime>(v_); }
  Duration AsDuration() const { return std::get<Duration>(v_); }

  // Cedar syntax: `true`, `-3`, `"a\n"`, `User::"x"`, `[1, 2]`, `{"a": 1}`,
  // `ip("10.0.0.0/8")`, `decimal("1.5000")`, `datetime("...")` as milliseconds,
  // `duration("...ms")`.
  std::string ToString() const;

  // Cedar equality: structural; values of different kinds are unequal.
  friend bool operator==(const Value& a, const Value& b);
  // A total order (kind first, then content), used to keep sets sorted.
  friend std::strong_ordering operator<=>(const Value& a, const Value& b);

 private:
  // Index order must match ValueKind.
  std::variant<bool, int64_t, StringPtr, EntityUid, SetPtr, RecordPtr, IpAddr, Decimal, Datetime,
               Duration>
      v_;
};

// A set of values: sorted by Value's total order, without duplicates.
struct SetData {
  std::vector<Value> elements;

  // Binary search (elements are sorted).
  bool Contains(const Value& v) const;
};

// A record (or an entity's attributes / tags): fields sorted by key, keys unique.
struct RecordData {
  std::vector<std::pair<std::string, Value>> fields;

  // Null when absent.
  const Value* Find(std::string_view key) const;
};

// Escapes `s` as the body of a Cedar string literal (without the quotes).
std::string EscapeCedarString(std::string_view s);

}  // namespace custos::policy
