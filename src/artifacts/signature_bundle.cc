// Artifact signatures, key ids, and the strict JSON forms of bundles and trusted keys
// (see signature_bundle.h).
#include "artifacts/signature_bundle.h"

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "common/bytes.h"
#include "common/public_base64url.h"
#include "crypto/hash.h"

namespace custos::artifacts {
namespace {

using nlohmann::json;

constexpr std::string_view kKeyIdPrefix = "ed25519:";
constexpr size_t kKeyIdHexDigits = 16;
// Deeper nesting than any valid document has is refused before a tree is built.
constexpr size_t kMaxJsonDepth = 8;

// A SAX pass over the text before the tree is built: nlohmann keeps the last of duplicated
// members, and two parsers that disagree on which copy wins are how smuggling starts, so
// duplicates are refused, with the JSON path of the second copy. It also bounds nesting.
class StrictJsonChecker {
 public:
  bool null() { return Value(); }
  bool boolean(bool) { return Value(); }
  bool number_integer(json::number_integer_t) { return Value(); }
  bool number_unsigned(json::number_unsigned_t) { return Value(); }
  bool number_float(json::number_float_t, const std::string&) { return Value(); }
  bool string(std::string&) { return Value(); }
  bool binary(json::binary_t&) { return Value(); }
  bool start_object(std::size_t) { return Open(/*array=*/false); }
  bool key(std::string& name) {
    Frame& top = frames_.back();
    if (!top.keys.insert(name).second) {
      top.key = name;
      error_ = Path() + ": member appears more than once; keep one copy";
      return false;
    }
    top.key = name;
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(/*array=*/true); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    std::string what = e.what();
    // nlohmann's text says "[json.exception.parse_error.101] parse error at line 1, ...".
    if (size_t close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    error_ = "not valid JSON at byte " + std::to_string(position) + ": " + what;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool array = false;
    size_t index = 0;
    std::string key;
    std::set<std::string, std::less<>> keys;
  };

  bool Value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    return true;
  }
  bool Open(bool array) {
    if (frames_.size() >= kMaxJsonDepth) {
      error_ = Path() + ": nested deeper than " + std::to_string(kMaxJsonDepth) +
               " levels; no valid document does";
      return false;
    }
    frames_.push_back(Frame{array, 0, {}, {}});
    return true;
  }
  bool Close() {
    frames_.pop_back();
    return Value();
  }
  std::string Path() const {
    std::string path;
    for (const Frame& f : frames_) {
      if (f.array) {
        path += "[" + std::to_string(f.index) + "]";
      } else if (!f.key.empty() || !f.keys.empty()) {
        path += (path.empty() ? "" : ".") + f.key;
      }
    }
    return path.empty() ? "(root)" : path;
  }

  std::vector<Frame> frames_;
  std::string error_;
};

Status Refuse(const std::string& path, const std::string& what) {
  return InvalidArgumentError(path + ": " + what);
}

std::string Join(const std::string& path, std::string_view member) {
  return path.empty() ? std::string(member) : path + "." + std::string(member);
}

// Parses `text` into a tree that has no duplicate members and whose root is an object.
Result<json> ParseStrictObject(std::string_view text, std::string_view what) {
  if (text.size() > kMaxBundleJsonBytes) {
    return Refuse("(root)", std::string(what) + " of " + std::to_string(text.size()) +
                                " bytes is larger than the " + std::to_string(kMaxBundleJsonBytes) +
                                "-byte limit");
  }
  StrictJsonChecker checker;
  bool ok = json::sax_parse(text.begin(), text.end(), &checker, json::input_format_t::json,
                            /*strict=*/true);
  if (!ok) {
    return InvalidArgumentError(checker.error().empty() ? "(root): not valid JSON"
                                                        : checker.error());
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Refuse("(root)", "not valid JSON");
  if (!doc.is_object()) {
    return Refuse("(root)", std::string(what) + " must be a JSON object, got " + doc.type_name());
  }
  return doc;
}

// Refuses members outside `allowed` and requires every one of them.
Status ExactMembers(const json& object, const std::string& path,
                    std::initializer_list<std::string_view> allowed) {
  std::string list;
  for (std::string_view name : allowed) list += (list.empty() ? "" : ", ") + std::string(name);
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    for (std::string_view name : allowed) known = known || it.key() == name;
    if (!known) {
      return Refuse(Join(path, it.key().substr(0, 64)), "unknown member; the members are " + list);
    }
  }
  for (std::string_view name : allowed) {
    if (!object.contains(name)) return Refuse(Join(path, name), "missing; the members are " + list);
  }
  return Status::Ok();
}

Result<const json*> ObjectAt(const json& parent, const std::string& path, const char* name) {
  const json& value = parent.at(name);
  if (!value.is_object()) {
    return Refuse(Join(path, name), std::string("must be an object, got ") + value.type_name());
  }
  return &value;
}

Result<const json*> ArrayAt(const json& parent, const std::string& path, const char* name) {
  const json& value = parent.at(name);
  if (!value.is_array()) {
    return Refuse(Join(path, name), std::string("must be an array, got ") + value.type_name());
  }
  return &value;
}

Result<std::string> StringAt(const json& parent, const std::string& path, const char* name) {
  const json& value = parent.at(name);
  if (!value.is_string()) {
    return Refuse(Join(path, name), std::string("must be a string, got ") + value.type_name());
  }
  return value.get<std::string>();
}

Result<uint64_t> UnsignedAt(const json& parent, const std::string& path, const char* name) {
  const json& value = parent.at(name);
  if (!value.is_number_unsigned()) {
    return Refuse(Join(path, name), std::string("must be a non-negative integer below 2^64, got ") +
                                        (value.is_number() ? "another number" : value.type_name()));
  }
  return value.get<uint64_t>();
}

Status CheckFormat(const json& doc, std::string_view expected) {
  CUSTOS_ASSIGN_OR_RETURN(std::string format, StringAt(doc, "", "format"));
  if (format != expected) {
    return Refuse("format", "'" + format.substr(0, 64) + "' is not '" + std::string(expected) +
                                "', the only format this version reads");
  }
  return Status::Ok();
}

Status CheckSigner(std::string_view signer, const std::string& path) {
  if (signer.empty()) return Refuse(path, "empty; name the signer (custos-server or a principal)");
  if (signer.size() > kMaxSignerBytes) {
    return Refuse(path, "of " + std::to_string(signer.size()) + " bytes; at most " +
                            std::to_string(kMaxSignerBytes) + " allowed");
  }
  for (size_t i = 0; i < signer.size(); ++i) {
    auto c = static_cast<unsigned char>(signer[i]);
    if (c < 0x20 || c == 0x7f) {
      return Refuse(path, "control character at byte " + std::to_string(i) + " is not allowed");
    }
  }
  return Status::Ok();
}

Status CheckKeyId(std::string_view key_id, const std::string& path) {
  bool ok = key_id.size() == kKeyIdPrefix.size() + kKeyIdHexDigits &&
            key_id.substr(0, kKeyIdPrefix.size()) == kKeyIdPrefix;
  for (size_t i = kKeyIdPrefix.size(); ok && i < key_id.size(); ++i) {
    char c = key_id[i];
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }
  if (!ok) {
    return Refuse(path, "'" + std::string(key_id.substr(0, 64)) + "' is not a key id; expected " +
                            std::string(kKeyIdPrefix) + " and 16 lowercase hex digits");
  }
  return Status::Ok();
}

Result<ArtifactStatement> StatementFromJson(const json& value, const std::string& path) {
  CUSTOS_RETURN_IF_ERROR(
      ExactMembers(value, path, {"name", "version", "kind", "sha256", "size", "media_type"}));
  ArtifactStatement s;
  CUSTOS_ASSIGN_OR_RETURN(s.name, StringAt(value, path, "name"));
  if (Status v = ValidateArtifactName(s.name); !v.ok()) return v.WithContext(Join(path, "name"));
  CUSTOS_ASSIGN_OR_RETURN(s.version, UnsignedAt(value, path, "version"));
  if (s.version == 0)
    return Refuse(Join(path, "version"), "0 is not a version; versions start at 1");
  CUSTOS_ASSIGN_OR_RETURN(std::string kind, StringAt(value, path, "kind"));
  auto parsed_kind = ParseArtifactKind(kind);
  if (!parsed_kind.ok()) return parsed_kind.status().WithContext(Join(path, "kind"));
  s.kind = *parsed_kind;
  CUSTOS_ASSIGN_OR_RETURN(std::string hex, StringAt(value, path, "sha256"));
  bool lower_hex = hex.size() == 64;
  for (size_t i = 0; lower_hex && i < hex.size(); ++i) {
    lower_hex = (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
  }
  if (!lower_hex) {
    return Refuse(Join(path, "sha256"), "expected 64 lowercase hex digits (a SHA-256 digest)");
  }
  auto digest = common::HexDecode(hex);
  if (!digest.ok()) return digest.status().WithContext(Join(path, "sha256"));
  std::copy(digest->begin(), digest->end(), s.sha256.begin());
  CUSTOS_ASSIGN_OR_RETURN(s.size, UnsignedAt(value, path, "size"));
  CUSTOS_ASSIGN_OR_RETURN(s.media_type, StringAt(value, path, "media_type"));
  if (Status v = ValidateMediaType(s.media_type); !v.ok()) {
    return v.WithContext(Join(path, "media_type"));
  }
  return s;
}

// Decodes unpadded base64url of exactly `size` bytes.
Result<common::Bytes> FixedBase64Url(const json& parent, const std::string& path, const char* name,
                                     size_t size, std::string_view what) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, StringAt(parent, path, name));
  auto bytes = common::PublicBase64UrlDecode(text);
  if (!bytes.ok()) {
    return Refuse(Join(path, name), "not unpadded base64url: " + bytes.status().message());
  }
  if (bytes->size() != size) {
    return Refuse(Join(path, name), std::string(what) + " must be " + std::to_string(size) +
                                        " bytes, this decodes to " + std::to_string(bytes->size()));
  }
  return std::move(*bytes);
}

// Output keeps the documented member order (ordered_json); input order is free.
using OrderedJson = nlohmann::ordered_json;

OrderedJson StatementToJson(const ArtifactStatement& s) {
  OrderedJson out = OrderedJson::object();
  out["name"] = s.name;
  out["version"] = s.version;
  out["kind"] = std::string(ArtifactKindName(s.kind));
  out["sha256"] = common::HexEncode(s.sha256);
  out["size"] = s.size;
  out["media_type"] = s.media_type;
  return out;
}

std::string Dump(const OrderedJson& doc) {
  return doc.dump(2, ' ', /*ensure_ascii=*/false, OrderedJson::error_handler_t::replace) + "\n";
}

}  // namespace

std::string KeyIdOf(const crypto::Ed25519PublicKey& key) {
  crypto::Digest digest = crypto::Sha256Of(key.bytes());
  return std::string(kKeyIdPrefix) +
         common::HexEncode(common::ByteView(digest.data(), kKeyIdHexDigits / 2));
}

std::string BundleToJson(const SignatureBundle& bundle) {
  OrderedJson doc = OrderedJson::object();
  doc["format"] = std::string(kBundleFormat);
  doc["statement"] = StatementToJson(bundle.statement);
  OrderedJson signatures = OrderedJson::array();
  for (const ArtifactSignature& sig : bundle.signatures) {
    OrderedJson entry = OrderedJson::object();
    entry["signer"] = sig.signer;
    entry["key_id"] = sig.key_id;
    entry["signature"] = common::Base64UrlEncode(sig.signature);
    signatures.push_back(std::move(entry));
  }
  doc["signatures"] = std::move(signatures);
  return Dump(doc);
}

Result<SignatureBundle> ParseBundle(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(json doc, ParseStrictObject(text, "a signature bundle"));
  CUSTOS_RETURN_IF_ERROR(ExactMembers(doc, "", {"format", "statement", "signatures"}));
  CUSTOS_RETURN_IF_ERROR(CheckFormat(doc, kBundleFormat));
  SignatureBundle bundle;
  CUSTOS_ASSIGN_OR_RETURN(const json* statement, ObjectAt(doc, "", "statement"));
  CUSTOS_ASSIGN_OR_RETURN(bundle.statement, StatementFromJson(*statement, "statement"));
  CUSTOS_ASSIGN_OR_RETURN(const json* signatures, ArrayAt(doc, "", "signatures"));
  for (size_t i = 0; i < signatures->size(); ++i) {
    const std::string path = "signatures[" + std::to_string(i) + "]";
    const json& entry = (*signatures)[i];
    if (!entry.is_object()) {
      return Refuse(path, std::string("must be an object, got ") + entry.type_name());
    }
    CUSTOS_RETURN_IF_ERROR(ExactMembers(entry, path, {"signer", "key_id", "signature"}));
    ArtifactSignature sig;
    CUSTOS_ASSIGN_OR_RETURN(sig.signer, StringAt(entry, path, "signer"));
    CUSTOS_RETURN_IF_ERROR(CheckSigner(sig.signer, Join(path, "signer")));
    CUSTOS_ASSIGN_OR_RETURN(sig.key_id, StringAt(entry, path, "key_id"));
    CUSTOS_RETURN_IF_ERROR(CheckKeyId(sig.key_id, Join(path, "key_id")));
    CUSTOS_ASSIGN_OR_RETURN(
        common::Bytes raw,
        FixedBase64Url(entry, path, "signature", sig.signature.size(), "an Ed25519 signature"));
    std::copy(raw.begin(), raw.end(), sig.signature.begin());
    bundle.signatures.push_back(std::move(sig));
  }
  return bundle;
}

std::string TrustedKeysToJson(const std::vector<TrustedKey>& keys) {
  OrderedJson doc = OrderedJson::object();
  doc["format"] = std::string(kTrustedKeysFormat);
  OrderedJson list = OrderedJson::array();
  for (const TrustedKey& key : keys) {
    OrderedJson entry = OrderedJson::object();
    entry["signer"] = key.signer;
    entry["key_id"] = key.key_id;
    entry["public_key"] = common::Base64UrlEncode(key.key.bytes());
    list.push_back(std::move(entry));
  }
  doc["keys"] = std::move(list);
  return Dump(doc);
}

Result<std::vector<TrustedKey>> ParseTrustedKeys(std::string_view text) {
  CUSTOS_ASSIGN_OR_RETURN(json doc, ParseStrictObject(text, "a trusted-keys document"));
  CUSTOS_RETURN_IF_ERROR(ExactMembers(doc, "", {"format", "keys"}));
  CUSTOS_RETURN_IF_ERROR(CheckFormat(doc, kTrustedKeysFormat));
  CUSTOS_ASSIGN_OR_RETURN(const json* list, ArrayAt(doc, "", "keys"));
  std::vector<TrustedKey> keys;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = "keys[" + std::to_string(i) + "]";
    const json& entry = (*list)[i];
    if (!entry.is_object()) {
      return Refuse(path, std::string("must be an object, got ") + entry.type_name());
    }
    CUSTOS_RETURN_IF_ERROR(ExactMembers(entry, path, {"signer", "key_id", "public_key"}));
    TrustedKey key;
    CUSTOS_ASSIGN_OR_RETURN(key.signer, StringAt(entry, path, "signer"));
    CUSTOS_RETURN_IF_ERROR(CheckSigner(key.signer, Join(path, "signer")));
    CUSTOS_ASSIGN_OR_RETURN(key.key_id, StringAt(entry, path, "key_id"));
    CUSTOS_RETURN_IF_ERROR(CheckKeyId(key.key_id, Join(path, "key_id")));
    CUSTOS_ASSIGN_OR_RETURN(common::Bytes raw, FixedBase64Url(entry, path, "public_key",
                                                              crypto::Ed25519PublicKey::kSize,
                                                              "an Ed25519 public key"));
    CUSTOS_ASSIGN_OR_RETURN(key.key, crypto::Ed25519PublicKey::FromBytes(raw));
    const std::string expected = KeyIdOf(key.key);
    if (key.key_id != expected) {
      return Refuse(Join(path, "key_id"), "'" + key.key_id +
                                              "' is not the id of this public key (" + expected +
                                              "); fix the key id or the key");
    }
    for (size_t j = 0; j < keys.size(); ++j) {
      if (keys[j].key_id == key.key_id) {
        return Refuse(Join(path, "key_id"), "'" + key.key_id + "' is already listed at keys[" +
                                                std::to_string(j) + "]; list each key once");
      }
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

ArtifactSignature SignStatement(const ArtifactStatement& statement, std::string signer,
                                const crypto::Ed25519PrivateKey& key) {
  ArtifactSignature sig;
  sig.signer = std::move(signer);
  sig.key_id = KeyIdOf(key.public_key());
  sig.signature = key.Sign(common::AsBytes(CanonicalStatement(statement)));
  return sig;
}

bool VerifySignature(const ArtifactStatement& statement, const ArtifactSignature& signature,
                     const std::vector<TrustedKey>& trusted) {
  if (!ValidateStatement(statement).ok()) return false;
  const std::string canonical = CanonicalStatement(statement);
  for (const TrustedKey& key : trusted) {
    if (key.key_id != signature.key_id || key.signer != signature.signer) continue;
    // A trusted-keys list built by hand may carry a key id that is not its key's.
    if (KeyIdOf(key.key) != key.key_id) continue;
    if (key.key.Verify(common::AsBytes(canonical), signature.signature)) return true;
  }
  return false;
}

}  // namespace custos::artifacts
