// Node kinds, ids, field checks and the canonical record encoding.
#include "lineage/graph.h"

#include <array>
#include <utility>

#include "common/binary_io.h"
#include "common/bytes.h"
#include "crypto/hash.h"

namespace custos::lineage {
namespace {

constexpr std::array<std::pair<NodeKind, std::string_view>, 8> kKindNames = {{
    {NodeKind::kSource, "source"},
    {NodeKind::kTransformation, "transformation"},
    {NodeKind::kFeatureView, "feature_view"},
    {NodeKind::kTrainingSet, "training_set"},
    {NodeKind::kModel, "model"},
    {NodeKind::kDeployment, "deployment"},
    {NodeKind::kPrediction, "prediction"},
    {NodeKind::kDataset, "dataset"},
}};

constexpr uint8_t kRecordVersion = 1;

bool HasControlCharacter(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Versions are short tokens without '@', so the last '@' of an id always separates the
// name (which may contain '@', as URIs do) from the version.
bool IsVersionCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == ':' || c == '+';
}

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsAttributeKey(std::string_view key) {
  if (key.empty() || key.size() > 64) return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<NodeKind> DecodeKind(uint8_t byte) {
  for (const auto& [kind, name] : kKindNames) {
    if (static_cast<uint8_t>(kind) == byte) return kind;
  }
  return DataLossError("lineage record has an unknown node kind " + std::to_string(byte));
}

void WriteNode(common::ByteWriter& out, const Node& node) {
  out.U8(static_cast<uint8_t>(node.kind))
      .Str(node.name)
      .Str(node.version)
      .Str(node.content_sha256)
      .U32(static_cast<uint32_t>(node.attributes.size()));
  for (const auto& [key, value] : node.attributes) out.Str(key).Str(value);
}

Result<Node> ReadNode(common::ByteReader& in) {
  Node node;
  CUSTOS_ASSIGN_OR_RETURN(uint8_t kind, in.U8());
  CUSTOS_ASSIGN_OR_RETURN(node.kind, DecodeKind(kind));
  CUSTOS_ASSIGN_OR_RETURN(std::string_view name, in.Str());
  CUSTOS_ASSIGN_OR_RETURN(std::string_view version, in.Str());
  CUSTOS_ASSIGN_OR_RETURN(std::string_view hash, in.Str());
  node.name = name;
  node.version = version;
  node.content_sha256 = hash;
  CUSTOS_ASSIGN_OR_RETURN(uint32_t attribute_count, in.U32());
  if (attribute_count > kMaxAttributes) {
    return DataLossError("lineage node '" + node.Id() + "' has too many attributes");
  }
  for (uint32_t i = 0; i < attribute_count; ++i) {
    CUSTOS_ASSIGN_OR_RETURN(std::string_view key, in.Str());
    CUSTOS_ASSIGN_OR_RETURN(std::string_view value, in.Str());
    node.attributes.emplace(key, value);
  }
  return node;
}

}  // namespace

std::string_view NodeKindName(NodeKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

Result<NodeKind> ParseNodeKind(std::string_view text) {
  std::string accepted;
  for (const auto& [kind, name] : kKindNames) {
    if (name == text) return kind;
    accepted += accepted.empty() ? "" : ", ";
    accepted += name;
  }
  return InvalidArgumentError("unknown node kind '" + std::string(text) + "': use one of " +
                              accepted);
}

std::string MakeNodeId(NodeKind kind, std::string_view name, std::string_view version) {
  std::string id(NodeKindName(kind));
  id += ':';
  id += name;
  id += '@';
  id += version;
  return id;
}

std::string Node::Id() const { return MakeNodeId(kind, name, version); }

Status ValidateNode(const Node& node) {
  const std::string where = "node '" + node.Id() + "'";
  if (NodeKindName(node.kind) == "unknown") {
    return InvalidArgumentError(where + ": unknown kind");
  }
  if (node.name.empty() || node.name.size() > kMaxNameBytes) {
    return InvalidArgumentError(where + ": the name must have 1 to " +
                                std::to_string(kMaxNameBytes) + " bytes");
  }
  if (HasControlCharacter(node.name)) {
    return InvalidArgumentError(where + ": the name contains a control character");
  }
  if (node.version.size() > kMaxVersionBytes) {
    return InvalidArgumentError(where + ": the version has more than " +
                                std::to_string(kMaxVersionBytes) + " bytes");
  }
  for (char c : node.version) {
    if (!IsVersionCharacter(c)) {
      return InvalidArgumentError(where + ": the version may contain only letters, digits and " +
                                  "'.', '_', '-', ':', '+' (found '" + std::string(1, c) + "')");
    }
  }
  if (!node.content_sha256.empty() &&
      (node.content_sha256.size() != 64 || !IsLowerHex(node.content_sha256))) {
    return InvalidArgumentError(where + ": content_sha256 must be 64 lowercase hex digits");
  }
  if (node.attributes.size() > kMaxAttributes) {
    return InvalidArgumentError(where + ": more than " + std::to_string(kMaxAttributes) +
                                " attributes");
  }
  for (const auto& [key, value] : node.attributes) {
    if (!IsAttributeKey(key)) {
      return InvalidArgumentError(where + ": attribute name '" + key +
                                  "' must be 1 to 64 characters of a-z, 0-9 and '_'");
    }
    if (value.size() > kMaxAttributeBytes || HasControlCharacter(value)) {
      return InvalidArgumentError(where + ": attribute '" + key + "' must have at most " +
                                  std::to_string(kMaxAttributeBytes) +
                                  " bytes and no control characters");
    }
  }
  return Status::Ok();
}

std::string EncodeNode(const Node& node) {
  common::ByteWriter out;
  WriteNode(out, node);
  return out.Release();
}

Result<Node> DecodeNode(std::string_view bytes) {
  common::ByteReader in(bytes, "lineage node");
  CUSTOS_ASSIGN_OR_RETURN(Node node, ReadNode(in));
  CUSTOS_RETURN_IF_ERROR(in.ExpectEnd());
  return node;
}

std::string EncodeRecord(const LineageRecord& record) {
  common::ByteWriter out;
  out.U8(kRecordVersion)
      .Str(record.origin)
      .Str(record.principal)
      .I64(common::ToUnixMicros(record.time))
      .U32(static_cast<uint32_t>(record.nodes.size()));
  for (const Node& node : record.nodes) WriteNode(out, node);
  out.U32(static_cast<uint32_t>(record.edges.size()));
  for (const Edge& edge : record.edges) {
    out.Str(edge.from).Str(edge.to).Str(edge.run_id).I64(common::ToUnixMicros(edge.time));
  }
  return out.Release();
}

Result<LineageRecord> DecodeRecord(std::string_view bytes) {
  common::ByteReader in(bytes, "lineage record");
  CUSTOS_ASSIGN_OR_RETURN(uint8_t version, in.U8());
  if (version != kRecordVersion) {
    return DataLossError("lineage record has unknown format version " + std::to_string(version));
  }
  LineageRecord record;
  CUSTOS_ASSIGN_OR_RETURN(std::string_view origin, in.Str());
  CUSTOS_ASSIGN_OR_RETURN(std::string_view principal, in.Str());
  CUSTOS_ASSIGN_OR_RETURN(int64_t time, in.I64());
  record.origin = origin;
  record.principal = principal;
  record.time = common::FromUnixMicros(time);
  CUSTOS_ASSIGN_OR_RETURN(uint32_t node_count, in.U32());
  if (node_count > kMaxNodesPerRecord) return DataLossError("lineage record: too many nodes");
  record.nodes.resize(node_count);
  for (Node& node : record.nodes) {
    CUSTOS_ASSIGN_OR_RETURN(node, ReadNode(in));
  }
  CUSTOS_ASSIGN_OR_RETURN(uint32_t edge_count, in.U32());
  if (edge_count > kMaxEdgesPerRecord) return DataLossError("lineage record: too many edges");
  record.edges.resize(edge_count);
  for (Edge& edge : record.edges) {
    CUSTOS_ASSIGN_OR_RETURN(std::string_view from, in.Str());
    CUSTOS_ASSIGN_OR_RETURN(std::string_view to, in.Str());
    CUSTOS_ASSIGN_OR_RETURN(std::string_view run, in.Str());
    CUSTOS_ASSIGN_OR_RETURN(int64_t edge_time, in.I64());
    edge.from = from;
    edge.to = to;
    edge.run_id = run;
    edge.time = common::FromUnixMicros(edge_time);
  }
  CUSTOS_RETURN_IF_ERROR(in.ExpectEnd());
  return record;
}

std::string RecordDigest(const LineageRecord& record) {
  const std::string bytes = EncodeRecord(record);
  return "sha256:" + common::HexEncode(crypto::Sha256Of(common::AsBytes(bytes)));
}

}  // namespace custos::lineage
