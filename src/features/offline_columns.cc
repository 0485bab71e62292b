// Columnar buffers: appends, typed reads, the list form and join-key encoding.
#include "features/offline_columns.h"

#include <bit>

#include "common/binary_io.h"

namespace custos::features {
namespace {

using catalog::ScalarType;

using common::GetVarint;
using common::PutVarint;

void PutLe64(std::string& out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);  // little-endian hosts only (x86-64, arm64)
  out.append(buf, 8);
}

bool GetLe64(std::string_view& in, uint64_t& v) {
  if (in.size() < 8) return false;
  std::memcpy(&v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

void PutBigEndian64(std::string& out, uint64_t v) {
  v = __builtin_bswap64(v);
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}

std::string TypeMismatch(catalog::ValueType type) {
  return "value does not have the column's type " + catalog::ValueTypeName(type);
}

}  // namespace

void ColumnVector::Reserve(size_t n) {
  valid.reserve(n);
  fixed.reserve(n);
  if (IsVarlen(type)) lengths.reserve(n);
}

void ColumnVector::Clear() {
  valid.clear();
  fixed.clear();
  lengths.clear();
  arena.clear();
}

void ColumnVector::Resize(size_t n) {
  valid.resize(n, 0);
  fixed.resize(n, 0);
  if (IsVarlen(type)) lengths.resize(n, 0);
}

void ColumnVector::AppendNull() {
  valid.push_back(0);
  fixed.push_back(0);
  if (IsVarlen(type)) lengths.push_back(0);
}

void ColumnVector::AppendBytes(std::string_view bytes) {
  valid.push_back(1);
  fixed.push_back(arena.size());
  lengths.push_back(static_cast<uint32_t>(bytes.size()));
  arena.append(bytes);
}

Status ColumnVector::AppendValue(const catalog::Value& value) {
  if (std::holds_alternative<std::monostate>(value)) {
    AppendNull();
    return Status::Ok();
  }
  if (!catalog::ValueHasType(value, type)) return InvalidArgumentError(TypeMismatch(type));
  if (type.is_list) {
    thread_local std::string encoded;
    encoded.clear();
    CUSTOS_RETURN_IF_ERROR(
        EncodeList(std::get<std::vector<catalog::Scalar>>(value), type.scalar, encoded));
    AppendBytes(encoded);
    return Status::Ok();
  }
  switch (type.scalar) {
    case ScalarType::kInt64:
      AppendInt64(std::get<int64_t>(value));
      break;
    case ScalarType::kDouble:
      AppendDouble(std::get<double>(value));
      break;
    case ScalarType::kString:
      AppendBytes(std::get<std::string>(value));
      break;
    case ScalarType::kBool:
      AppendBool(std::get<bool>(value));
      break;
    case ScalarType::kTimestamp:
      AppendTimestamp(std::get<catalog::Timestamp>(value).micros);
      break;
  }
  return Status::Ok();
}

catalog::Value ColumnVector::ValueAt(size_t i) const {
  if (IsNull(i)) return catalog::Value{};
  if (type.is_list) {
    Result<std::vector<catalog::Scalar>> list = DecodeList(BytesAt(i), type.scalar);
    if (!list.ok()) return catalog::Value{};
    return catalog::Value{std::move(*list)};
  }
  switch (type.scalar) {
    case ScalarType::kInt64:
      return catalog::Value{Int64At(i)};
    case ScalarType::kDouble:
      return catalog::Value{DoubleAt(i)};
    case ScalarType::kString:
      return catalog::Value{std::string(BytesAt(i))};
    case ScalarType::kBool:
      return catalog::Value{BoolAt(i)};
    case ScalarType::kTimestamp:
      return catalog::Value{catalog::Timestamp{Int64At(i)}};
  }
  return catalog::Value{};
}

Status EncodeList(const std::vector<catalog::Scalar>& list, ScalarType element, std::string& out) {
  PutVarint(out, list.size());
  for (const catalog::Scalar& s : list) {
    switch (element) {
      case ScalarType::kInt64: {
        const auto* v = std::get_if<int64_t>(&s);
        if (v == nullptr) return InvalidArgumentError("list element is not an int64");
        PutLe64(out, static_cast<uint64_t>(*v));
        break;
      }
      case ScalarType::kDouble: {
        const auto* v = std::get_if<double>(&s);
        if (v == nullptr) return InvalidArgumentError("list element is not a double");
        PutLe64(out, std::bit_cast<uint64_t>(*v));
        break;
      }
      case ScalarType::kTimestamp: {
        const auto* v = std::get_if<catalog::Timestamp>(&s);
        if (v == nullptr) return InvalidArgumentError("list element is not a timestamp");
        PutLe64(out, static_cast<uint64_t>(v->micros));
        break;
      }
      case ScalarType::kBool: {
        const auto* v = std::get_if<bool>(&s);
        if (v == nullptr) return InvalidArgumentError("list element is not a bool");
        out.push_back(*v ? '\1' : '\0');
        break;
      }
      case ScalarType::kString: {
        const auto* v = std::get_if<std::string>(&s);
        if (v == nullptr) return InvalidArgumentError("list element is not a string");
        PutVarint(out, v->size());
        out.append(*v);
        break;
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<catalog::Scalar>> DecodeList(std::string_view in, ScalarType element) {
  auto corrupt = [] { return DataLossError("malformed list value in an offline column block"); };
  uint64_t count = 0;
  if (!GetVarint(in, count) || count > in.size()) return corrupt();
  std::vector<catalog::Scalar> out;
  out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t v = 0;
    switch (element) {
      case ScalarType::kInt64:
        if (!GetLe64(in, v)) return corrupt();
        out.emplace_back(static_cast<int64_t>(v));
        break;
      case ScalarType::kDouble:
        if (!GetLe64(in, v)) return corrupt();
        out.emplace_back(std::bit_cast<double>(v));
        break;
      case ScalarType::kTimestamp:
        if (!GetLe64(in, v)) return corrupt();
        out.emplace_back(catalog::Timestamp{static_cast<int64_t>(v)});
        break;
      case ScalarType::kBool:
        if (in.empty()) return corrupt();
        out.emplace_back(in[0] != '\0');
        in.remove_prefix(1);
        break;
      case ScalarType::kString:
        if (!GetVarint(in, v) || v > in.size()) return corrupt();
        out.emplace_back(std::string(in.substr(0, v)));
        in.remove_prefix(v);
        break;
    }
  }
  if (!in.empty()) return corrupt();
  return out;
}

Status AppendKeyCell(const ColumnVector& column, size_t row, std::string_view column_name,
                     std::string& out) {
  if (column.type.is_list) {
    return InvalidArgumentError("join key '" + std::string(column_name) +
                                "' is a list; join keys must be scalar");
  }
  if (column.IsNull(row)) {
    return InvalidArgumentError("join key '" + std::string(column_name) + "' is null in row " +
                                std::to_string(row + 1) + "; every entity row needs its keys");
  }
  switch (column.type.scalar) {
    case ScalarType::kInt64:
    case ScalarType::kTimestamp:
      PutBigEndian64(out, column.fixed[row] ^ (uint64_t{1} << 63));
      break;
    case ScalarType::kDouble: {
      // Flip all bits of negatives and the sign bit of positives: memcmp order = numeric order.
      uint64_t bits = column.fixed[row];
      bits = (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
      PutBigEndian64(out, bits);
      break;
    }
    case ScalarType::kBool:
      out.push_back(column.fixed[row] != 0 ? '\1' : '\0');
      break;
    case ScalarType::kString:
      for (char c : column.BytesAt(row)) {
        out.push_back(c);
        if (c == '\0') out.push_back('\xff');
      }
      out.push_back('\0');
      out.push_back('\x01');
      break;
  }
  return Status::Ok();
}

}  // namespace custos::features
