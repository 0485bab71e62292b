// The principal directory (see directory.h): validation, the sealed record format, nested
// group membership with cycle refusal, and the export to Cedar entities.
#include "identity/directory.h"

#include <algorithm>
#include <deque>
#include <set>

#include "common/binary_io.h"
#include "common/key_encoding.h"

namespace custos::identity {
namespace {

constexpr uint8_t kRecordVersion = 1;
constexpr size_t kMaxAttributeNameLength = 64;

// Key: "principal" | type name | id. Ids are not secret (they name who acts in every
// audit event); everything else about a principal is in the sealed value.
std::string PrincipalKey(const PrincipalId& id) {
  return common::KeyBuilder()
      .AddString("principal")
      .AddString(PrincipalTypeName(id.type))
      .AddString(id.id)
      .Release();
}

std::string PrincipalPrefix(std::optional<PrincipalType> type) {
  common::KeyBuilder key;
  key.AddString("principal");
  if (type) key.AddString(PrincipalTypeName(*type));
  return key.Release();
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@' || c == '+';
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF), as
// Cedar strings are Unicode text.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

bool IsReservedCedarWord(std::string_view name) {
  static constexpr std::string_view kReserved[] = {"true", "false", "if",  "then", "else",
                                                   "in",   "like",  "has", "is",   "__cedar"};
  return std::find(std::begin(kReserved), std::end(kReserved), name) != std::end(kReserved);
}

Status ValidateAttributeName(std::string_view name) {
  if (name.empty()) return InvalidArgumentError("attribute name is empty");
  if (name.size() > kMaxAttributeNameLength) {
    return InvalidArgumentError("attribute name '" + std::string(name.substr(0, 16)) + "...' is " +
                                std::to_string(name.size()) + " characters long; the limit is " +
                                std::to_string(kMaxAttributeNameLength));
  }
  const bool first_ok =
      (name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_';
  bool rest_ok = true;
  for (char c : name) rest_ok = rest_ok && (IsAlnum(c) || c == '_');
  if (!first_ok || !rest_ok) {
    return InvalidArgumentError("attribute name '" + std::string(name) +
                                "' is not a Cedar identifier (letters, digits and '_', not "
                                "starting with a digit), so policies could not read it as "
                                "principal." +
                                std::string(name));
  }
  if (IsReservedCedarWord(name)) {
    return InvalidArgumentError("attribute name '" + std::string(name) +
                                "' is a Cedar reserved word; choose another name");
  }
  return Status::Ok();
}

std::string JoinIds(const std::vector<PrincipalId>& ids, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out.append(sep);
    out += ids[i].ToString();
  }
  return out;
}

audit::ResourceRef Ref(const PrincipalId& id) { return id.ToAuditRef(); }

std::string EncodePrincipal(const Principal& p) {
  common::ByteWriter w;
  w.U8(kRecordVersion).U8(static_cast<uint8_t>(p.id.type)).Str(p.id.id).Str(p.display_name);
  w.U8(p.disabled ? 1 : 0)
      .I64(common::ToUnixMicros(p.created))
      .I64(common::ToUnixMicros(p.updated));
  w.U32(static_cast<uint32_t>(p.attributes.size()));
  for (const auto& [name, value] : p.attributes) {
    w.Str(name).U8(static_cast<uint8_t>(value.kind()));
    switch (value.kind()) {
      case AttributeValue::Kind::kString:
        w.Str(value.string_value());
        break;
      case AttributeValue::Kind::kLong:
        w.I64(value.long_value());
        break;
      case AttributeValue::Kind::kBool:
        w.U8(value.bool_value() ? 1 : 0);
        break;
      case AttributeValue::Kind::kStringSet:
        w.U32(static_cast<uint32_t>(value.set_value().size()));
        for (const auto& item : value.set_value()) w.Str(item);
        break;
    }
  }
  w.U32(static_cast<uint32_t>(p.parents.size()));
  for (const auto& parent : p.parents) w.Str(parent.id);
  return w.Release();
}

Result<Principal> DecodePrincipal(std::string_view data, std::string_view key_text) {
  common::ByteReader r(data, "principal record " + std::string(key_text));
  auto corrupt = [&](const std::string& what) {
    return DataLossError("principal record " + std::string(key_text) + ": " + what);
  };
  CUSTOS_ASSIGN_OR_RETURN(uint8_t version, r.U8());
  if (version != kRecordVersion) {
    return corrupt("unknown record version " + std::to_string(version) +
                   " (written by a newer custos?)");
  }
  Principal p;
  CUSTOS_ASSIGN_OR_RETURN(uint8_t type, r.U8());
  if (type > static_cast<uint8_t>(PrincipalType::kGroup)) {
    return corrupt("unknown principal type " + std::to_string(type));
  }
  p.id.type = static_cast<PrincipalType>(type);
  CUSTOS_ASSIGN_OR_RETURN(std::string_view id, r.Str());
  p.id.id = std::string(id);
  CUSTOS_ASSIGN_OR_RETURN(std::string_view display, r.Str());
  p.display_name = std::string(display);
  CUSTOS_ASSIGN_OR_RETURN(uint8_t disabled, r.U8());
  p.disabled = disabled != 0;
  CUSTOS_ASSIGN_OR_RETURN(int64_t created, r.I64());
  CUSTOS_ASSIGN_OR_RETURN(int64_t updated, r.I64());
  p.created = common::FromUnixMicros(created);
  p.updated = common::FromUnixMicros(updated);
  CUSTOS_ASSIGN_OR_RETURN(uint32_t attr_count, r.U32());
  for (uint32_t i = 0; i < attr_count; ++i) {
    CUSTOS_ASSIGN_OR_RETURN(std::string_view name, r.Str());
    CUSTOS_ASSIGN_OR_RETURN(uint8_t kind, r.U8());
    switch (static_cast<AttributeValue::Kind>(kind)) {
      case AttributeValue::Kind::kString: {
        CUSTOS_ASSIGN_OR_RETURN(std::string_view s, r.Str());
        p.attributes.emplace(std::string(name), AttributeValue::String(s));
        break;
      }
      case AttributeValue::Kind::kLong: {
        CUSTOS_ASSIGN_OR_RETURN(int64_t n, r.I64());
        p.attributes.emplace(std::string(name), AttributeValue::Long(n));
        break;
      }
      case AttributeValue::Kind::kBool: {
        CUSTOS_ASSIGN_OR_RETURN(uint8_t b, r.U8());
        p.attributes.emplace(std::string(name), AttributeValue::Bool(b != 0));
        break;
      }
      case AttributeValue::Kind::kStringSet: {
        CUSTOS_ASSIGN_OR_RETURN(uint32_t n, r.U32());
        std::vector<std::string> items;
        for (uint32_t k = 0; k < n; ++k) {
          CUSTOS_ASSIGN_OR_RETURN(std::string_view s, r.Str());
          items.emplace_back(s);
        }
        p.attributes.emplace(std::string(name), AttributeValue::StringSet(std::move(items)));
        break;
      }
      default:
        return corrupt("attribute '" + std::string(name) + "' has unknown kind " +
                       std::to_string(kind));
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(uint32_t parent_count, r.U32());
  for (uint32_t i = 0; i < parent_count; ++i) {
    CUSTOS_ASSIGN_OR_RETURN(std::string_view parent, r.Str());
    p.parents.push_back(PrincipalId::Group(parent));
  }
  CUSTOS_RETURN_IF_ERROR(r.ExpectEnd());
  return p;
}

}  // namespace

std::string_view PrincipalTypeName(PrincipalType type) {
  switch (type) {
    case PrincipalType::kUser:
      return "User";
    case PrincipalType::kServiceAccount:
      return "ServiceAccount";
    case PrincipalType::kGroup:
      return "Group";
  }
  return "Unknown";
}

Status ValidatePrincipalId(std::string_view id) {
  if (id.empty()) {
    return InvalidArgumentError("principal id is empty; give a name such as \"alice\"");
  }
  if (id.size() > kMaxPrincipalIdLength) {
    return InvalidArgumentError("principal id is " + std::to_string(id.size()) +
                                " characters long; the limit is " +
                                std::to_string(kMaxPrincipalIdLength));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsIdChar(id[i])) {
      const auto c = static_cast<unsigned char>(id[i]);
      const std::string shown = c > 0x20 && c < 0x7F ? std::string("'") + id[i] + "'"
                                                     : "byte 0x" + common::HexEncode({&c, 1});
      return InvalidArgumentError("principal id: character " + std::to_string(i + 1) + " (" +
                                  shown + ") is not allowed; use letters, digits and . _ - @ +");
    }
  }
  if (!IsAlnum(id[0])) {
    return InvalidArgumentError("principal id \"" + std::string(id) +
                                "\" must start with a letter or digit");
  }
  return Status::Ok();
}

Result<PrincipalId> PrincipalId::Make(PrincipalType type, std::string_view id) {
  if (type != PrincipalType::kUser && type != PrincipalType::kServiceAccount &&
      type != PrincipalType::kGroup) {
    return InvalidArgumentError("principal type must be User, ServiceAccount or Group");
  }
  CUSTOS_RETURN_IF_ERROR(ValidatePrincipalId(id));
  return PrincipalId{type, std::string(id)};
}

Result<PrincipalId> PrincipalId::Parse(std::string_view text) {
  const auto sep = text.find("::");
  if (sep == std::string_view::npos) {
    return InvalidArgumentError("principal '" + std::string(text) +
                                "' is not a Cedar uid; write it as User::\"alice\", "
                                "ServiceAccount::\"name\" or Group::\"name\"");
  }
  const std::string_view type_name = text.substr(0, sep);
  PrincipalType type;
  if (type_name == "User") {
    type = PrincipalType::kUser;
  } else if (type_name == "ServiceAccount") {
    type = PrincipalType::kServiceAccount;
  } else if (type_name == "Group") {
    type = PrincipalType::kGroup;
  } else {
    return InvalidArgumentError("principal '" + std::string(text) + "': type '" +
                                std::string(type_name) +
                                "' is not a principal type; use User, ServiceAccount or Group");
  }
  std::string_view quoted = text.substr(sep + 2);
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') {
    return InvalidArgumentError("principal '" + std::string(text) +
                                "': the id must be in double quotes, e.g. " +
                                std::string(type_name) + "::\"name\"");
  }
  return Make(type, quoted.substr(1, quoted.size() - 2));
}

std::string PrincipalId::ToString() const {
  return std::string(PrincipalTypeName(type)) + "::\"" + id + "\"";
}

policy::EntityUid PrincipalId::ToEntityUid() const {
  return policy::EntityUid(PrincipalTypeName(type), id);
}

audit::ResourceRef PrincipalId::ToAuditRef() const {
  return {std::string(PrincipalTypeName(type)), id, 0};
}

AttributeValue AttributeValue::String(std::string_view s) {
  AttributeValue v;
  v.kind_ = Kind::kString;
  v.string_ = std::string(s);
  return v;
}

AttributeValue AttributeValue::Long(int64_t n) {
  AttributeValue v;
  v.kind_ = Kind::kLong;
  v.long_ = n;
  return v;
}

AttributeValue AttributeValue::Bool(bool b) {
  AttributeValue v;
  v.kind_ = Kind::kBool;
  v.long_ = b ? 1 : 0;
  return v;
}

AttributeValue AttributeValue::StringSet(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  AttributeValue v;
  v.kind_ = Kind::kStringSet;
  v.set_ = std::move(items);
  return v;
}

policy::Value AttributeValue::ToCedar() const {
  switch (kind_) {
    case Kind::kString:
      return policy::Value::String(string_);
    case Kind::kLong:
      return policy::Value(long_);
    case Kind::kBool:
      return policy::Value(long_ != 0);
    case Kind::kStringSet: {
      std::vector<policy::Value> items;
      items.reserve(set_.size());
      for (const auto& s : set_) items.push_back(policy::Value::String(s));
      return policy::Value::Set(std::move(items));
    }
  }
  return policy::Value(false);
}

std::string AttributeValue::ToString() const { return ToCedar().ToString(); }

// ---------------------------------------------------------------------------------------

Result<std::unique_ptr<Directory>> Directory::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                   IdentityAuditor& auditor,
                                                   DirectoryOptions options) {
  CUSTOS_ASSIGN_OR_RETURN(
      auto space, storage::EncryptedKeyspace::Open(kv, storage::Keyspace::kIdentity, keyring,
                                                   options.key_owner));
  return std::unique_ptr<Directory>(
      new Directory(kv, std::move(space), auditor, std::move(options)));
}

Status Directory::ValidateAttributes(const Attributes& attributes) const {
  if (attributes.size() > options_.max_attributes) {
    return InvalidArgumentError("a principal may have at most " +
                                std::to_string(options_.max_attributes) + " attributes, got " +
                                std::to_string(attributes.size()));
  }
  auto check_string = [&](const std::string& name, const std::string& s) -> Status {
    if (s.size() > options_.max_string_bytes) {
      return InvalidArgumentError("attribute '" + name + "': a string of " +
                                  std::to_string(s.size()) + " bytes exceeds the limit of " +
                                  std::to_string(options_.max_string_bytes));
    }
    if (!IsValidUtf8(s)) {
      return InvalidArgumentError("attribute '" + name + "': the value is not valid UTF-8");
    }
    return Status::Ok();
  };
  for (const auto& [name, value] : attributes) {
    CUSTOS_RETURN_IF_ERROR(ValidateAttributeName(name));
    if (value.kind() == AttributeValue::Kind::kString) {
      CUSTOS_RETURN_IF_ERROR(check_string(name, value.string_value()));
    } else if (value.kind() == AttributeValue::Kind::kStringSet) {
      if (value.set_value().size() > options_.max_set_items) {
        return InvalidArgumentError(
            "attribute '" + name + "': a set of " + std::to_string(value.set_value().size()) +
            " items exceeds the limit of " + std::to_string(options_.max_set_items));
      }
      for (const auto& item : value.set_value()) CUSTOS_RETURN_IF_ERROR(check_string(name, item));
    }
  }
  return Status::Ok();
}

Result<std::optional<Principal>> Directory::Load(const PrincipalId& id) const {
  const std::string key = PrincipalKey(id);
  CUSTOS_ASSIGN_OR_RETURN(auto stored, space_.Get(key));
  if (!stored) return std::optional<Principal>();
  CUSTOS_ASSIGN_OR_RETURN(Principal p, DecodePrincipal(*stored, id.ToString()));
  if (p.id != id) {
    return DataLossError("principal record " + id.ToString() + " holds " + p.id.ToString());
  }
  return std::optional<Principal>(std::move(p));
}

void Directory::Stage(storage::WriteBatch& batch, const Principal& principal) const {
  space_.PutTo(batch, PrincipalKey(principal.id), EncodePrincipal(principal));
}

Status Directory::AuditThenCommit(const Caller& caller, const IdentityStep& step,
                                  const storage::WriteBatch& batch) {
  CUSTOS_RETURN_IF_ERROR(auditor_.Record(caller, step));
  Status written = kv_.Write(batch);
  if (!written.ok()) {
    // The event above says the step was allowed; this one says it did not happen.
    IdentityStep failed = step;
    failed.outcome = audit::Outcome::kError;
    failed.detail =
        "not applied: storage write failed (" + std::string(StatusCodeName(written.code())) + ")";
    (void)auditor_.Record(caller, failed);
    return written.WithContext("identity: writing " + step.action);
  }
  generation_.fetch_add(1, std::memory_order_release);
  return Status::Ok();
}

Result<Principal> Directory::Get(const PrincipalId& id) const {
  CUSTOS_RETURN_IF_ERROR(ValidatePrincipalId(id.id));
  CUSTOS_ASSIGN_OR_RETURN(auto p, Load(id));
  if (!p) return NotFoundError("principal " + id.ToString() + " does not exist");
  return std::move(*p);
}

Result<Principal> Directory::Create(const Caller& caller, const NewPrincipal& spec) {
  CUSTOS_ASSIGN_OR_RETURN(PrincipalId id, PrincipalId::Make(spec.id.type, spec.id.id));
  if (spec.display_name.size() > options_.max_display_name_bytes ||
      !IsValidUtf8(spec.display_name)) {
    return InvalidArgumentError("display name of " + id.ToString() + " must be valid UTF-8 of " +
                                "at most " + std::to_string(options_.max_display_name_bytes) +
                                " bytes");
  }
  CUSTOS_RETURN_IF_ERROR(ValidateAttributes(spec.attributes).WithContext(id.ToString()));
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(auto existing, Load(id));
  if (existing) {
    return AlreadyExistsError("principal " + id.ToString() +
                              " already exists; update it or choose another id");
  }
  Principal p;
  p.id = id;
  p.display_name = spec.display_name;
  p.attributes = spec.attributes;
  p.created = auditor_.clock().Now();
  p.updated = p.created;
  storage::WriteBatch batch;
  Stage(batch, p);
  std::string names;
  for (const auto& [name, value] : p.attributes) names += (names.empty() ? "" : ",") + name;
  CUSTOS_RETURN_IF_ERROR(AuditThenCommit(caller,
                                         {.action = "identity.principal.create",
                                          .targets = {Ref(id)},
                                          .detail = "attributes: " + names},
                                         batch));
  return p;
}

Result<Principal> Directory::UpdateAttributes(const Caller& caller, const PrincipalId& id,
                                              const AttributeUpdate& update) {
  for (const auto& name : update.remove) {
    if (update.set.count(name) != 0) {
      return InvalidArgumentError(id.ToString() + ": attribute '" + name +
                                  "' is both set and removed; do one or the other");
    }
  }
  if (update.display_name && (update.display_name->size() > options_.max_display_name_bytes ||
                              !IsValidUtf8(*update.display_name))) {
    return InvalidArgumentError("display name of " + id.ToString() + " must be valid UTF-8 of " +
                                "at most " + std::to_string(options_.max_display_name_bytes) +
                                " bytes");
  }
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(Principal p, Get(id));
  for (const auto& name : update.remove) {
    if (p.attributes.erase(name) == 0) {
      return NotFoundError(id.ToString() + " has no attribute '" + name + "' to remove");
    }
  }
  for (const auto& [name, value] : update.set) p.attributes.insert_or_assign(name, value);
  CUSTOS_RETURN_IF_ERROR(ValidateAttributes(p.attributes).WithContext(id.ToString()));
  if (update.display_name) p.display_name = *update.display_name;
  p.updated = auditor_.clock().Now();
  storage::WriteBatch batch;
  Stage(batch, p);
  std::string detail;
  for (const auto& [name, value] : update.set) detail += (detail.empty() ? "set " : ",") + name;
  for (size_t i = 0; i < update.remove.size(); ++i) {
    detail += (i == 0 ? (detail.empty() ? "removed " : "; removed ") : ",") + update.remove[i];
  }
  if (update.display_name) detail += detail.empty() ? "display name" : "; display name";
  CUSTOS_RETURN_IF_ERROR(AuditThenCommit(
      caller, {.action = "identity.principal.update", .targets = {Ref(id)}, .detail = detail},
      batch));
  return p;
}

Status Directory::SetDisabled(const Caller& caller, const PrincipalId& id, bool disabled) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(Principal p, Get(id));
  if (p.disabled == disabled) return Status::Ok();  // nothing changes, nothing to record
  p.disabled = disabled;
  p.updated = auditor_.clock().Now();
  storage::WriteBatch batch;
  Stage(batch, p);
  return AuditThenCommit(
      caller,
      {.action = disabled ? "identity.principal.disable" : "identity.principal.enable",
       .targets = {Ref(id)}},
      batch);
}

Status Directory::Delete(const Caller& caller, const PrincipalId& id) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(Principal p, Get(id));
  storage::WriteBatch batch;
  batch.Delete(storage::Keyspace::kIdentity, PrincipalKey(id));
  size_t detached = 0;
  if (id.type == PrincipalType::kGroup) {
    // Members keep no dangling parent: the deletion and their updates are one batch.
    CUSTOS_ASSIGN_OR_RETURN(auto all, List());
    const auto now = auditor_.clock().Now();
    for (auto& member : all) {
      auto it = std::find(member.parents.begin(), member.parents.end(), id);
      if (it == member.parents.end()) continue;
      member.parents.erase(it);
      member.updated = now;
      Stage(batch, member);
      ++detached;
    }
  }
  return AuditThenCommit(
      caller,
      {.action = "identity.principal.delete",
       .targets = {Ref(id)},
       .detail =
           id.type == PrincipalType::kGroup ? "members detached: " + std::to_string(detached) : ""},
      batch);
}

Result<std::vector<Principal>> Directory::List(std::optional<PrincipalType> type) const {
  std::vector<Principal> out;
  CUSTOS_RETURN_IF_ERROR(space_.ScanPrefix(
      PrincipalPrefix(type), [&](std::string_view key, std::string_view value) -> Status {
        CUSTOS_ASSIGN_OR_RETURN(Principal p,
                                DecodePrincipal(value, common::HexEncode(common::AsBytes(key))));
        out.push_back(std::move(p));
        return Status::Ok();
      }));
  // Keys sort by type name ("Group" < "ServiceAccount" < "User"); callers expect the enum
  // order, then the id.
  std::stable_sort(out.begin(), out.end(),
                   [](const Principal& a, const Principal& b) { return a.id < b.id; });
  return out;
}

Status Directory::AddMember(const Caller& caller, const PrincipalId& group,
                            const PrincipalId& member) {
  if (group.type != PrincipalType::kGroup) {
    return InvalidArgumentError(group.ToString() + " is not a group; only Group principals " +
                                "have members");
  }
  if (group == member) {
    return FailedPreconditionError("membership cycle: " + group.ToString() +
                                   " cannot be a member of itself");
  }
  std::lock_guard lock(write_mu_);
  CUSTOS_RETURN_IF_ERROR(Get(group).status());
  CUSTOS_ASSIGN_OR_RETURN(Principal m, Get(member));
  if (std::find(m.parents.begin(), m.parents.end(), group) != m.parents.end()) {
    return AlreadyExistsError(member.ToString() + " is already a member of " + group.ToString());
  }
  if (m.parents.size() >= options_.max_parents) {
    return ResourceExhaustedError(member.ToString() + " is already in " +
                                  std::to_string(m.parents.size()) +
                                  " groups, the limit; remove it from one first");
  }
  if (member.type == PrincipalType::kGroup) {
    // A cycle appears iff `member` is `group` or one of its ancestors. Walk up from
    // `group`, keeping each group's child on the path so the message can show it.
    std::map<PrincipalId, PrincipalId> child_of;
    std::deque<PrincipalId> queue{group};
    std::set<PrincipalId> seen{group};
    while (!queue.empty()) {
      PrincipalId at = queue.front();
      queue.pop_front();
      CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(at));
      if (!rec) continue;
      for (const auto& parent : rec->parents) {
        if (!seen.insert(parent).second) continue;
        child_of.emplace(parent, at);
        if (parent == member) {
          std::vector<PrincipalId> path{member};
          for (PrincipalId cur = member; cur != group;) {
            cur = child_of.at(cur);
            path.push_back(cur);
          }
          std::reverse(path.begin(), path.end());
          return FailedPreconditionError("membership cycle: " + group.ToString() +
                                         " is already inside " + member.ToString() + " (" +
                                         JoinIds(path, " in ") + "), so " + member.ToString() +
                                         " cannot also be a member of " + group.ToString());
        }
        queue.push_back(parent);
      }
    }
  }
  m.parents.push_back(group);
  std::sort(m.parents.begin(), m.parents.end());
  m.updated = auditor_.clock().Now();
  storage::WriteBatch batch;
  Stage(batch, m);
  return AuditThenCommit(
      caller, {.action = "identity.group.add_member", .targets = {Ref(group), Ref(member)}}, batch);
}

Status Directory::RemoveMember(const Caller& caller, const PrincipalId& group,
                               const PrincipalId& member) {
  std::lock_guard lock(write_mu_);
  CUSTOS_ASSIGN_OR_RETURN(Principal m, Get(member));
  auto it = std::find(m.parents.begin(), m.parents.end(), group);
  if (it == m.parents.end()) {
    return NotFoundError(member.ToString() + " is not a direct member of " + group.ToString());
  }
  m.parents.erase(it);
  m.updated = auditor_.clock().Now();
  storage::WriteBatch batch;
  Stage(batch, m);
  return AuditThenCommit(
      caller, {.action = "identity.group.remove_member", .targets = {Ref(group), Ref(member)}},
      batch);
}

Result<std::vector<PrincipalId>> Directory::Members(const PrincipalId& group) const {
  CUSTOS_RETURN_IF_ERROR(Get(group).status());
  CUSTOS_ASSIGN_OR_RETURN(auto all, List());
  std::vector<PrincipalId> out;
  for (const auto& p : all) {
    if (std::find(p.parents.begin(), p.parents.end(), group) != p.parents.end()) {
      out.push_back(p.id);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<PrincipalId>> Directory::Ancestors(const PrincipalId& id) const {
  CUSTOS_ASSIGN_OR_RETURN(Principal start, Get(id));
  std::set<PrincipalId> seen;
  std::deque<PrincipalId> queue(start.parents.begin(), start.parents.end());
  while (!queue.empty()) {
    PrincipalId at = queue.front();
    queue.pop_front();
    if (!seen.insert(at).second) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto rec, Load(at));
    if (rec) queue.insert(queue.end(), rec->parents.begin(), rec->parents.end());
  }
  return std::vector<PrincipalId>(seen.begin(), seen.end());
}

Status Directory::CheckActive(const PrincipalId& id) const {
  auto p = Load(id);
  if (!p.ok()) return p.status();
  if (!p->has_value()) {
    return UnauthenticatedError("principal " + id.ToString() + " no longer exists");
  }
  if ((*p)->disabled) {
    return UnauthenticatedError("principal " + id.ToString() +
                                " is disabled; an administrator must enable it");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const std::vector<policy::Entity>>> Directory::Entities() const {
  // Read the generation before scanning: a change committed during the scan makes the
  // next call rebuild, so the cache can be stale by at most a change in flight.
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  {
    std::lock_guard lock(cache_mu_);
    if (cached_entities_ && cached_generation_ == generation) return cached_entities_;
  }
  CUSTOS_ASSIGN_OR_RETURN(auto all, List());
  auto entities = std::make_shared<std::vector<policy::Entity>>();
  entities->reserve(all.size());
  for (const auto& p : all) {
    policy::Entity entity;
    entity.uid = p.id.ToEntityUid();
    std::vector<std::pair<std::string, policy::Value>> fields;
    fields.reserve(p.attributes.size());
    for (const auto& [name, value] : p.attributes) fields.emplace_back(name, value.ToCedar());
    entity.attrs = policy::Value::Record(std::move(fields));
    for (const auto& parent : p.parents) entity.parents.push_back(parent.ToEntityUid());
    entities->push_back(std::move(entity));
  }
  std::shared_ptr<const std::vector<policy::Entity>> built = std::move(entities);
  std::lock_guard lock(cache_mu_);
  if (!cached_entities_ || generation >= cached_generation_) {
    cached_entities_ = built;
    cached_generation_ = generation;
  }
  return built;
}

Status Directory::ExportEntities(policy::EntityStore& store) const {
  CUSTOS_ASSIGN_OR_RETURN(auto entities, Entities());
  for (const auto& entity : *entities) CUSTOS_RETURN_IF_ERROR(store.Add(entity));
  return Status::Ok();
}

Result<policy::EntityStore> Directory::BuildEntityStore() const {
  policy::EntityStore store;
  CUSTOS_RETURN_IF_ERROR(ExportEntities(store));
  store.Build();
  return store;
}

uint64_t Directory::generation() const { return generation_.load(std::memory_order_acquire); }

}  // namespace custos::identity
