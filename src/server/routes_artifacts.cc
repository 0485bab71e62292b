// Artifact vault routes (issue 9): resumable chunked uploads, commits (optionally signed
// by the client), reads of names, versions, bundles and bytes (streamed chunk by chunk),
// promotion, export, retention, crypto-shredding, governance registration and the trusted
// signer keys.
//
// Cedar, on resource Artifact::"<name>": "write" (uploads, commit, retention), "read"
// (metadata, bundle, download, listings), "promote", "export", "administer" (shred,
// governance). Signer keys are administered on ArtifactVault::"main"; the trusted-keys
// document is readable by any authenticated principal (it holds public keys only).
// Environments: a bearer token carries one (dev, staging or prod). Reading a version that
// was never promoted into the token's environment also needs a permit for
// "read_other_environment" on the same resource (deny by default); listings leave such
// versions out. mTLS principals carry no environment, so only Cedar applies to them.
// Refs are query parameters ("?ref=fraud/scorer@3") because names contain '/'.
#include <iostream>

#include "artifacts/environment.h"
#include "artifacts/statement.h"
#include "artifacts/vault.h"
#include "artifacts/version_record.h"
#include "common/bytes.h"
#include "features/feature_access.h"
#include "server/api.h"

namespace custos::server {
namespace {

using artifacts::ArtifactRef;
using artifacts::ArtifactVersion;

const policy::EntityUid& VaultUid() {
  static const policy::EntityUid uid("ArtifactVault", "main");
  return uid;
}
policy::EntityUid ArtifactUid(std::string_view name) { return policy::EntityUid("Artifact", name); }

Reply JsonReply(const nlohmann::json& body, http::status status = http::status::ok) {
  return Reply::Json(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), status);
}

// What the artifact routes share: the instance, and an upload's record (the route must
// know an upload's artifact name and owner to authorize a request about it before the
// vault acts).
struct ArtifactRoutes {
  Instance& in;

  artifacts::ArtifactVault& vault() { return *in.artifact_vault(); }

  Result<artifacts::PendingUpload> Upload(std::string_view upload_id) {
    auto upload = vault().GetPendingUpload(upload_id);
    if (!upload.ok() && upload.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no artifact upload '" + std::string(upload_id.substr(0, 100)) +
                           "' (it was committed, aborted, rolled back when idle, or never "
                           "begun); begin one with POST /v1/artifacts/uploads");
    }
    return upload;
  }
};

// A Cedar decision for ctx's principal without touching ctx's decision fields: listings ask
// it per item. The token's scope narrows it like AuthorizeWithCedar's.
Result<bool> Permits(Instance& in, const RequestContext& ctx, std::string_view action,
                     const policy::EntityUid& resource, std::vector<std::string>* reasons) {
  if (ctx.token && !ctx.token->scope.Allows(action, resource.ToString())) return false;
  CUSTOS_ASSIGN_OR_RETURN(features::ReadContext context, FeatureReadContext(in, ctx));
  policy::Request request;
  request.principal = ctx.principal->ToEntityUid();
  request.action = policy::EntityUid("Action", std::string(action));
  request.resource = resource;
  request.context = features::ContextRecord(context);
  CUSTOS_ASSIGN_OR_RETURN(policy::EntityStore entities, in.directory().BuildEntityStore());
  const policy::StoreDecision decision = in.policies().IsAuthorized(request, entities);
  if (decision.response.decision != policy::Decision::kAllow) return false;
  if (reasons != nullptr) {
    for (std::string_view id : decision.response.reasons) reasons->emplace_back(id);
  }
  return true;
}

// The token's environment as the vault names it; nullopt for principals without a token
// (mTLS), to whom only Cedar applies.
Result<std::optional<artifacts::Environment>> TokenEnvironment(const RequestContext& ctx) {
  if (!ctx.token) return std::optional<artifacts::Environment>();
  CUSTOS_ASSIGN_OR_RETURN(
      artifacts::Environment env,
      artifacts::ParseEnvironment(identity::EnvironmentName(ctx.token->environment)));
  return std::optional<artifacts::Environment>(env);
}

std::string EnvironmentList(const ArtifactVersion& version) {
  std::string out;
  for (artifacts::Environment e : version.environments) {
    out += (out.empty() ? "" : ", ") + std::string(artifacts::EnvironmentName(e));
  }
  return out.empty() ? "none" : out;
}

// Whether ctx's principal may see `version` from its token's environment. A shredded
// version keeps its environments, so its tombstone is visible where its bytes were.
Result<bool> VisibleInEnvironment(Instance& in, const RequestContext& ctx,
                                  const ArtifactVersion& version,
                                  std::vector<std::string>* reasons) {
  CUSTOS_ASSIGN_OR_RETURN(std::optional<artifacts::Environment> env, TokenEnvironment(ctx));
  if (!env || version.environments.contains(*env)) return true;
  return Permits(in, ctx, "read_other_environment", ArtifactUid(version.name), reasons);
}

// The environment rule for a request about one version (read, download, export).
Status CheckEnvironment(Instance& in, RequestContext& ctx, const ArtifactVersion& version) {
  CUSTOS_ASSIGN_OR_RETURN(bool visible,
                          VisibleInEnvironment(in, ctx, version, &ctx.determining_policies));
  if (visible) return Status::Ok();
  ctx.decision = audit::Decision::kDeny;
  return PermissionDeniedError(
      FormatArtifactRef(version.ref()) + " is not in the token's environment '" +
      std::string(identity::EnvironmentName(ctx.token->environment)) + "' (it is in " +
      EnvironmentList(version) +
      "); use a token for one of those environments, or have a policy permit "
      "'read_other_environment' on " +
      ArtifactUid(version.name).ToString());
}

Result<ArtifactRef> RefParameter(const RequestContext& ctx) {
  const std::string text = ctx.QueryOr("ref", "");
  if (text.empty()) {
    return InvalidArgumentError(
        "query parameter ref is required: NAME@VERSION, e.g. ref=fraud/scorer@3");
  }
  return artifacts::ParseArtifactRef(text);
}

Result<ArtifactRef> RefField(const RequestContext& ctx) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, RequiredString(ctx.body, "ref"));
  return artifacts::ParseArtifactRef(text);
}

// Puts the version on the artifact resource ctx records (its audit event names it).
void NoteVersion(RequestContext& ctx, const ArtifactRef& ref) {
  for (audit::ResourceRef& r : ctx.resources) {
    if (r.type == "Artifact" && r.id == ref.name) r.version = ref.version;
  }
}

// Cedar `action` on the ref's artifact, then the environment rule for the version.
Status AuthorizeVersion(ArtifactRoutes& r, RequestContext& ctx, std::string_view action,
                        const ArtifactRef& ref) {
  CUSTOS_RETURN_IF_ERROR(AuthorizeWithCedar(r.in, ctx, action, ArtifactUid(ref.name)));
  NoteVersion(ctx, ref);
  CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, r.vault().Get(ref));
  return CheckEnvironment(r.in, ctx, version);
}

// Requests about an upload: the upload must exist, be the principal's own (an upload id is
// not a capability), and the principal must still be allowed to write the artifact.
Status AuthorizeUpload(ArtifactRoutes& r, RequestContext& ctx) {
  CUSTOS_ASSIGN_OR_RETURN(artifacts::PendingUpload upload, r.Upload(*ctx.Param("id")));
  if (upload.created_by != ctx.PrincipalText()) {
    ctx.resources.push_back({"Artifact", upload.name, 0});
    ctx.decision = audit::Decision::kDeny;
    return PermissionDeniedError("upload " + upload.upload_id + " was begun by " +
                                 upload.created_by + ", not " + ctx.PrincipalText() +
                                 "; only the principal that began an upload may continue it");
  }
  return AuthorizeWithCedar(r.in, ctx, "write", ArtifactUid(upload.name));
}

nlohmann::json UploadJson(const artifacts::UploadStatus& status,
                          const artifacts::PendingUpload* upload) {
  nlohmann::json j = {{"upload_id", status.upload_id},
                      {"chunk_size", status.chunk_size},
                      {"next_index", status.next_index},
                      {"bytes_received", status.bytes_received},
                      {"last_activity", common::FormatRfc3339(status.last_activity)}};
  if (upload != nullptr) {
    j["name"] = upload->name;
    j["kind"] = std::string(artifacts::ArtifactKindName(upload->kind));
    j["media_type"] = upload->media_type;
    j["finished"] = upload->blob.has_value();
  }
  return j;
}

nlohmann::json StatementJson(const artifacts::ArtifactStatement& statement) {
  // One JSON form of a statement: the bundle's.
  artifacts::SignatureBundle bundle;
  bundle.statement = statement;
  return nlohmann::json::parse(artifacts::BundleToJson(bundle))["statement"];
}

Result<crypto::Digest> ParseSha256(std::string_view text, std::string_view what) {
  auto bytes = common::HexDecode(text);
  crypto::Digest digest{};
  if (!bytes.ok() || bytes->size() != digest.size()) {
    return InvalidArgumentError(std::string(what) + " must be 64 hex digits (a SHA-256), got '" +
                                std::string(text.substr(0, 80)) + "'");
  }
  std::copy(bytes->begin(), bytes->end(), digest.begin());
  return digest;
}

Result<std::optional<std::string>> OptionalString(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return InvalidArgumentError(std::string("request body: \"") + field + "\" must be a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

// retention_days (whole days from the commit) or retention_until (RFC 3339); not both.
Result<artifacts::Retention> RetentionOf(const nlohmann::json& body, const char* days_field,
                                         const char* until_field) {
  artifacts::Retention retention;
  auto days = body.find(days_field);
  if (days != body.end() && !days->is_null()) {
    if (!days->is_number_unsigned() || days->get<uint64_t>() == 0 ||
        days->get<uint64_t>() > 365 * 100) {
      return InvalidArgumentError(std::string("request body: \"") + days_field +
                                  "\" must be a whole number of days, 1..36500");
    }
    retention.duration = std::chrono::hours(24) * days->get<uint64_t>();
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> until, OptionalString(body, until_field));
  if (until) {
    if (retention.duration) {
      return InvalidArgumentError(std::string("request body: give \"") + days_field + "\" or \"" +
                                  until_field + "\", not both");
    }
    auto t = common::ParseRfc3339(*until);
    if (!t.ok()) {
      return InvalidArgumentError(std::string("request body: \"") + until_field +
                                  "\" must be an RFC 3339 time such as 2027-01-31T00:00:00Z (" +
                                  std::string(t.status().message()) + ")");
    }
    retention.until = *t;
  }
  return retention;
}

Result<artifacts::CommitOptions> CommitOptionsOf(const nlohmann::json& body) {
  artifacts::CommitOptions options;
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> sha, OptionalString(body, "sha256"));
  if (sha) {
    CUSTOS_ASSIGN_OR_RETURN(options.expected_sha256, ParseSha256(*sha, "request body: \"sha256\""));
  }
  if (auto sig = body.find("signature"); sig != body.end() && !sig->is_null()) {
    if (!sig->is_object()) {
      return InvalidArgumentError(
          "request body: \"signature\" must be an object {signer, key_id, signature}");
    }
    artifacts::ArtifactSignature signature;
    CUSTOS_ASSIGN_OR_RETURN(signature.signer, RequiredString(*sig, "signer"));
    CUSTOS_ASSIGN_OR_RETURN(signature.key_id, RequiredString(*sig, "key_id"));
    CUSTOS_ASSIGN_OR_RETURN(std::string text, RequiredString(*sig, "signature"));
    auto bytes = common::Base64UrlDecode(text);
    if (!bytes.ok() || bytes->size() != signature.signature.size()) {
      return InvalidArgumentError(
          "request body: \"signature\".\"signature\" must be the 64-byte Ed25519 signature "
          "over the statement's canonical text, base64url without padding");
    }
    std::copy(bytes->begin(), bytes->end(), signature.signature.begin());
    options.client_signature = std::move(signature);
  }
  CUSTOS_ASSIGN_OR_RETURN(options.retention,
                          RetentionOf(body, "retention_days", "retention_until"));
  if (auto labels = body.find("labels"); labels != body.end() && !labels->is_null()) {
    if (!labels->is_object()) {
      return InvalidArgumentError("request body: \"labels\" must be an object of strings");
    }
    for (const auto& [key, value] : labels->items()) {
      if (!value.is_string()) {
        return InvalidArgumentError("request body: \"labels\".\"" + key.substr(0, 80) +
                                    "\" must be a string");
      }
      options.labels[key] = value.get<std::string>();
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> description,
                          OptionalString(body, "description"));
  options.description = description.value_or("");
  CUSTOS_ASSIGN_OR_RETURN(options.lineage_inputs, StringList(body, "inputs", false));
  return options;
}

// Streams a version's bytes chunk by chunk (one chunk in memory). The first chunk is read
// before the response starts, so a corrupt first chunk is still a problem answer; a corrupt
// later chunk ends the connection without the last chunk (the client sees a truncated body),
// is written to the server's log and recorded on the audit log, naming the chunk.
Status StreamVersion(ArtifactRoutes& r, RequestContext& ctx, HttpResponse header,
                     const ArtifactVersion& version, const access::Actor& actor) {
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<artifacts::BlobReader> reader,
                          r.vault().OpenForRead(version.ref(), actor));
  const uint64_t chunks = reader->info().chunks;
  std::string chunk;
  if (chunks > 0) CUSTOS_RETURN_IF_ERROR(reader->ReadChunk(0, chunk));
  const common::ByteView digest(version.blob.sha256.data(), version.blob.sha256.size());
  const std::string b64 = common::Base64Encode(digest);
  header.set(http::field::content_type, version.media_type);
  header.set("Repr-Digest", "sha-256=:" + b64 + ":");
  header.set("Digest", "sha-256=" + b64);
  // A streamed body is chunked, so its size travels in a header of its own.
  header.set("Custos-Artifact-Size", std::to_string(version.blob.size));
  header.set("Custos-Artifact-Ref", FormatArtifactRef(version.ref()));
  header.set("Custos-Artifact-Sha256", common::HexEncode(digest));
  std::shared_ptr<ResponseStream> stream = ctx.responder->OpenStream(std::move(header));
  ctx.stream_opened = true;
  for (uint64_t i = 0; i < chunks; ++i) {
    if (i > 0) {
      if (Status read = reader->ReadChunk(i, chunk); !read.ok()) {
        const std::string where = FormatArtifactRef(version.ref());
        std::cerr << "custos: " << ctx.request_id << ": download of " << where
                  << " stopped: " << read.ToString() << std::endl;
        audit::AuditEvent event;
        event.time = r.in.clock().Now();
        event.request_id = ctx.request_id;
        event.principal_id = ctx.PrincipalText();
        event.auth_method = ctx.auth_method;
        event.action = "artifact.read.corrupt";
        event.resources.push_back({"Artifact", version.name, version.version});
        event.decision = audit::Decision::kAllow;
        event.outcome = audit::Outcome::kError;
        event.outcome_detail = std::string(read.message().substr(0, 500));
        (void)r.in.audit().Append(event);
        return read;  // the stream is dropped unfinished: the connection is closed
      }
    }
    if (!stream->Write(std::move(chunk))) {
      return UnavailableError("the client went away during the download of " +
                              FormatArtifactRef(version.ref()));
    }
    chunk = std::string();
  }
  stream->Finish();
  return Status::Ok();
}

}  // namespace

void AddArtifactRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  // The routes hold `r` by reference; the first route's authorize step owns it, so it
  // lives as long as the router.
  auto shared = std::make_shared<ArtifactRoutes>(ArtifactRoutes{in});
  ArtifactRoutes& r = *shared;

  // --- uploads -------------------------------------------------------------------------
  router.Add({.id = "artifacts.upload.begin",
              .method = http::verb::post,
              .path = "/v1/artifacts/uploads",
              .summary = "Begin a resumable, chunked upload of an artifact version",
              .json_body = true,
              .authorize = [&r, shared](RequestContext& ctx) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "name"));
                CUSTOS_RETURN_IF_ERROR(artifacts::ValidateArtifactName(name));
                return AuthorizeWithCedar(r.in, ctx, "write", ArtifactUid(name));
              },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "name"));
                CUSTOS_ASSIGN_OR_RETURN(std::string kind_text, RequiredString(ctx.body, "kind"));
                CUSTOS_ASSIGN_OR_RETURN(artifacts::ArtifactKind kind,
                                        artifacts::ParseArtifactKind(kind_text));
                CUSTOS_ASSIGN_OR_RETURN(std::optional<std::string> media,
                                        OptionalString(ctx.body, "media_type"));
                uint32_t chunk_size = artifacts::kDefaultChunkSize;
                if (auto c = ctx.body.find("chunk_size"); c != ctx.body.end() && !c->is_null()) {
                  if (!c->is_number_unsigned() || c->get<uint64_t>() < artifacts::kMinChunkSize ||
                      c->get<uint64_t>() > artifacts::kMaxChunkSize) {
                    return InvalidArgumentError(
                        "request body: \"chunk_size\" must be a whole number of bytes in [" +
                        std::to_string(artifacts::kMinChunkSize) + ", " +
                        std::to_string(artifacts::kMaxChunkSize) + "]");
                  }
                  chunk_size = static_cast<uint32_t>(c->get<uint64_t>());
                }
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                        r.in.ActorFor(*ctx.principal, ctx.auth_method));
                CUSTOS_ASSIGN_OR_RETURN(
                    artifacts::UploadStatus status,
                    r.vault().BeginUpload(name, kind, media.value_or("application/octet-stream"),
                                          actor, chunk_size));
                CUSTOS_ASSIGN_OR_RETURN(artifacts::PendingUpload upload,
                                        r.Upload(status.upload_id));
                return JsonReply(UploadJson(status, &upload), http::status::created);
              }});
  router.Add({.id = "artifacts.upload.chunk",
              .method = http::verb::put,
              .path = "/v1/artifacts/uploads/{id}/chunks/{index}",
              .summary = "Send chunk INDEX of an upload (raw bytes, application/octet-stream)",
              // One chunk per request, up to the largest chunk size an upload may have; the vault
              // refuses a chunk larger than its own upload's chunk size.
              .max_body_bytes = artifacts::kMaxChunkSize,
              .authorize = [&r](RequestContext& ctx) -> Status {
                const std::string_view type = ToStd(ctx.request[http::field::content_type]);
                if (!type.starts_with("application/octet-stream")) {
                  return InvalidArgumentError(
                      "a chunk is sent as raw bytes with 'Content-Type: application/octet-stream'" +
                      (type.empty() ? std::string(" (none was sent)")
                                    : " (got '" + std::string(type.substr(0, 100)) + "')"));
                }
                return AuthorizeUpload(r, ctx);
              },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(uint64_t index,
                                        ParseWholeNumber(*ctx.Param("index"), "chunk index"));
                CUSTOS_ASSIGN_OR_RETURN(artifacts::UploadStatus status,
                                        r.vault().AppendChunk(*ctx.Param("id"), index,
                                                              common::AsBytes(ctx.request.body())));
                ctx.request.body() = std::string();  // the chunk is sealed on disk: let it go
                return JsonReply(UploadJson(status, nullptr));
              }});
  router.Add({.id = "artifacts.upload.status",
              .method = http::verb::get,
              .path = "/v1/artifacts/uploads/{id}",
              .summary = "An upload's progress (the chunk index to resume from)",
              .authorize = [&r](RequestContext& ctx) { return AuthorizeUpload(r, ctx); },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(artifacts::PendingUpload upload,
                                        r.Upload(*ctx.Param("id")));
                CUSTOS_ASSIGN_OR_RETURN(artifacts::UploadStatus status,
                                        r.vault().GetUpload(upload.upload_id));
                return JsonReply(UploadJson(status, &upload));
              }});
  router.Add({.id = "artifacts.upload.abort",
              .method = http::verb::delete_,
              .path = "/v1/artifacts/uploads/{id}",
              .summary = "Abort an upload: its bytes are rolled back, no version appears",
              .authorize = [&r](RequestContext& ctx) { return AuthorizeUpload(r, ctx); },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_RETURN_IF_ERROR(r.vault().AbortUpload(*ctx.Param("id")));
                return Reply::Json("", http::status::no_content);
              }});
  router.Add({.id = "artifacts.upload.statement",
              .method = http::verb::get,
              .path = "/v1/artifacts/uploads/{id}/statement",
              .summary = "Finish an upload and get the statement its commit will sign",
              .authorize = [&r](RequestContext& ctx) { return AuthorizeUpload(r, ctx); },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(artifacts::ArtifactStatement statement,
                                        r.vault().StatementFor(*ctx.Param("id")));
                return JsonReply({{"statement", StatementJson(statement)},
                                  {"canonical", artifacts::CanonicalStatement(statement)}});
              }});
  router.Add(
      {.id = "artifacts.upload.commit",
       .method = http::verb::post,
       .path = "/v1/artifacts/uploads/{id}/commit",
       .summary = "Commit an upload as the next version (signed, audited, with lineage)",
       .json_body = true,
       .authorize = [&r](RequestContext& ctx) { return AuthorizeUpload(r, ctx); },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(artifacts::CommitOptions options, CommitOptionsOf(ctx.body));
         CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                 r.in.ActorFor(*ctx.principal, ctx.auth_method));
         CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version,
                                 r.vault().Commit(*ctx.Param("id"), options, actor));
         return Reply::Json(artifacts::ArtifactVersionToJson(version), http::status::created);
       }});

  // --- reads ---------------------------------------------------------------------------
  router.Add({.id = "artifacts.names",
              .method = http::verb::get,
              .path = "/v1/artifacts",
              .summary = "Names of the artifacts the caller may read",
              // Any authenticated principal may ask; the answer lists only names it may read.
              .authorize = [](RequestContext& ctx) -> Status {
                ctx.decision = audit::Decision::kAllow;
                ctx.determining_policies.push_back("artifact-listing-filtered-by-read");
                ctx.resources.push_back({"ArtifactVault", "main", 0});
                return Status::Ok();
              },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> names, r.vault().ListNames());
                nlohmann::json out = nlohmann::json::array();
                for (const std::string& name : names) {
                  CUSTOS_ASSIGN_OR_RETURN(bool readable,
                                          Permits(r.in, ctx, "read", ArtifactUid(name), nullptr));
                  if (readable) out.push_back(name);
                }
                return JsonReply({{"names", std::move(out)}});
              }});
  router.Add(
      {.id = "artifacts.versions",
       .method = http::verb::get,
       .path = "/v1/artifacts/versions",
       .summary = "Versions of one artifact visible from the caller's environment",
       .authorize = [&r](RequestContext& ctx) -> Status {
         const std::string name = ctx.QueryOr("name", "");
         if (name.empty()) {
           return InvalidArgumentError("query parameter name is required, e.g. name=fraud/scorer");
         }
         CUSTOS_RETURN_IF_ERROR(artifacts::ValidateArtifactName(name));
         return AuthorizeWithCedar(r.in, ctx, "read", ArtifactUid(name));
       },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(std::vector<ArtifactVersion> versions,
                                 r.vault().ListVersions(ctx.QueryOr("name", "")));
         nlohmann::json out = nlohmann::json::array();
         for (const ArtifactVersion& v : versions) {
           CUSTOS_ASSIGN_OR_RETURN(bool visible, VisibleInEnvironment(r.in, ctx, v, nullptr));
           if (visible) out.push_back(nlohmann::json::parse(ArtifactVersionToJson(v)));
         }
         return JsonReply({{"versions", std::move(out)}});
       }});
  router.Add({.id = "artifacts.version",
              .method = http::verb::get,
              .path = "/v1/artifacts/version",
              .summary = "One version's metadata (ref=NAME@VERSION)",
              .authorize = [&r](RequestContext& ctx) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefParameter(ctx));
                return AuthorizeVersion(r, ctx, "read", ref);
              },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefParameter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, r.vault().Get(ref));
                return Reply::Json(artifacts::ArtifactVersionToJson(version));
              }});
  router.Add({.id = "artifacts.bundle",
              .method = http::verb::get,
              .path = "/v1/artifacts/bundle",
              .summary = "A version's signature bundle, for `custos artifact verify` offline",
              .authorize = [&r](RequestContext& ctx) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefParameter(ctx));
                return AuthorizeVersion(r, ctx, "read", ref);
              },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefParameter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(artifacts::SignatureBundle bundle, r.vault().Bundle(ref));
                return Reply::Json(artifacts::BundleToJson(bundle));
              }});
  router.Add({.id = "artifacts.content",
              .method = http::verb::get,
              .path = "/v1/artifacts/content",
              .summary = "Download a version's bytes (streamed, with its SHA-256 in Repr-Digest)",
              .authorize = [&r](RequestContext& ctx) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefParameter(ctx));
                return AuthorizeVersion(r, ctx, "read", ref);
              },
              .stream_handler = [&r](RequestContext& ctx, HttpResponse header) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefParameter(ctx));
                CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, r.vault().Get(ref));
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                        r.in.ActorFor(*ctx.principal, ctx.auth_method));
                return StreamVersion(r, ctx, std::move(header), version, actor);
              }});
  router.Add(
      {.id = "artifacts.by_digest",
       .method = http::verb::get,
       .path = "/v1/artifacts/by-digest",
       .summary = "Versions whose bytes have a SHA-256 (content addressing)",
       .authorize = [](RequestContext& ctx) -> Status {
         CUSTOS_RETURN_IF_ERROR(
             ParseSha256(ctx.QueryOr("sha256", ""), "query parameter sha256").status());
         ctx.decision = audit::Decision::kAllow;
         ctx.determining_policies.push_back("artifact-listing-filtered-by-read");
         ctx.resources.push_back({"ArtifactVault", "main", 0});
         return Status::Ok();
       },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(crypto::Digest digest,
                                 ParseSha256(ctx.QueryOr("sha256", ""), "query parameter sha256"));
         CUSTOS_ASSIGN_OR_RETURN(std::vector<ArtifactRef> refs, r.vault().FindByDigest(digest));
         nlohmann::json out = nlohmann::json::array();
         for (const ArtifactRef& ref : refs) {
           CUSTOS_ASSIGN_OR_RETURN(bool readable,
                                   Permits(r.in, ctx, "read", ArtifactUid(ref.name), nullptr));
           if (!readable) continue;
           CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion v, r.vault().Get(ref));
           CUSTOS_ASSIGN_OR_RETURN(bool visible, VisibleInEnvironment(r.in, ctx, v, nullptr));
           if (visible) out.push_back(nlohmann::json::parse(ArtifactVersionToJson(v)));
         }
         return JsonReply({{"versions", std::move(out)}});
       }});

  // --- environments, export, retention, shredding, governance ---------------------------
  router.Add(
      {.id = "artifacts.promote",
       .method = http::verb::post,
       .path = "/v1/artifacts/promote",
       .summary = "Promote a version one environment up (prod needs an approved grant)",
       .json_body = true,
       .authorize = [&r](RequestContext& ctx) -> Status {
         CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
         CUSTOS_RETURN_IF_ERROR(RequiredString(ctx.body, "environment").status());
         // "environment" here is the target, not the caller's environment, which Cedar's
         // context takes from the token: keep it out of the context while deciding.
         nlohmann::json target = ctx.body["environment"];
         ctx.body.erase("environment");
         Status s = AuthorizeWithCedar(r.in, ctx, "promote", ArtifactUid(ref.name));
         ctx.body["environment"] = std::move(target);
         NoteVersion(ctx, ref);
         return s;
       },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
         CUSTOS_ASSIGN_OR_RETURN(std::string env_text, RequiredString(ctx.body, "environment"));
         CUSTOS_ASSIGN_OR_RETURN(artifacts::Environment env, artifacts::ParseEnvironment(env_text));
         CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                 r.in.ActorFor(*ctx.principal, ctx.auth_method));
         CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, r.vault().Promote(ref, env, actor));
         return Reply::Json(artifacts::ArtifactVersionToJson(version));
       }});
  router.Add({.id = "artifacts.export",
              .method = http::verb::post,
              .path = "/v1/artifacts/export",
              .summary = "Export a version's bytes (restricted artifacts need an export grant)",
              .json_body = true,
              .authorize = [&r](RequestContext& ctx) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
                return AuthorizeVersion(r, ctx, "export", ref);
              },
              .stream_handler = [&r](RequestContext& ctx, HttpResponse header) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                        r.in.ActorFor(*ctx.principal, ctx.auth_method));
                CUSTOS_ASSIGN_OR_RETURN(artifacts::ExportTicket ticket,
                                        r.vault().AuthorizeExport(ref, actor));
                CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, r.vault().Get(ref));
                header.set("Custos-Export-Audit-Index", std::to_string(ticket.audit_index));
                if (ticket.grant_id) header.set("Custos-Export-Grant", *ticket.grant_id);
                header.set(http::field::content_disposition, "attachment");
                return StreamVersion(r, ctx, std::move(header), version, actor);
              }});
  router.Add({.id = "artifacts.retention",
              .method = http::verb::post,
              .path = "/v1/artifacts/retention",
              .summary = "Set (or clear, with until: null) how long a version is kept",
              .json_body = true,
              .authorize = [&r](RequestContext& ctx) -> Status {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
                CUSTOS_RETURN_IF_ERROR(
                    AuthorizeWithCedar(r.in, ctx, "write", ArtifactUid(ref.name)));
                NoteVersion(ctx, ref);
                return Status::Ok();
              },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
                const bool has_days = ctx.body.contains("days");
                const bool has_until = ctx.body.contains("until");
                if (!has_days && !has_until) {
                  return InvalidArgumentError(
                      "request body: give \"days\" (from now) or \"until\" (RFC 3339), or "
                      "\"until\": null to clear the retention");
                }
                CUSTOS_ASSIGN_OR_RETURN(artifacts::Retention retention,
                                        RetentionOf(ctx.body, "days", "until"));
                std::optional<common::TimePoint> until = retention.until;
                if (retention.duration) until = r.in.clock().Now() + *retention.duration;
                CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                        r.in.ActorFor(*ctx.principal, ctx.auth_method));
                CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version,
                                        r.vault().SetRetention(ref, until, actor));
                return Reply::Json(artifacts::ArtifactVersionToJson(version));
              }});
  router.Add(
      {.id = "artifacts.shred",
       .method = http::verb::post,
       .path = "/v1/artifacts/shred",
       .summary = "Crypto-shred a version (its key is destroyed; a tombstone stays)",
       .json_body = true,
       .authorize = [&r](RequestContext& ctx) -> Status {
         CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
         CUSTOS_RETURN_IF_ERROR(AuthorizeWithCedar(r.in, ctx, "administer", ArtifactUid(ref.name)));
         NoteVersion(ctx, ref);
         return Status::Ok();
       },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(ArtifactRef ref, RefField(ctx));
         CUSTOS_ASSIGN_OR_RETURN(std::string reason, RequiredString(ctx.body, "reason"));
         CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                 r.in.ActorFor(*ctx.principal, ctx.auth_method));
         CUSTOS_ASSIGN_OR_RETURN(ArtifactVersion version, r.vault().Shred(ref, reason, actor));
         return Reply::Json(artifacts::ArtifactVersionToJson(version));
       }});
  router.Add(
      {.id = "artifacts.governance",
       .method = http::verb::post,
       .path = "/v1/artifacts/governance",
       .summary = "Register an artifact's classification and owners (who approve its grants)",
       .json_body = true,
       .authorize = [&r](RequestContext& ctx) -> Status {
         CUSTOS_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "name"));
         CUSTOS_RETURN_IF_ERROR(artifacts::ValidateArtifactName(name));
         return AuthorizeWithCedar(r.in, ctx, "administer", ArtifactUid(name));
       },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(std::string name, RequiredString(ctx.body, "name"));
         CUSTOS_ASSIGN_OR_RETURN(std::string cls, RequiredString(ctx.body, "classification"));
         CUSTOS_ASSIGN_OR_RETURN(catalog::Classification classification,
                                 catalog::ParseClassification(cls));
         CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> owner_texts,
                                 StringList(ctx.body, "owners", true));
         std::vector<policy::EntityUid> owners;
         for (size_t i = 0; i < owner_texts.size(); ++i) {
           auto owner = identity::PrincipalId::Parse(owner_texts[i]);
           if (!owner.ok()) {
             return InvalidArgumentError("request body: \"owners\"[" + std::to_string(i) +
                                         "]: " + std::string(owner.status().message()));
           }
           owners.push_back(owner->ToEntityUid());
         }
         CUSTOS_ASSIGN_OR_RETURN(access::Actor actor,
                                 r.in.ActorFor(*ctx.principal, ctx.auth_method));
         CUSTOS_ASSIGN_OR_RETURN(catalog::GovernedResource governed,
                                 r.vault().EnsureGoverned(name, classification, owners, actor));
         nlohmann::json owners_json = nlohmann::json::array();
         for (const auto& o : governed.owners) owners_json.push_back(o.ToString());
         return JsonReply(
             {{"resource", ArtifactUid(name).ToString()},
              {"classification", std::string(catalog::ClassificationName(governed.classification))},
              {"owners", std::move(owners_json)}});
       }});

  // --- signer keys -----------------------------------------------------------------------
  router.Add({.id = "artifacts.signers.list",
              .method = http::verb::get,
              .path = "/v1/artifacts/signers",
              .summary = "The trusted-keys document: public keys that may sign artifacts",
              .authorize = [](RequestContext& ctx) -> Status {
                // Public keys only: any authenticated principal may fetch them.
                ctx.decision = audit::Decision::kAllow;
                ctx.determining_policies.push_back("artifact-signers-public");
                ctx.resources.push_back({"ArtifactVault", "main", 0});
                return Status::Ok();
              },
              .handler = [&r](RequestContext&) -> Result<Reply> {
                return Reply::Json(
                    artifacts::TrustedKeysToJson(r.in.artifact_signers()->TrustedKeys()));
              }});
  router.Add(
      {.id = "artifacts.signers.register",
       .method = http::verb::post,
       .path = "/v1/artifacts/signers",
       .summary = "Register a principal's Ed25519 public key for signing artifacts",
       .json_body = true,
       .authorize =
           [&r](RequestContext& ctx) {
             return AuthorizeWithCedar(r.in, ctx, "administer", VaultUid());
           },
       .handler = [&r](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(std::string signer, RequiredString(ctx.body, "signer"));
         CUSTOS_ASSIGN_OR_RETURN(std::string text, RequiredString(ctx.body, "public_key"));
         auto bytes = common::Base64UrlDecode(text);
         if (!bytes.ok()) {
           return InvalidArgumentError(
               "request body: \"public_key\" must be the 32-byte Ed25519 public key, base64url "
               "without padding");
         }
         auto key = crypto::Ed25519PublicKey::FromBytes(*bytes);
         if (!key.ok()) {
           return InvalidArgumentError("request body: \"public_key\": " +
                                       std::string(key.status().message()));
         }
         CUSTOS_ASSIGN_OR_RETURN(
             artifacts::SignerRecord record,
             r.in.artifact_signers()->Register(signer, *key, ctx.PrincipalText()));
         return JsonReply({{"signer", record.signer},
                           {"key_id", record.key_id},
                           {"registered", common::FormatRfc3339(record.registered)}},
                          http::status::created);
       }});
  router.Add({.id = "artifacts.signers.revoke",
              .method = http::verb::delete_,
              .path = "/v1/artifacts/signers",
              .summary = "Revoke a signer key (key_id=...); its past signatures stop verifying",
              .authorize =
                  [&r](RequestContext& ctx) {
                    return AuthorizeWithCedar(r.in, ctx, "administer", VaultUid());
                  },
              .handler = [&r](RequestContext& ctx) -> Result<Reply> {
                const std::string key_id = ctx.QueryOr("key_id", "");
                if (key_id.empty()) {
                  return InvalidArgumentError(
                      "query parameter key_id is required, e.g. key_id=ed25519:0123456789abcdef");
                }
                CUSTOS_RETURN_IF_ERROR(
                    r.in.artifact_signers()->Revoke(key_id, ctx.PrincipalText()));
                return Reply::Json("", http::status::no_content);
              }});
}

}  // namespace custos::server
