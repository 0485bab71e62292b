// Cedar values: construction, equality, total order and printing.
#include "policy/value.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "policy/extensions.h"

namespace custos::policy {

namespace {

size_t HashUid(std::string_view type, std::string_view id) {
  size_t h = std::hash<std::string_view>{}(type);
  h ^= std::hash<std::string_view>{}(id) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

}  // namespace

EntityUid::EntityUid() : EntityUid("", "") {}

EntityUid::EntityUid(std::string_view type, std::string_view id)
    : data_(std::make_shared<const Data>(
          Data{std::string(type), std::string(id), HashUid(type, id)})) {}

std::string EntityUid::ToString() const {
  std::string out(type());
  out += "::\"";
  out += EscapeCedarString(id());
  out += '"';
  return out;
}

std::strong_ordering operator<=>(const EntityUid& a, const EntityUid& b) {
  if (a.data_ == b.data_) return std::strong_ordering::equal;
  if (auto c = a.data_->type.compare(b.data_->type); c != 0) {
    return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  auto c = a.data_->id.compare(b.data_->id);
  if (c == 0) return std::strong_ordering::equal;
  return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
}

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kLong:
      return "long";
    case ValueKind::kString:
      return "string";
    case ValueKind::kEntity:
      return "entity";
    case ValueKind::kSet:
      return "set";
    case ValueKind::kRecord:
      return "record";
    case ValueKind::kIpAddr:
      return "ipaddr";
    case ValueKind::kDecimal:
      return "decimal";
    case ValueKind::kDatetime:
      return "datetime";
    case ValueKind::kDuration:
      return "duration";
  }
  return "?";
}

Value Value::Set(std::vector<Value> elements) {
  std::sort(elements.begin(), elements.end(),
            [](const Value& a, const Value& b) { return (a <=> b) < 0; });
  elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
  auto data = std::make_shared<SetData>();
  data->elements = std::move(elements);
  return Value(SetPtr(std::move(data)));
}

Value Value::Record(std::vector<std::pair<std::string, Value>> fields) {
  // Stable sort keeps the input order among equal keys so that "last wins" is well defined.
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, Value>> unique;
  unique.reserve(fields.size());
  for (auto& f : fields) {
    if (!unique.empty() && unique.back().first == f.first) {
      unique.back().second = std::move(f.second);
    } else {
      unique.push_back(std::move(f));
    }
  }
  auto data = std::make_shared<RecordData>();
  data->fields = std::move(unique);
  return Value(RecordPtr(std::move(data)));
}

bool SetData::Contains(const Value& v) const {
  auto it = std::lower_bound(elements.begin(), elements.end(), v,
                             [](const Value& a, const Value& b) { return (a <=> b) < 0; });
  return it != elements.end() && *it == v;
}

const Value* RecordData::Find(std::string_view key) const {
  // Records are small; a linear scan beats binary search up to a dozen fields.
  if (fields.size() <= 8) {
    for (const auto& f : fields) {
      if (f.first == key) return &f.second;
    }
    return nullptr;
  }
  auto it = std::lower_bound(fields.begin(), fields.end(), key,
                             [](const auto& f, std::string_view k) { return f.first < k; });
  if (it != fields.end() && it->first == key) return &it->second;
  return nullptr;
}

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  switch (a.kind()) {
    case ValueKind::kBool:
      return a.AsBool() == b.AsBool();
    case ValueKind::kLong:
      return a.AsLong() == b.AsLong();
    case ValueKind::kString: {
      const auto& pa = std::get<StringPtr>(a.v_);
      const auto& pb = std::get<StringPtr>(b.v_);
      return pa == pb || *pa == *pb;
    }
    case ValueKind::kEntity:
      return a.AsEntity() == b.AsEntity();
    case ValueKind::kSet: {
      const auto& pa = std::get<SetPtr>(a.v_);
      const auto& pb = std::get<SetPtr>(b.v_);
      return pa == pb || pa->elements == pb->elements;
    }
    case ValueKind::kRecord: {
      const auto& pa = std::get<RecordPtr>(a.v_);
      const auto& pb = std::get<RecordPtr>(b.v_);
      return pa == pb || pa->fields == pb->fields;
    }
    case ValueKind::kIpAddr:
      return a.AsIpAddr() == b.AsIpAddr();
    case ValueKind::kDecimal:
      return a.AsDecimal() == b.AsDecimal();
    case ValueKind::kDatetime:
      return a.AsDatetime() == b.AsDatetime();
    case ValueKind::kDuration:
      return a.AsDuration() == b.AsDuration();
  }
  return false;
}

std::strong_ordering operator<=>(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return a.v_.index() <=> b.v_.index();
  switch (a.kind()) {
    case ValueKind::kBool:
      return a.AsBool() <=> b.AsBool();
    case ValueKind::kLong:
      return a.AsLong() <=> b.AsLong();
    case ValueKind::kString: {
      int c = a.AsString().compare(b.AsString());
      return c == 0 ? std::strong_ordering::equal
                    : (c < 0 ? std::strong_ordering::less : std::strong_ordering::greater);
    }
    case ValueKind::kEntity:
      return a.AsEntity() <=> b.AsEntity();
    case ValueKind::kSet: {
      const auto& ea = a.AsSet().elements;
      const auto& eb = b.AsSet().elements;
      return std::lexicographical_compare_three_way(ea.begin(), ea.end(), eb.begin(), eb.end());
    }
    case ValueKind::kRecord: {
      const auto& fa = a.AsRecord().fields;
      const auto& fb = b.AsRecord().fields;
      size_t n = std::min(fa.size(), fb.size());
      for (size_t i = 0; i < n; ++i) {
        int c = fa[i].first.compare(fb[i].first);
        if (c != 0) return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
        auto v = fa[i].second <=> fb[i].second;
        if (v != 0) return v;
      }
      return fa.size() <=> fb.size();
    }
    case ValueKind::kIpAddr:
      return a.AsIpAddr() <=> b.AsIpAddr();
    case ValueKind::kDecimal:
      return a.AsDecimal() <=> b.AsDecimal();
    case ValueKind::kDatetime:
      return a.AsDatetime() <=> b.AsDatetime();
    case ValueKind::kDuration:
      return a.AsDuration() <=> b.AsDuration();
  }
  return std::strong_ordering::equal;
}

std::string EscapeCedarString(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[16];
          std::snprintf(buf, sizeof(buf), "\\u{%x}", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string Value::ToString() const {
  switch (kind()) {
    case ValueKind::kBool:
      return AsBool() ? "true" : "false";
    case ValueKind::kLong:
      return std::to_string(AsLong());
    case ValueKind::kString:
      return "\"" + EscapeCedarString(AsString()) + "\"";
    case ValueKind::kEntity:
      return AsEntity().ToString();
    case ValueKind::kSet: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : AsSet().elements) {
        if (!first) out += ", ";
        first = false;
        out += e.ToString();
      }
      return out + "]";
    }
    case ValueKind::kRecord: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : AsRecord().fields) {
        if (!first) out += ", ";
        first = false;
        out += "\"" + EscapeCedarString(k) + "\": " + v.ToString();
      }
      return out + "}";
    }
    case ValueKind::kIpAddr:
      return "ip(\"" + FormatIpAddr(AsIpAddr()) + "\")";
    case ValueKind::kDecimal:
      return "decimal(\"" + FormatDecimal(AsDecimal()) + "\")";
    case ValueKind::kDatetime:
      return "datetime(\"1970-01-01\").offset(duration(\"" + std::to_string(AsDatetime().ms) +
             "ms\"))";
    case ValueKind::kDuration:
      return "duration(\"" + std::to_string(AsDuration().ms) + "ms\")";
  }
  return "?";
}

}  // namespace custos::policy
