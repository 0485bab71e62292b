// TokenService: issuing, verifying (with the cache) and revoking access tokens.
#include "identity/token_service.h"

#include "common/ids.h"
#include "common/public_base64url.h"
#include "crypto/paseto.h"

namespace custos::identity {
namespace {

constexpr std::string_view kFooterPrefix = "{\"kid\":\"";
constexpr std::string_view kFooterSuffix = "\"}";
constexpr std::string_view kPublicHeader = "v4.public.";
constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMaxAuditDetail = 512;

Status Unauthenticated(std::string_view what) {
  return UnauthenticatedError("access token refused: " + std::string(what));
}

// Splits `Type::"id"` into its Cedar entity type and id; other text is an id alone.
audit::ResourceRef ResourceRefOf(std::string_view resource) {
  const size_t sep = resource.find("::\"");
  if (sep != std::string_view::npos && resource.size() >= sep + 4 && resource.back() == '"') {
    return {std::string(resource.substr(0, sep)),
            std::string(resource.substr(sep + 3, resource.size() - sep - 4)), 0};
  }
  return {"", std::string(resource), 0};
}

// The key id from a footer, which must be exactly what TokenFooter writes.
Result<std::string_view> KeyIdFromFooter(std::string_view footer) {
  if (footer.empty()) {
    return Unauthenticated("the token has no footer, so no key id (kid); issue a new token");
  }
  if (!footer.starts_with(kFooterPrefix) || !footer.ends_with(kFooterSuffix) ||
      footer.size() < kFooterPrefix.size() + kFooterSuffix.size()) {
    return Unauthenticated("the footer is not {\"kid\":\"k4.pid.…\"}");
  }
  std::string_view kid = footer.substr(kFooterPrefix.size(),
                                       footer.size() - kFooterPrefix.size() - kFooterSuffix.size());
  if (!kid.starts_with("k4.pid.")) {
    return Unauthenticated("the footer's kid is not a PASERK k4.pid public key id");
  }
  return kid;
}

}  // namespace

std::string TokenFooter(std::string_view key_id) {
  return std::string(kFooterPrefix) + std::string(key_id) + std::string(kFooterSuffix);
}

TokenService::TokenService(std::unique_ptr<TokenKeySet> keys,
                           std::unique_ptr<TokenRevocationList> revocations, audit::AuditLog& audit,
                           const audit::AuditSalt& salt, const common::Clock& clock,
                           TokenServiceOptions options)
    : keys_(std::move(keys)),
      revocations_(std::move(revocations)),
      audit_(audit),
      salt_(salt),
      clock_(clock),
      options_(std::move(options)),
      cache_(options_.cache_capacity, options_.cache_shards) {}

Result<std::unique_ptr<TokenService>> TokenService::Open(storage::Kv& kv, crypto::Keyring& keyring,
                                                         audit::AuditLog& audit,
                                                         const audit::AuditSalt& salt,
                                                         const common::Clock& clock,
                                                         TokenServiceOptions options) {
  if (options.issuer.empty() || options.audience.empty()) {
    return InvalidArgumentError("token service: issuer and audience must not be empty");
  }
  CUSTOS_ASSIGN_OR_RETURN(auto keys, TokenKeySet::LoadOrCreate(kv, keyring, clock));
  CUSTOS_ASSIGN_OR_RETURN(auto revocations, TokenRevocationList::Load(kv));
  return std::unique_ptr<TokenService>(new TokenService(std::move(keys), std::move(revocations),
                                                        audit, salt, clock, std::move(options)));
}

Result<IssuedToken> TokenService::Issue(const TokenRequest& request, const Caller& caller) {
  if (request.lifetime <= std::chrono::seconds(0)) {
    return InvalidArgumentError("token lifetime must be positive (default 15 minutes)");
  }
  if (request.lifetime > kMaxTokenLifetime) {
    return InvalidArgumentError("token lifetime of " + std::to_string(request.lifetime.count()) +
                                " s is longer than the maximum of 1 hour (3600 s); request a "
                                "shorter lifetime and refresh the token when it expires");
  }
  const common::TimePoint now = clock_.Now();
  TokenClaims claims;
  claims.issuer = options_.issuer;
  claims.subject = request.subject;
  claims.audience = request.audience.empty() ? options_.audience : request.audience;
  claims.token_id = common::NewId("tok");
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires_at = now + std::chrono::duration_cast<std::chrono::microseconds>(request.lifetime);
  claims.purpose = request.purpose;
  claims.environment = request.environment;
  claims.zone = request.zone;
  claims.scope = TokenScope(request.resources, request.actions);
  if (Status s = ValidateTokenClaims(claims); !s.ok()) {
    return InvalidArgumentError("token request: " + s.message());
  }

  std::shared_ptr<const TokenSigningKey> key = keys_->Current();
  const std::string payload = EncodeTokenClaims(claims);
  std::string token = crypto::PasetoV4Sign(key->secret, common::AsBytes(payload),
                                           TokenFooter(key->info.key_id), claims.audience);
  CUSTOS_RETURN_IF_ERROR(Audit("identity.token.issue", claims.subject, claims.token_id, &claims,
                               audit::Outcome::kOk, key->info.key_id, caller));
  return IssuedToken{std::move(token), std::move(claims)};
}

Status TokenService::CheckTime(const TokenClaims& claims, common::TimePoint now) const {
  if (now >= claims.expires_at) {
    return Unauthenticated("the token expired at " + common::FormatRfc3339(claims.expires_at) +
                           "; obtain a new one");
  }
  if (now + options_.clock_skew < claims.not_before) {
    return Unauthenticated("the token is not valid before " +
                           common::FormatRfc3339(claims.not_before) +
                           " (nbf); check the issuing server's clock");
  }
  return Status::Ok();
}

Result<std::shared_ptr<const TokenClaims>> TokenService::Verify(std::string_view token,
                                                                const Caller& caller) {
  const common::TimePoint now = clock_.Now();
  // Read before any revocation lookup: a revocation racing with this call bumps the
  // epoch past this value, so the next call re-checks (see token_revocation.h).
  const uint64_t epoch = revocations_->epoch();
  const size_t token_hash = TokenCache::Hash(token);
  if (std::shared_ptr<TokenCache::Entry> hit = cache_.Find(token, token_hash)) {
    const TokenClaims& claims = *hit->claims;
    if (Status s = CheckTime(claims, now); !s.ok()) {
      return Refuse(std::move(s), &claims, claims.token_id, caller);
    }
    if (hit->checked_epoch.load(std::memory_order_acquire) != epoch) {
      if (auto why = revocations_->IsRevoked(claims)) {
        cache_.Erase(token);
        return Refuse(Unauthenticated(*why), &claims, claims.token_id, caller);
      }
      hit->checked_epoch.store(epoch, std::memory_order_release);
    }
    return std::shared_ptr<const TokenClaims>(hit, hit->claims.get());
  }
  std::string token_id;
  auto verified = VerifyUncached(token, token_hash, now, epoch, token_id);
  if (!verified.ok()) {
    return Refuse(verified.status(), nullptr, token_id, caller);
  }
  return verified;
}

Result<std::shared_ptr<const TokenClaims>> TokenService::VerifyUncached(std::string_view token,
                                                                        size_t token_hash,
                                                                        common::TimePoint now,
                                                                        uint64_t epoch,
                                                                        std::string& token_id) {
  if (token.empty()) return Unauthenticated("the token is empty");
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated("the token is " + std::to_string(token.size()) +
                           " bytes, longer than any custos token (" +
                           std::to_string(kMaxTokenBytes) + ")");
  }
  if (token.starts_with("v4.local.")) {
    return Unauthenticated(
        "a v4.local (symmetric, encrypted) token was presented where a v4.public access "
        "token is required; custos access tokens are never v4.local");
  }
  if (!token.starts_with(kPublicHeader)) {
    return Unauthenticated(
        "the token does not start with 'v4.public.'; custos access tokens "
        "are PASETO v4.public");
  }
  // Only the footer is decoded here (PasetoV4UntrustedFooter would decode the whole body,
  // which PasetoV4Verify decodes again); PasetoV4Verify then checks the token's footer
  // equals it and authenticates it.
  const std::string_view rest = token.substr(kPublicHeader.size());
  const size_t dot = rest.find('.');
  std::string footer;
  if (dot != std::string_view::npos) {
    auto decoded = common::PublicBase64UrlDecodeToString(rest.substr(dot + 1));
    if (!decoded.ok()) {
      return Unauthenticated("the footer is not canonical unpadded base64url (" +
                             decoded.status().message() + ")");
    }
    footer = std::move(*decoded);
  }
  CUSTOS_ASSIGN_OR_RETURN(std::string_view key_id, KeyIdFromFooter(footer));
  std::shared_ptr<const TokenSigningKey> key =
      keys_->FindForVerify(key_id, now, options_.clock_skew);
  if (!key) {
    return Unauthenticated("the token's key id " + std::string(key_id.substr(0, 64)) +
                           " is not a key of this issuer (unknown, or retired long enough "
                           "that its tokens have expired)");
  }
  crypto::PasetoVerifyOptions verify_options;
  verify_options.implicit_assertion = options_.audience;
  verify_options.expected_footer = footer;
  auto message = crypto::PasetoV4Verify(key->public_key, token, verify_options);
  if (!message.ok()) {
    return Unauthenticated(message.status().message() +
                           " (a token for another audience, or a tampered or forged token)");
  }
  auto parsed = ParseTokenClaims(common::AsChars(message->payload));
  if (!parsed.ok()) return Unauthenticated(parsed.status().message());
  token_id = parsed->token_id;
  if (parsed->issuer != options_.issuer) {
    return Unauthenticated("the token's issuer '" + parsed->issuer.substr(0, 64) + "' is not '" +
                           options_.issuer + "'");
  }
  if (parsed->audience != options_.audience) {
    return Unauthenticated("the token's audience '" + parsed->audience.substr(0, 64) +
                           "' is not '" + options_.audience + "'");
  }
  CUSTOS_RETURN_IF_ERROR(CheckTime(*parsed, now));
  if (auto why = revocations_->IsRevoked(*parsed)) return Unauthenticated(*why);
  auto claims = std::make_shared<const TokenClaims>(std::move(*parsed));
  cache_.Insert(token, token_hash, claims, epoch, now);
  return claims;
}

Status TokenService::Refuse(Status reason, const TokenClaims* claims, std::string_view token_id,
                            const Caller& caller) {
  Status audited = Audit("identity.token.verify", claims ? std::string_view(claims->subject) : "",
                         token_id, claims, audit::Outcome::kDenied, reason.message(), caller);
  if (!audited.ok()) {
    return Status(reason.code(), reason.message() + " (and the refusal could not be audited: " +
                                     audited.message() + ")");
  }
  return reason;
}

Status TokenService::Audit(std::string_view action, std::string_view principal,
                           std::string_view token_id, const TokenClaims* claims,
                           audit::Outcome outcome, std::string_view detail, const Caller& caller) {
  audit::AuditEvent event;
  event.time = clock_.Now();
  event.request_id = caller.request_id.empty() ? common::NewId("req") : caller.request_id;
  event.principal_id = std::string(caller.principal_id.empty() ? principal : caller.principal_id);
  event.auth_method = caller.principal_id.empty() ? audit::AuthMethod::kToken : caller.auth_method;
  if (!token_id.empty()) event.token_id_mac = salt_.Mac("token_id", token_id);
  event.action = std::string(action);
  if (claims) {
    event.purpose = claims->purpose;
    event.environment = std::string(EnvironmentName(claims->environment));
    for (const std::string& r : claims->scope.resources()) {
      event.resources.push_back(ResourceRefOf(r));
    }
    if (!caller.principal_id.empty() && caller.principal_id != claims->subject) {
      event.resources.push_back(ResourceRefOf(claims->subject));
    }
  } else if (!caller.principal_id.empty() && principal != caller.principal_id &&
             !principal.empty()) {
    event.resources.push_back(ResourceRefOf(principal));
  }
  event.decision =
      outcome == audit::Outcome::kOk ? audit::Decision::kAllow : audit::Decision::kDeny;
  event.outcome = outcome;
  event.outcome_detail = std::string(detail.substr(0, kMaxAuditDetail));
  auto appended = audit_.Append(event);
  if (!appended.ok()) {
    return UnavailableError(
        "cannot append the " + std::string(action) +
        " audit event, so the operation is refused (fail closed): " + appended.status().message());
  }
  return Status::Ok();
}

Status TokenService::RevokeToken(std::string_view token_id, const Caller& caller) {
  if (Status s = common::ValidateId(token_id, "tok"); !s.ok()) {
    return InvalidArgumentError("revoke token: " + s.message());
  }
  // Any token with this id expires within the maximum lifetime from now.
  CUSTOS_RETURN_IF_ERROR(
      revocations_->RevokeToken(token_id, clock_.Now() + kMaxTokenLifetime + options_.clock_skew));
  return Audit("identity.token.revoke", "", token_id, nullptr, audit::Outcome::kOk, "", caller);
}

Status TokenService::RevokeSubjectTokens(std::string_view subject, const Caller& caller) {
  const common::TimePoint now = clock_.Now();
  CUSTOS_RETURN_IF_ERROR(revocations_->RevokeSubject(subject, now));
  return Audit("identity.token.revoke_principal", subject, "", nullptr, audit::Outcome::kOk,
               "tokens issued at or before " + common::FormatRfc3339(now), caller);
}

Result<TokenKeyInfo> TokenService::RotateSigningKey(const Caller& caller) {
  CUSTOS_ASSIGN_OR_RETURN(TokenKeyInfo info, keys_->Rotate());
  CUSTOS_RETURN_IF_ERROR(Audit("identity.token.rotate_key", "", "", nullptr, audit::Outcome::kOk,
                               info.key_id, caller));
  return info;
}

}  // namespace custos::identity
