// `custos artifact ...`: the artifact vault (issue 9) from the command line. Every command
// but `verify` and `keygen` works on the data directory (embedded mode, like `custos
// lineage`); `verify` checks a file against its signature bundle and trusted keys offline,
// with no data directory and no secret, and its exit code (0 verified, 1 failed, 2 bad
// input) can gate a CI/CD pipeline.
//
// Who acts: --as PRINCIPAL (the operator acting for a principal, who holds the unseal
// material) or --token-file (a principal's access token; reads and exports are then also
// checked against Cedar, the token's scope and the token's environment), else the
// embedded operator User::"operator".
//
// Key files: `keygen` writes an Ed25519 private key as PASERK k4.secret (mode 0600) and
// its public half as k4.public in KEYFILE.pub; `signer add --public-key` reads k4.public,
// `push --sign-key` reads k4.secret.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/offline_verify.h"
#include "artifacts/signature_bundle.h"
#include "artifacts/statement.h"
#include "artifacts/vault.h"
#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/ids.h"
#include "crypto/hash.h"
#include "crypto/paserk.h"
#include "crypto/secret.h"
#include "features/feature_access.h"
#include "identity/token_claims.h"

namespace custos::cli {
namespace {

namespace fs = std::filesystem;
using artifacts::ArtifactRef;
using artifacts::ArtifactVersion;

// Largest key file read (a PASERK is under 200 bytes).
constexpr size_t kMaxKeyFileBytes = 4096;
// Largest trusted-keys document read (a few thousand keys).
constexpr size_t kMaxKeysFileBytes = 4u << 20;

struct ArtifactFlags {
  InstanceFlags instance;
  std::string ref;  // NAME@VERSION (or NAME for push/list)
  std::string file;
  std::string out;
  std::string kind;
  std::string media_type = "application/octet-stream";
  uint32_t chunk_size = artifacts::kDefaultChunkSize;
  int64_t retention_days = 0;
  std::vector<std::string> labels;
  std::string description;
  std::vector<std::string> inputs;
  std::string sign_key;
  std::string resume;
  std::string to;
  std::string until;
  bool clear = false;
  std::string reason;
  std::string signer;
  std::string public_key;
  std::string key_id;
  std::string upload_id;
  std::string sha256;
  std::string classification = "internal";
  std::vector<std::string> owners;
};

struct OfflineFlags {
  std::string ref;
  std::string file;
  std::string bundle;
  std::string keys;
  std::string out;
  bool json = false;
};

void Print(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

std::string Hex(const crypto::Digest& digest) { return common::HexEncode(digest); }

// A small input file, whole. NotFound when it cannot be opened, InvalidArgument when it is
// larger than `max_bytes` (so a wrong path never reads gigabytes into memory).
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes,
                                  std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFoundError("cannot read the " + std::string(what) + " file '" + path +
                         "': " + std::strerror(errno));
  }
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad())
    return DataLossError("reading the " + std::string(what) + " file '" + path + "' failed");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    return InvalidArgumentError("the " + std::string(what) + " file '" + path + "' is over " +
                                std::to_string(max_bytes) + " bytes; is it the right file?");
  }
  return text;
}

std::string Trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

Status WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out.good()) return UnavailableError("cannot write '" + path + "'; check the directory");
  return Status::Ok();
}

// Writes `text` to a new file readable by its owner only; AlreadyExists rather than
// overwriting a key.
Status WriteSecretFile(const std::string& path, const crypto::SecretBytes& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return AlreadyExistsError("'" + path + "' exists; keygen never overwrites a key file");
    }
    return UnavailableError("cannot create '" + path + "': " + std::strerror(errno));
  }
  const auto bytes = text.span();
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return UnavailableError("cannot write '" + path + "': " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  const bool ok = ::write(fd, "\n", 1) == 1 && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return UnavailableError("cannot write '" + path + "'");
  return Status::Ok();
}

// The signing key in a k4.secret file; the text is wiped from memory once parsed.
Result<crypto::PasetoV4SecretKey> ReadSigningKey(const std::string& path) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxKeyFileBytes, "signing key"));
  std::string paserk = Trimmed(std::move(text));
  auto key = crypto::PaserkToSecretKey(paserk);
  crypto::ZeroizeString(paserk);
  if (!key.ok()) {
    return InvalidArgumentError(path + ": not a PASERK k4.secret key (" + key.status().message() +
                                "); create one with `custos artifact keygen -o FILE`");
  }
  return std::move(*key);
}

Result<crypto::Ed25519PublicKey> ReadPublicKey(const std::string& path) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, kMaxKeyFileBytes, "public key"));
  auto key = crypto::PaserkToPublicKey(Trimmed(std::move(text)));
  if (!key.ok()) {
    return InvalidArgumentError(path + ": not a PASERK k4.public key (" + key.status().message() +
                                "); `custos artifact keygen` writes one to KEYFILE.pub");
  }
  return key->ed25519();
}

// Who acts, as the vault sees them: --as / --token-file, else the embedded operator.
struct Who {
  Acting acting;
  access::Actor actor;
};

Result<Who> ResolveWho(server::Instance& in, const InstanceFlags& f) {
  Who who;
  CUSTOS_ASSIGN_OR_RETURN(who.acting, ResolveActing(in, f));
  if (!who.acting.principal) {
    who.actor.principal = policy::EntityUid("User", "operator");
    who.actor.auth_method = audit::AuthMethod::kEmbedded;
    return who;
  }
  CUSTOS_ASSIGN_OR_RETURN(who.actor, ResolveActor(in, f));
  return who;
}

// For a principal acting with an access token, what the server would check too: the
// token's scope and Cedar for `action` on Artifact::"<name>", and, for a version outside
// the token's environment, a permit for `read_other_environment` (deny by default). The
// operator (no token) holds the unseal material and is not asked.
Status AuthorizeToken(server::Instance& in, const Who& who, std::string_view action,
                      const ArtifactVersion& version) {
  if (!who.acting.token || !who.acting.principal) return Status::Ok();
  const identity::TokenClaims& token = *who.acting.token;
  const policy::EntityUid resource("Artifact", version.name);
  const std::string env_name(identity::EnvironmentName(token.environment));
  features::ReadContext context;
  context.principal = who.acting.principal->ToEntityUid();
  context.purpose = token.purpose;
  context.environment = env_name;
  context.zone = token.zone;
  context.now_seconds = common::ToUnixSeconds(in.clock().Now());
  CUSTOS_ASSIGN_OR_RETURN(policy::EntityStore entities, in.directory().BuildEntityStore());
  auto decide = [&](std::string_view act) -> Status {
    if (!token.scope.Allows(act, resource.ToString())) {
      return PermissionDeniedError("the access token's scope does not include action '" +
                                   std::string(act) + "' on " + resource.ToString() +
                                   "; ask for a token whose scope does");
    }
    policy::Request request;
    request.principal = context.principal;
    request.action = policy::EntityUid("Action", std::string(act));
    request.resource = resource;
    request.context = features::ContextRecord(context);
    const policy::StoreDecision decision = in.policies().IsAuthorized(request, entities);
    if (decision.response.decision != policy::Decision::kAllow) {
      return PermissionDeniedError("no policy permits " + context.principal.ToString() + " to '" +
                                   std::string(act) + "' " + resource.ToString() +
                                   " (deny by default); a data owner can add a Cedar policy");
    }
    return Status::Ok();
  };
  CUSTOS_RETURN_IF_ERROR(decide(action));
  CUSTOS_ASSIGN_OR_RETURN(artifacts::Environment env, artifacts::ParseEnvironment(env_name));
  if (artifacts::InEnvironment(version, env)) return Status::Ok();
  Status other = decide("read_other_environment");
  if (!other.ok()) {
    return PermissionDeniedError(artifacts::FormatArtifactRef(version.ref()) +
                                 " is not in the token's environment '" + env_name + "' and " +
                                 other.message());
  }
  return Status::Ok();
}

Result<ArtifactRef> ParseRef(const std::string& text) {
  auto ref = artifacts::ParseArtifactRef(text);
  if (!ref.ok()) return ref.status().WithContext("NAME@VERSION argument");
  return std::move(*ref);
}

// Appends the read event for a download; fail closed: no byte is written before it.
Result<uint64_t> AuditRead(server::Instance& in, const Who& who, const ArtifactVersion& version) {
  audit::AuditEvent event;
  event.time = in.clock().Now();
  event.request_id = common::NewId("art");
  event.principal_id = who.actor.principal.ToString();
  event.auth_method = who.actor.auth_method;
  event.action = "artifact.version.read";
  event.resources.push_back({"Artifact", version.name, version.version});
  if (who.acting.token) {
    event.purpose = who.acting.token->purpose;
    event.environment = std::string(identity::EnvironmentName(who.acting.token->environment));
  }
  event.decision = audit::Decision::kAllow;
  event.outcome = audit::Outcome::kOk;
  event.outcome_detail = "sha256=" + Hex(version.blob.sha256);
  return in.audit().Append(event);
}

// Streams the version's bytes into `out` through `out`.partial, re-hashing them on the way,
// and renames only when every chunk authenticated and the digest matches: a failure (a
// tampered chunk is DataLoss naming it) leaves neither file behind.
Status Download(server::Instance& in, const Who& who, const ArtifactVersion& version,
                const std::string& out) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<artifacts::BlobReader> reader,
                          in.artifact_vault()->OpenForRead(version.ref(), who.actor));
  const std::string partial = out + ".partial";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) return UnavailableError("cannot create '" + partial + "'; check the directory");
  crypto::Sha256 hash;
  Status copied = reader->CopyTo([&](common::ByteView chunk) -> Status {
    hash.Update(chunk);
    file.write(reinterpret_cast<const char*>(chunk.data()),
               static_cast<std::streamsize>(chunk.size()));
    if (!file.good()) return UnavailableError("cannot write '" + partial + "' (disk full?)");
    return Status::Ok();
  });
  file.close();
  if (copied.ok() && !file.good()) copied = UnavailableError("cannot write '" + partial + "'");
  if (copied.ok() && hash.Finish() != version.blob.sha256) {
    copied = DataLossError("the bytes read back do not hash to the recorded sha256 " +
                           Hex(version.blob.sha256));
  }
  if (!copied.ok()) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    return copied.WithContext("download of " + artifacts::FormatArtifactRef(version.ref()) +
                              " (nothing was written to '" + out + "')");
  }
  std::error_code ec;
  fs::rename(partial, out, ec);
  if (ec)
    return UnavailableError("cannot rename '" + partial + "' to '" + out + "': " + ec.message());
  return Status::Ok();
}

// ------------------------------------------------------------------------------ push

Result<std::map<std::string, std::string>> ParseLabels(const std::vector<std::string>& labels) {
  std::map<std::string, std::string> out;
  for (const std::string& label : labels) {
    const size_t eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgumentError("--label '" + label + "': write it as key=value");
    }
    if (!out.emplace(label.substr(0, eq), label.substr(eq + 1)).second) {
      return InvalidArgumentError("--label: key '" + label.substr(0, eq) + "' given twice");
    }
  }
  return out;
}

// Streams `path` through the upload from `status.next_index` on (earlier chunks are only
// hashed: they were sent before), and answers the SHA-256 of the whole file. Memory is one
// chunk.
Result<crypto::Digest> SendFile(artifacts::ArtifactVault& vault, const std::string& path,
                                artifacts::UploadStatus status) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return NotFoundError("cannot read '" + path + "': " + std::strerror(errno));
  crypto::Sha256 hash;
  std::string chunk(status.chunk_size, '\0');
  for (uint64_t index = 0;; ++index) {
    file.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (file.bad())
      return DataLossError("reading '" + path + "' failed at chunk " + std::to_string(index));
    const size_t n = static_cast<size_t>(file.gcount());
    if (n == 0) break;
    const common::ByteView data(reinterpret_cast<const uint8_t*>(chunk.data()), n);
    hash.Update(data);
    if (index >= status.next_index) {
      auto appended = vault.AppendChunk(status.upload_id, index, data);
      if (!appended.ok()) {
        return appended.status().WithContext("chunk " + std::to_string(index) + " of '" + path +
                                             "'");
      }
    }
    if (n < chunk.size()) break;
  }
  return hash.Finish();
}

Status RunPush(server::Instance& in, const ArtifactFlags& f) {
  artifacts::ArtifactVault& vault = *in.artifact_vault();
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  artifacts::CommitOptions options;
  CUSTOS_ASSIGN_OR_RETURN(options.labels, ParseLabels(f.labels));
  options.description = f.description;
  options.lineage_inputs = f.inputs;
  if (f.retention_days < 0) return InvalidArgumentError("--retention-days must be positive");
  if (f.retention_days > 0) options.retention.duration = std::chrono::hours(24 * f.retention_days);
  std::optional<crypto::PasetoV4SecretKey> key;
  if (!f.sign_key.empty()) {
    if (!who.acting.principal) {
      return InvalidArgumentError(
          "--sign-key signs as the committing principal: pass --as ServiceAccount::<id> (or "
          "--token-file) with the principal the key was registered for");
    }
    CUSTOS_ASSIGN_OR_RETURN(key, ReadSigningKey(f.sign_key));
  }

  artifacts::UploadStatus status;
  if (f.resume.empty()) {
    if (f.kind.empty()) return InvalidArgumentError("push: --kind model|dataset is required");
    CUSTOS_ASSIGN_OR_RETURN(artifacts::ArtifactKind kind, artifacts::ParseArtifactKind(f.kind));
    CUSTOS_ASSIGN_OR_RETURN(status,
                            vault.BeginUpload(f.ref, kind, f.media_type, who.actor, f.chunk_size));
    std::cerr << "upload " << status.upload_id
              << " begun (if interrupted: push again with --resume " << status.upload_id << ")\n";
  } else {
    CUSTOS_ASSIGN_OR_RETURN(status, vault.GetUpload(f.resume));
    std::cerr << "resuming upload " << status.upload_id << " at chunk " << status.next_index
              << "\n";
  }
  // From here on a failure rolls the upload back: no half-visible version, no stray blob.
  auto roll_back = [&](const Status& failed) {
    Status aborted = vault.AbortUpload(status.upload_id);
    return failed.WithContext("push of '" + f.file + "'; upload " + status.upload_id +
                              (aborted.ok() ? " was rolled back"
                                            : " could not be rolled back (" + aborted.ToString() +
                                                  "); abort it with `custos artifact uploads "
                                                  "abort`"));
  };
  auto digest = SendFile(vault, f.file, status);
  if (!digest.ok()) return roll_back(digest.status());
  options.expected_sha256 = *digest;
  if (key) {
    auto statement = vault.StatementFor(status.upload_id);
    if (!statement.ok()) return roll_back(statement.status());
    options.client_signature =
        artifacts::SignStatement(*statement, who.actor.principal.ToString(), key->ed25519());
  }
  auto version = vault.Commit(status.upload_id, options, who.actor);
  if (!version.ok()) return roll_back(version.status());
  if (f.instance.json) {
    Print(nlohmann::json::parse(artifacts::ArtifactVersionToJson(*version)));
  } else {
    std::cout << artifacts::FormatArtifactRef(version->ref()) << "  sha256 "
              << Hex(version->blob.sha256) << "  " << version->blob.size << " bytes  "
              << version->signatures.size() << " signature(s)\n";
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------ reads

std::string EnvironmentsText(const ArtifactVersion& v) {
  std::string text;
  for (artifacts::Environment env : v.environments) {
    if (!text.empty()) text += ",";
    text += artifacts::EnvironmentName(env);
  }
  return text;
}

void PrintVersionLine(const ArtifactVersion& v) {
  std::cout << artifacts::FormatArtifactRef(v.ref()) << "  " << artifacts::ArtifactKindName(v.kind)
            << "  " << artifacts::VersionStateName(v.state) << "  " << EnvironmentsText(v) << "  "
            << v.blob.size << " bytes  sha256 " << Hex(v.blob.sha256).substr(0, 16) << "  "
            << common::FormatRfc3339(v.created) << "  " << v.created_by << "\n";
}

Status RunList(server::Instance& in, const ArtifactFlags& f) {
  artifacts::ArtifactVault& vault = *in.artifact_vault();
  std::vector<ArtifactVersion> versions;
  if (f.ref.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> names, vault.ListNames());
    for (const std::string& name : names) {
      CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion latest, vault.Latest(name));
      versions.push_back(std::move(latest));
    }
  } else {
    CUSTOS_RETURN_IF_ERROR(artifacts::ValidateArtifactName(f.ref));
    CUSTOS_ASSIGN_OR_RETURN(versions, vault.ListVersions(f.ref));
  }
  if (f.instance.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : versions) out.push_back(nlohmann::json::parse(ArtifactVersionToJson(v)));
    Print(out);
    return Status::Ok();
  }
  if (versions.empty()) std::cout << "(no artifacts)\n";
  for (const auto& v : versions) PrintVersionLine(v);
  return Status::Ok();
}

Status RunShow(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v, in.artifact_vault()->Get(ref));
  Print(nlohmann::json::parse(artifacts::ArtifactVersionToJson(v)));
  return Status::Ok();
}

Status RunFind(server::Instance& in, const ArtifactFlags& f) {
  auto bytes = common::HexDecode(f.sha256);
  if (!bytes.ok() || bytes->size() != 32) {
    return InvalidArgumentError("--sha256 must be 64 hex digits, got '" + f.sha256 + "'");
  }
  crypto::Digest digest{};
  std::copy(bytes->begin(), bytes->end(), digest.begin());
  CUSTOS_ASSIGN_OR_RETURN(std::vector<ArtifactRef> refs, in.artifact_vault()->FindByDigest(digest));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& ref : refs) {
    if (f.instance.json) {
      out.push_back(artifacts::FormatArtifactRef(ref));
    } else {
      std::cout << artifacts::FormatArtifactRef(ref) << "\n";
    }
  }
  if (f.instance.json) Print(out);
  if (refs.empty()) return NotFoundError("no artifact version has sha256 " + f.sha256);
  return Status::Ok();
}

Status RunPull(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v, in.artifact_vault()->Get(ref));
  CUSTOS_RETURN_IF_ERROR(AuthorizeToken(in, who, "read", v));
  if (v.state == artifacts::VersionState::kShredded) {
    // Nothing to read, so no read event: the vault's refusal names when and why.
    auto reader = in.artifact_vault()->OpenForRead(ref, who.actor);
    return reader.ok() ? FailedPreconditionError(f.ref + " was crypto-shredded") : reader.status();
  }
  CUSTOS_ASSIGN_OR_RETURN(uint64_t audit_index, AuditRead(in, who, v));
  CUSTOS_RETURN_IF_ERROR(Download(in, who, v, f.out));
  if (f.instance.json) {
    Print({{"ref", artifacts::FormatArtifactRef(ref)},
           {"file", f.out},
           {"size", v.blob.size},
           {"sha256", Hex(v.blob.sha256)},
           {"audit_index", audit_index}});
  } else {
    std::cout << "Wrote " << f.out << " (" << v.blob.size << " bytes, sha256 " << Hex(v.blob.sha256)
              << "), audit entry " << audit_index << "\n";
  }
  return Status::Ok();
}

Status RunExport(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v, in.artifact_vault()->Get(ref));
  CUSTOS_RETURN_IF_ERROR(AuthorizeToken(in, who, "export", v));
  CUSTOS_ASSIGN_OR_RETURN(artifacts::ExportTicket ticket,
                          in.artifact_vault()->AuthorizeExport(ref, who.actor));
  CUSTOS_RETURN_IF_ERROR(Download(in, who, v, f.out));
  if (f.instance.json) {
    Print({{"ref", artifacts::FormatArtifactRef(ref)},
           {"file", f.out},
           {"size", v.blob.size},
           {"sha256", Hex(v.blob.sha256)},
           {"grant_id", ticket.grant_id.value_or("")},
           {"audit_index", ticket.audit_index}});
  } else {
    std::cout << "Exported " << artifacts::FormatArtifactRef(ref) << " to " << f.out << " ("
              << v.blob.size << " bytes)"
              << (ticket.grant_id ? ", under grant " + *ticket.grant_id : std::string())
              << ", audit entry " << ticket.audit_index << "\n";
  }
  return Status::Ok();
}

Status WriteOrPrint(const std::string& out, const std::string& text) {
  if (out.empty() || out == "-") {
    std::cout << text << "\n";
    return Status::Ok();
  }
  CUSTOS_RETURN_IF_ERROR(WriteTextFile(out, text + "\n"));
  std::cerr << "Wrote " << out << "\n";
  return Status::Ok();
}

Status RunBundle(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  CUSTOS_ASSIGN_OR_RETURN(artifacts::SignatureBundle bundle, in.artifact_vault()->Bundle(ref));
  return WriteOrPrint(f.out, artifacts::BundleToJson(bundle));
}

Status RunKeys(server::Instance& in, const ArtifactFlags& f) {
  return WriteOrPrint(f.out, artifacts::TrustedKeysToJson(in.artifact_signers()->TrustedKeys()));
}

// ------------------------------------------------------------------------------ changes

void PrintVersion(const ArtifactVersion& v, bool json, const std::string& what) {
  if (json) {
    Print(nlohmann::json::parse(artifacts::ArtifactVersionToJson(v)));
  } else {
    std::cout << what << "\n";
  }
}

Status RunPromote(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  CUSTOS_ASSIGN_OR_RETURN(artifacts::Environment target, artifacts::ParseEnvironment(f.to));
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v, in.artifact_vault()->Promote(ref, target, who.actor));
  PrintVersion(v, f.instance.json,
               "Promoted " + artifacts::FormatArtifactRef(ref) + " to " +
                   std::string(artifacts::EnvironmentName(target)) + " (now in " +
                   EnvironmentsText(v) + ")");
  return Status::Ok();
}

Status RunRetention(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  const int given = (f.until.empty() ? 0 : 1) + (f.retention_days > 0 ? 1 : 0) + (f.clear ? 1 : 0);
  if (given != 1) {
    return InvalidArgumentError(
        "give exactly one of --until RFC3339, --days N (N >= 1) and --clear");
  }
  std::optional<common::TimePoint> until;
  if (!f.until.empty()) {
    auto parsed = common::ParseRfc3339(f.until);
    if (!parsed.ok()) return parsed.status().WithContext("--until");
    until = *parsed;
  } else if (f.retention_days > 0) {
    until = in.clock().Now() + std::chrono::hours(24 * f.retention_days);
  }
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v,
                          in.artifact_vault()->SetRetention(ref, until, who.actor));
  PrintVersion(v, f.instance.json,
               artifacts::FormatArtifactRef(ref) + ": " +
                   (v.retention_until ? "kept until " + common::FormatRfc3339(*v.retention_until)
                                      : std::string("no retention limit")));
  return Status::Ok();
}

Status RunShred(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, ParseRef(f.ref));
  if (f.reason.empty()) return InvalidArgumentError("--reason TEXT is required (it is audited)");
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v, in.artifact_vault()->Shred(ref, f.reason, who.actor));
  PrintVersion(v, f.instance.json,
               "Crypto-shredded " + artifacts::FormatArtifactRef(ref) +
                   ": its key is destroyed; the record stays as a tombstone");
  return Status::Ok();
}

Status RunShredExpired(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<ArtifactRef> refs, in.artifact_vault()->ShredExpired());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& ref : refs) out.push_back(artifacts::FormatArtifactRef(ref));
  if (f.instance.json) {
    Print(out);
  } else {
    std::cout << "Shredded " << refs.size() << " expired version(s)";
    for (const auto& ref : out) std::cout << " " << ref.get<std::string>();
    std::cout << "\n";
  }
  return Status::Ok();
}

Status RunGovern(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(catalog::Classification classification,
                          catalog::ParseClassification(f.classification));
  std::vector<policy::EntityUid> owners;
  for (const std::string& owner : f.owners) {
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId p, ParsePrincipalArg(owner));
    owners.push_back(p.ToEntityUid());
  }
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(
      catalog::GovernedResource record,
      in.artifact_vault()->EnsureGoverned(f.ref, classification, owners, who.actor));
  std::cout << record.uid.ToString()
            << " is governed: " << catalog::ClassificationName(record.classification) << "\n";
  return Status::Ok();
}

// ------------------------------------------------------------------------------ uploads

Status RunUploadsList(server::Instance& in, const ArtifactFlags& f) {
  const std::vector<artifacts::UploadStatus> uploads = in.blob_store()->ListUploads();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& u : uploads) {
    out.push_back({{"upload_id", u.upload_id},
                   {"chunk_size", u.chunk_size},
                   {"next_index", u.next_index},
                   {"bytes_received", u.bytes_received},
                   {"last_activity", common::FormatRfc3339(u.last_activity)}});
    if (!f.instance.json) {
      std::cout << u.upload_id << "  next chunk " << u.next_index << "  " << u.bytes_received
                << " bytes  last activity " << common::FormatRfc3339(u.last_activity) << "\n";
    }
  }
  if (f.instance.json) Print(out);
  if (!f.instance.json && uploads.empty()) std::cout << "(no open uploads)\n";
  return Status::Ok();
}

Status RunUploadsAbort(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_RETURN_IF_ERROR(in.artifact_vault()->AbortUpload(f.upload_id));
  std::cout << "Rolled back upload " << f.upload_id << "\n";
  return Status::Ok();
}

// ------------------------------------------------------------------------------ signers

Status RunSignerAdd(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId signer, ParsePrincipalArg(f.signer));
  CUSTOS_ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key, ReadPublicKey(f.public_key));
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(artifacts::SignerRecord record,
                          in.artifact_signers()->Register(signer.ToEntityUid().ToString(), key,
                                                          who.actor.principal.ToString()));
  if (f.instance.json) {
    Print({{"signer", record.signer}, {"key_id", record.key_id}});
  } else {
    std::cout << "Registered " << record.key_id << " for " << record.signer << "\n";
  }
  return Status::Ok();
}

Status RunSignerRevoke(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Who who, ResolveWho(in, f.instance));
  CUSTOS_RETURN_IF_ERROR(in.artifact_signers()->Revoke(f.key_id, who.actor.principal.ToString()));
  std::cout << "Revoked " << f.key_id << "\n";
  return Status::Ok();
}

Status RunSignerList(server::Instance& in, const ArtifactFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<artifacts::SignerRecord> records,
                          in.artifact_signers()->List());
  const crypto::Ed25519PublicKey& server_key = in.artifact_signers()->server_key().public_key();
  nlohmann::json out = nlohmann::json::array();
  out.push_back({{"signer", artifacts::kServerSigner},
                 {"key_id", artifacts::KeyIdOf(server_key)},
                 {"state", "active"}});
  for (const auto& r : records) {
    nlohmann::json item = {{"signer", r.signer},
                           {"key_id", r.key_id},
                           {"registered", common::FormatRfc3339(r.registered)},
                           {"state", r.revoked ? "revoked" : "active"}};
    if (r.revoked) item["revoked"] = common::FormatRfc3339(*r.revoked);
    out.push_back(std::move(item));
  }
  if (f.instance.json) {
    Print(out);
    return Status::Ok();
  }
  for (const auto& item : out) {
    std::cout << item["key_id"].get<std::string>() << "  " << item["signer"].get<std::string>()
              << "  " << item["state"].get<std::string>() << "\n";
  }
  return Status::Ok();
}

// ------------------------------------------------------------------------------ offline

int RunKeygen(const OfflineFlags& f) {
  crypto::PasetoV4SecretKey key = crypto::PasetoV4SecretKey::Generate();
  if (Status written = WriteSecretFile(f.out, crypto::ToPaserk(key)); !written.ok()) {
    return Fail(written);
  }
  const std::string public_paserk = crypto::ToPaserk(key.public_key());
  const std::string public_path = f.out + ".pub";
  if (Status written = WriteTextFile(public_path, public_paserk + "\n"); !written.ok()) {
    return Fail(written);
  }
  const std::string key_id = artifacts::KeyIdOf(key.ed25519().public_key());
  if (f.json) {
    Print({{"key_file", f.out},
           {"public_key_file", public_path},
           {"public_key", public_paserk},
           {"key_id", key_id}});
  } else {
    std::cout << "Private key: " << f.out << " (PASERK k4.secret, mode 0600; keep it secret)\n"
              << "Public key:  " << public_path << "\n  " << public_paserk << "\n"
              << "Key id:      " << key_id << "\n"
              << "Register it: custos artifact signer add ServiceAccount::<id> --public-key "
              << public_path << " --dir ...\n";
  }
  return 0;
}

// Exit codes of `verify`, for pipelines: 0 verified, 1 verification failed, 2 bad input.
constexpr int kVerified = 0;
constexpr int kVerifyFailed = 1;
constexpr int kVerifyInputError = 2;

int VerifyInputError(const Status& status) {
  std::cerr << "custos: artifact verify: " << status.ToString() << "\n";
  return kVerifyInputError;
}

int RunVerify(const OfflineFlags& f) {
  auto ref = ParseRef(f.ref);
  if (!ref.ok()) return VerifyInputError(ref.status());
  auto bundle_text = ReadSmallFile(f.bundle, artifacts::kMaxBundleJsonBytes, "bundle");
  if (!bundle_text.ok()) return VerifyInputError(bundle_text.status());
  auto bundle = artifacts::ParseBundle(*bundle_text);
  if (!bundle.ok()) return VerifyInputError(bundle.status().WithContext(f.bundle));
  auto keys_text = ReadSmallFile(f.keys, kMaxKeysFileBytes, "trusted keys");
  if (!keys_text.ok()) return VerifyInputError(keys_text.status());
  auto keys = artifacts::ParseTrustedKeys(*keys_text);
  if (!keys.ok()) return VerifyInputError(keys.status().WithContext(f.keys));
  auto report = artifacts::VerifyArtifactFile(*ref, f.file, *bundle, *keys);
  if (!report.ok()) return VerifyInputError(report.status());
  if (f.json) {
    std::cout << artifacts::OfflineVerifyReportToJson(*report) << "\n";
  } else if (report->ok) {
    std::cout << "VERIFIED " << f.file << " is " << artifacts::FormatArtifactRef(*ref)
              << " (sha256 " << Hex(bundle->statement.sha256) << ", " << bundle->statement.size
              << " bytes), signed by";
    for (const auto& signer : report->trusted_signers) std::cout << " " << signer;
    std::cout << "\n";
  } else {
    std::cout << "FAILED " << f.file << " is not verified as " << artifacts::FormatArtifactRef(*ref)
              << ":\n";
    for (const auto& problem : report->problems) std::cout << "  " << problem << "\n";
  }
  return report->ok ? kVerified : kVerifyFailed;
}

// ------------------------------------------------------------------------------ wiring

using Run = std::function<Status(server::Instance&, const ArtifactFlags&)>;

CLI::App* Sub(CLI::App* parent, int* exit_code, const std::string& name, const std::string& help,
              bool acting, std::shared_ptr<ArtifactFlags>& f, Run run) {
  return AddInstanceSubcommand<ArtifactFlags>(parent, exit_code, name, help, acting, f,
                                              std::move(run));
}

void AddRefArg(CLI::App* cmd, ArtifactFlags& f) {
  cmd->add_option("ref", f.ref, "NAME@VERSION, e.g. fraud/scorer@3")->required();
}

}  // namespace

void AddArtifactCommands(CLI::App& app, int* exit_code) {
  CLI::App* artifact = app.add_subcommand(
      "artifact",
      "Artifact vault: push/pull signed, encrypted, versioned models and datasets; verify "
      "offline; promote; export; retention and crypto-shredding");
  artifact->require_subcommand(1);
  std::shared_ptr<ArtifactFlags> f;

  CLI::App* cmd =
      Sub(artifact, exit_code, "push",
          "Upload FILE in chunks (constant memory) as the next version of NAME", true, f, RunPush);
  cmd->add_option("name", f->ref, "Artifact name, e.g. fraud/scorer")->required();
  cmd->add_option("file", f->file, "The file to upload")->required()->check(CLI::ExistingFile);
  cmd->add_option("--kind", f->kind, "model or dataset (not needed with --resume)")
      ->check(CLI::IsMember({"model", "dataset"}));
  cmd->add_option("--media-type", f->media_type, "Media type (default application/octet-stream)");
  cmd->add_option("--chunk-size", f->chunk_size,
                  "Bytes per chunk (64 KiB to 64 MiB; default 4 MiB)")
      ->check(CLI::Range(artifacts::kMinChunkSize, artifacts::kMaxChunkSize));
  cmd->add_option("--retention-days", f->retention_days,
                  "Keep at least this many days; then `shred-expired` may shred it");
  cmd->add_option("--label", f->labels, "key=value (repeatable)");
  cmd->add_option("--description", f->description, "Free text");
  cmd->add_option("--input", f->inputs, "Lineage node the artifact was derived from (repeatable)");
  cmd->add_option("--sign-key", f->sign_key,
                  "Also sign as the acting principal with this k4.secret key file");
  cmd->add_option("--resume", f->resume,
                  "Continue the interrupted upload with this id (its name and kind are the ones it "
                  "began with)");

  cmd =
      Sub(artifact, exit_code, "pull", "Download a version to a file (audited)", true, f, RunPull);
  AddRefArg(cmd, *f);
  cmd->add_option("-o,--out", f->out, "Output file (written as FILE.partial, then renamed)")
      ->required();

  cmd = Sub(artifact, exit_code, "list",
            "Names with their latest version, or every version of NAME", false, f, RunList);
  cmd->add_option("name", f->ref, "Artifact name");

  cmd = Sub(artifact, exit_code, "show", "One version's record (JSON)", false, f, RunShow);
  AddRefArg(cmd, *f);

  cmd =
      Sub(artifact, exit_code, "find", "Versions whose bytes have this SHA-256", false, f, RunFind);
  cmd->add_option("--sha256", f->sha256, "64 hex digits")->required();

  cmd = Sub(artifact, exit_code, "bundle",
            "A version's statement and signatures, for `artifact verify`", false, f, RunBundle);
  AddRefArg(cmd, *f);
  cmd->add_option("-o,--out", f->out, "Write to this file (default: standard output)");

  cmd = Sub(artifact, exit_code, "keys",
            "The trusted-keys document (server key + unrevoked signer keys) for `artifact verify`",
            false, f, RunKeys);
  cmd->add_option("-o,--out", f->out, "Write to this file (default: standard output)");

  cmd = Sub(artifact, exit_code, "promote",
            "Move a version one step up: dev -> staging -> prod (prod needs an approved grant)",
            true, f, RunPromote);
  AddRefArg(cmd, *f);
  cmd->add_option("--to", f->to, "staging or prod")
      ->required()
      ->check(CLI::IsMember({"staging", "prod"}));

  cmd = Sub(artifact, exit_code, "export",
            "Export a version to a file (authorized and audited; restricted needs a grant)", true,
            f, RunExport);
  AddRefArg(cmd, *f);
  cmd->add_option("-o,--out", f->out, "Output file")->required();

  cmd = Sub(artifact, exit_code, "retention", "Set or clear how long a version must be kept", true,
            f, RunRetention);
  AddRefArg(cmd, *f);
  cmd->add_option("--until", f->until, "RFC 3339 time, e.g. 2027-01-01T00:00:00Z");
  cmd->add_option("--days", f->retention_days, "From now");
  cmd->add_flag("--clear", f->clear, "No retention limit");

  cmd = Sub(artifact, exit_code, "shred",
            "Crypto-shred a version (its key is destroyed; the record stays)", true, f, RunShred);
  AddRefArg(cmd, *f);
  cmd->add_option("--reason", f->reason, "Why (audited)")->required();

  Sub(artifact, exit_code, "shred-expired", "Crypto-shred every version whose retention has ended",
      false, f, RunShredExpired);

  cmd = Sub(artifact, exit_code, "govern",
            "Register Artifact::\"NAME\" for governance (classification, owners) unless it is",
            true, f, RunGovern);
  cmd->add_option("name", f->ref, "Artifact name")->required();
  cmd->add_option("--classification", f->classification,
                  "public, internal, confidential or restricted (default internal)");
  cmd->add_option("--owner", f->owners, "Owner principal (repeatable)");

  CLI::App* uploads = artifact->add_subcommand("uploads", "Open (unfinished) uploads");
  uploads->require_subcommand(1);
  Sub(uploads, exit_code, "list", "Every open upload", false, f, RunUploadsList);
  cmd = Sub(uploads, exit_code, "abort", "Roll an upload back (its bytes are shredded)", false, f,
            RunUploadsAbort);
  cmd->add_option("upload_id", f->upload_id, "The upload id push printed")->required();

  CLI::App* signer = artifact->add_subcommand("signer", "Keys that may sign artifacts");
  signer->require_subcommand(1);
  cmd =
      Sub(signer, exit_code, "add", "Register a public key for a principal", true, f, RunSignerAdd);
  cmd->add_option("signer", f->signer, "The principal, e.g. ServiceAccount::trainer")->required();
  cmd->add_option("--public-key", f->public_key, "k4.public key file (from keygen)")->required();
  cmd = Sub(signer, exit_code, "revoke", "Revoke a key (signatures by it stop verifying)", true, f,
            RunSignerRevoke);
  cmd->add_option("key_id", f->key_id, "ed25519:<hex>")->required();
  Sub(signer, exit_code, "list", "The server key and every registered key", false, f,
      RunSignerList);

  // Offline commands: no data directory, no secret.
  auto offline = std::make_shared<OfflineFlags>();
  cmd = artifact->add_subcommand(
      "keygen", "A new Ed25519 signing key for a service account (offline; no data directory)");
  cmd->add_option("-o,--out", offline->out,
                  "Private key file (k4.secret, 0600); also writes FILE.pub")
      ->required();
  cmd->add_flag("--json", offline->json, "Print the result as JSON");
  cmd->callback([offline, exit_code] { *exit_code = RunKeygen(*offline); });

  auto verify = std::make_shared<OfflineFlags>();
  cmd = artifact->add_subcommand(
      "verify",
      "Check a file against its signature bundle and trusted keys, offline. Exit 0 verified, 1 "
      "verification failed, 2 bad input");
  cmd->add_option("ref", verify->ref, "NAME@VERSION the file must be")->required();
  cmd->add_option("--file", verify->file, "The artifact file")->required();
  cmd->add_option("--bundle", verify->bundle, "Bundle JSON (`custos artifact bundle`)")->required();
  cmd->add_option("--keys", verify->keys, "Trusted keys JSON (`custos artifact keys`)")->required();
  cmd->add_flag("--json", verify->json, "Print the report as JSON");
  cmd->callback([verify, exit_code] { *exit_code = RunVerify(*verify); });
}

}  // namespace custos::cli
