// `custos principal|apikey|token|mfa|ca ...`: identities, credentials and the local CA.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/instance_flags.h"
#include "cli/output.h"
#include "common/clock.h"
#include "common/duration.h"
#include "crypto/secret.h"

namespace custos::cli {
namespace {

using nlohmann::ordered_json;

struct IdentityFlags {
  InstanceFlags instance;
  std::string principal;
  std::string member;
  std::string display_name;
  std::vector<std::string> attrs;       // name=value (string)
  std::vector<std::string> long_attrs;  // name=123
  std::vector<std::string> bool_attrs;  // name=true|false
  std::vector<std::string> set_attrs;   // name=a,b,c
  std::vector<std::string> remove_attrs;
  std::string type;
  std::string description;
  std::string ttl;
  std::string key_id;
  std::string api_key_file;
  std::string purpose;
  std::string environment = "dev";
  std::string zone;
  std::vector<std::string> resources;
  std::vector<std::string> actions;
  std::string lifetime;
  std::string audience;
  std::string token_id;
  std::string code;
  std::string algorithm;
  std::string out_cert;
  std::string out_key;
  std::string csr_file;
  std::string validity;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::string serial;
};

std::string Time(common::TimePoint t) { return common::FormatRfc3339(t); }

Result<std::pair<std::string, std::string>> SplitAssignment(const std::string& text,
                                                            std::string_view flag) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgumentError(std::string(flag) + " '" + text + "' must look like name=value");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

Result<identity::Attributes> ParseAttributes(const IdentityFlags& f) {
  identity::Attributes out;
  auto add = [&](const std::string& name, identity::AttributeValue value) -> Status {
    if (!out.emplace(name, std::move(value)).second) {
      return InvalidArgumentError("attribute '" + name + "' is given twice");
    }
    return Status::Ok();
  };
  for (const auto& a : f.attrs) {
    CUSTOS_ASSIGN_OR_RETURN(auto kv, SplitAssignment(a, "--attr"));
    CUSTOS_RETURN_IF_ERROR(add(kv.first, identity::AttributeValue::String(kv.second)));
  }
  for (const auto& a : f.long_attrs) {
    CUSTOS_ASSIGN_OR_RETURN(auto kv, SplitAssignment(a, "--attr-long"));
    size_t used = 0;
    int64_t n = 0;
    try {
      n = std::stoll(kv.second, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != kv.second.size()) {
      return InvalidArgumentError("--attr-long " + kv.first + ": '" + kv.second +
                                  "' is not a whole number");
    }
    CUSTOS_RETURN_IF_ERROR(add(kv.first, identity::AttributeValue::Long(n)));
  }
  for (const auto& a : f.bool_attrs) {
    CUSTOS_ASSIGN_OR_RETURN(auto kv, SplitAssignment(a, "--attr-bool"));
    if (kv.second != "true" && kv.second != "false") {
      return InvalidArgumentError("--attr-bool " + kv.first + ": use true or false, not '" +
                                  kv.second + "'");
    }
    CUSTOS_RETURN_IF_ERROR(add(kv.first, identity::AttributeValue::Bool(kv.second == "true")));
  }
  for (const auto& a : f.set_attrs) {
    CUSTOS_ASSIGN_OR_RETURN(auto kv, SplitAssignment(a, "--attr-set"));
    std::vector<std::string> items;
    size_t start = 0;
    while (start <= kv.second.size() && !kv.second.empty()) {
      size_t comma = kv.second.find(',', start);
      if (comma == std::string::npos) comma = kv.second.size();
      items.push_back(kv.second.substr(start, comma - start));
      start = comma + 1;
    }
    CUSTOS_RETURN_IF_ERROR(add(kv.first, identity::AttributeValue::StringSet(std::move(items))));
  }
  return out;
}

ordered_json PrincipalJson(const identity::Principal& p) {
  ordered_json j;
  j["principal"] = p.id.ToString();
  j["display_name"] = p.display_name;
  ordered_json attrs = ordered_json::object();
  for (const auto& [name, value] : p.attributes) attrs[name] = value.ToString();
  j["attributes"] = attrs;
  ordered_json parents = ordered_json::array();
  for (const auto& g : p.parents) parents.push_back(g.ToString());
  j["groups"] = parents;
  j["disabled"] = p.disabled;
  j["created"] = Time(p.created);
  j["updated"] = Time(p.updated);
  return j;
}

void PrintPrincipal(const identity::Principal& p) {
  std::cout << p.id.ToString() << (p.disabled ? "  [disabled]" : "") << "\n";
  if (!p.display_name.empty()) std::cout << "  name: " << p.display_name << "\n";
  for (const auto& [name, value] : p.attributes) {
    std::cout << "  " << name << " = " << value.ToString() << "\n";
  }
  for (const auto& g : p.parents) std::cout << "  member of " << g.ToString() << "\n";
}

// Writes `data` to a new file with `mode`; refuses to overwrite.
Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    return FailedPreconditionError("cannot create '" + path + "' (" + std::strerror(errno) +
                                   "); choose a path that does not exist yet");
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      return InternalError("writing '" + path + "' failed: " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return InternalError("writing '" + path + "' failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + std::string(what) + " file '" + path + "'");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Result<std::optional<std::chrono::seconds>> OptionalSeconds(const std::string& text) {
  if (text.empty()) return std::optional<std::chrono::seconds>();
  CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(text));
  return std::optional(std::chrono::duration_cast<std::chrono::seconds>(ms));
}

// --- principal ----------------------------------------------------------------------------

Status PrincipalCreate(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  identity::NewPrincipal spec;
  CUSTOS_ASSIGN_OR_RETURN(spec.id, ParsePrincipalArg(f.principal));
  spec.display_name = f.display_name;
  CUSTOS_ASSIGN_OR_RETURN(spec.attributes, ParseAttributes(f));
  CUSTOS_ASSIGN_OR_RETURN(identity::Principal p, in.directory().Create(acting.caller, spec));
  if (f.instance.json) {
    std::cout << PrincipalJson(p).dump(2) << "\n";
  } else {
    std::cout << "Created ";
    PrintPrincipal(p);
  }
  return Status::Ok();
}

Status PrincipalUpdate(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  identity::AttributeUpdate update;
  CUSTOS_ASSIGN_OR_RETURN(update.set, ParseAttributes(f));
  update.remove = f.remove_attrs;
  if (!f.display_name.empty()) update.display_name = f.display_name;
  CUSTOS_ASSIGN_OR_RETURN(identity::Principal p,
                          in.directory().UpdateAttributes(acting.caller, id, update));
  if (f.instance.json) {
    std::cout << PrincipalJson(p).dump(2) << "\n";
  } else {
    std::cout << "Updated ";
    PrintPrincipal(p);
  }
  return Status::Ok();
}

Status PrincipalList(server::Instance& in, const IdentityFlags& f) {
  std::optional<identity::PrincipalType> type;
  if (!f.type.empty()) {
    if (f.type == "user") {
      type = identity::PrincipalType::kUser;
    } else if (f.type == "service-account") {
      type = identity::PrincipalType::kServiceAccount;
    } else if (f.type == "group") {
      type = identity::PrincipalType::kGroup;
    } else {
      return InvalidArgumentError("--type must be user, service-account or group, not '" + f.type +
                                  "'");
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(auto all, in.directory().List(type));
  if (f.instance.json) {
    ordered_json j = ordered_json::array();
    for (const auto& p : all) j.push_back(PrincipalJson(p));
    std::cout << j.dump(2) << "\n";
  } else {
    for (const auto& p : all) PrintPrincipal(p);
  }
  return Status::Ok();
}

Status PrincipalShow(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  CUSTOS_ASSIGN_OR_RETURN(identity::Principal p, in.directory().Get(id));
  if (f.instance.json) {
    std::cout << PrincipalJson(p).dump(2) << "\n";
  } else {
    PrintPrincipal(p);
  }
  return Status::Ok();
}

Status PrincipalSetDisabled(server::Instance& in, const IdentityFlags& f, bool disabled) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  CUSTOS_RETURN_IF_ERROR(in.directory().SetDisabled(acting.caller, id, disabled));
  std::cout << (disabled ? "Disabled " : "Enabled ") << id.ToString() << "\n";
  return Status::Ok();
}

Status Membership(server::Instance& in, const IdentityFlags& f, bool add) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId group, ParsePrincipalArg(f.principal));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId member, ParsePrincipalArg(f.member));
  if (add) {
    CUSTOS_RETURN_IF_ERROR(in.directory().AddMember(acting.caller, group, member));
    std::cout << "Added " << member.ToString() << " to " << group.ToString() << "\n";
  } else {
    CUSTOS_RETURN_IF_ERROR(in.directory().RemoveMember(acting.caller, group, member));
    std::cout << "Removed " << member.ToString() << " from " << group.ToString() << "\n";
  }
  return Status::Ok();
}

// --- apikey --------------------------------------------------------------------------------

ordered_json ApiKeyJson(const identity::ApiKeyInfo& k) {
  ordered_json j;
  j["key_id"] = k.key_id;
  j["principal"] = k.principal.ToString();
  j["description"] = k.description;
  j["created"] = Time(k.created);
  j["expires"] = Time(k.expires);
  j["revoked"] = k.revoked;
  j["last_used"] = k.last_used ? ordered_json(Time(*k.last_used)) : ordered_json();
  return j;
}

Status ApiKeyCreate(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  CUSTOS_ASSIGN_OR_RETURN(auto ttl, OptionalSeconds(f.ttl));
  CUSTOS_ASSIGN_OR_RETURN(identity::NewApiKey key,
                          in.api_keys().Create(acting.caller, id, f.description, ttl));
  const std::string_view text = common::AsChars(key.text.span());
  if (!f.out_key.empty()) {
    CUSTOS_RETURN_IF_ERROR(WriteNewFile(f.out_key, std::string(text) + "\n", 0600));
  }
  if (f.instance.json) {
    ordered_json j = ApiKeyJson(key.info);
    if (f.out_key.empty()) j["api_key"] = std::string(text);
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "Created API key " << key.info.key_id << " for " << id.ToString() << ", expires "
            << Time(key.info.expires) << "\n";
  if (f.out_key.empty()) {
    std::cout << "\n  " << text << "\n\nIt is shown ONCE and stored nowhere; use it only to "
              << "obtain access tokens (custos token issue).\n";
  } else {
    std::cout << "Written to " << f.out_key << " (mode 0600); it is stored nowhere else.\n";
  }
  return Status::Ok();
}

Status ApiKeyList(server::Instance& in, const IdentityFlags& f) {
  std::optional<identity::PrincipalId> principal;
  if (!f.principal.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(principal, ParsePrincipalArg(f.principal));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto keys, in.api_keys().List(principal));
  if (f.instance.json) {
    ordered_json j = ordered_json::array();
    for (const auto& k : keys) j.push_back(ApiKeyJson(k));
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  for (const auto& k : keys) {
    std::cout << k.key_id << "  " << k.principal.ToString() << "  expires " << Time(k.expires)
              << (k.revoked ? "  [revoked]" : "")
              << (k.last_used ? "  last used " + Time(*k.last_used) : "") << "  " << k.description
              << "\n";
  }
  return Status::Ok();
}

Status ApiKeyRevoke(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_RETURN_IF_ERROR(in.api_keys().Revoke(acting.caller, f.key_id));
  std::cout << "Revoked API key " << f.key_id << "\n";
  return Status::Ok();
}

// --- token ---------------------------------------------------------------------------------

ordered_json ClaimsJson(const identity::TokenClaims& c) {
  ordered_json j;
  j["token_id"] = c.token_id;
  j["subject"] = c.subject;
  j["audience"] = c.audience;
  j["purpose"] = c.purpose;
  j["environment"] = identity::EnvironmentName(c.environment);
  j["zone"] = c.zone;
  j["resources"] = c.scope.resources();
  j["actions"] = c.scope.actions();
  j["issued_at"] = Time(c.issued_at);
  j["expires_at"] = Time(c.expires_at);
  return j;
}

Status TokenIssue(server::Instance& in, const IdentityFlags& f) {
  // The API key is the credential; it is read from a file, never from the command line.
  CUSTOS_ASSIGN_OR_RETURN(std::string key_text, ReadWholeFile(f.api_key_file, "API key"));
  while (!key_text.empty() && (key_text.back() == '\n' || key_text.back() == '\r')) {
    key_text.pop_back();
  }
  identity::Caller anonymous;
  anonymous.auth_method = audit::AuthMethod::kNone;
  auto principal = in.api_keys().Authenticate(anonymous, key_text);
  crypto::ZeroizeString(key_text);
  if (!principal.ok()) return principal.status();
  identity::TokenRequest request;
  request.subject = principal->ToString();
  request.purpose = f.purpose;
  CUSTOS_ASSIGN_OR_RETURN(request.environment, identity::ParseEnvironment(f.environment));
  request.zone = f.zone;
  request.resources = f.resources;
  request.actions = f.actions;
  if (!f.lifetime.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(f.lifetime));
    request.lifetime = std::chrono::duration_cast<std::chrono::seconds>(ms);
  }
  request.audience = f.audience;
  identity::Caller caller;
  caller.principal_id = principal->ToString();
  caller.auth_method = audit::AuthMethod::kToken;
  CUSTOS_ASSIGN_OR_RETURN(identity::IssuedToken token, in.tokens().Issue(request, caller));
  if (!f.out_key.empty()) {
    CUSTOS_RETURN_IF_ERROR(WriteNewFile(f.out_key, token.token + "\n", 0600));
  }
  if (f.instance.json) {
    ordered_json j = ClaimsJson(token.claims);
    if (f.out_key.empty()) j["token"] = token.token;
    std::cout << j.dump(2) << "\n";
  } else if (f.out_key.empty()) {
    std::cout << token.token << "\n";
  } else {
    std::cout << "Token " << token.claims.token_id << " for " << token.claims.subject
              << " written to " << f.out_key << ", expires " << Time(token.claims.expires_at)
              << "\n";
  }
  crypto::ZeroizeString(token.token);
  return Status::Ok();
}

Status TokenVerify(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(std::string token, ReadWholeFile(f.instance.token_file, "token"));
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  auto claims = in.tokens().Verify(token);
  crypto::ZeroizeString(token);
  if (!claims.ok()) return claims.status();
  if (f.instance.json) {
    std::cout << ClaimsJson(**claims).dump(2) << "\n";
  } else {
    std::cout << "Valid token " << (*claims)->token_id << " for " << (*claims)->subject
              << " (purpose " << (*claims)->purpose << ", expires " << Time((*claims)->expires_at)
              << ")\n";
  }
  return Status::Ok();
}

Status TokenRevoke(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  if (!f.principal.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
    CUSTOS_RETURN_IF_ERROR(in.tokens().RevokeSubjectTokens(id.ToString(), acting.caller));
    std::cout << "Revoked every token of " << id.ToString() << " issued until now\n";
    return Status::Ok();
  }
  if (f.token_id.empty()) {
    return InvalidArgumentError("give a token id (tok_...) or --principal to revoke all of theirs");
  }
  CUSTOS_RETURN_IF_ERROR(in.tokens().RevokeToken(f.token_id, acting.caller));
  std::cout << "Revoked token " << f.token_id << "\n";
  return Status::Ok();
}

// --- mfa -----------------------------------------------------------------------------------

Status MfaEnroll(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  std::optional<crypto::TotpAlgorithm> algorithm;
  if (f.algorithm == "sha1") {
    algorithm = crypto::TotpAlgorithm::kSha1;
  } else if (f.algorithm == "sha256") {
    algorithm = crypto::TotpAlgorithm::kSha256;
  } else if (!f.algorithm.empty()) {
    return InvalidArgumentError("--algorithm must be sha1 or sha256, not '" + f.algorithm + "'");
  }
  CUSTOS_ASSIGN_OR_RETURN(identity::MfaEnrollment e, in.mfa().Enroll(acting.caller, id, algorithm));
  const std::string_view uri = common::AsChars(e.otpauth_uri.span());
  if (!f.out_key.empty()) {
    CUSTOS_RETURN_IF_ERROR(WriteNewFile(f.out_key, std::string(uri) + "\n", 0600));
  }
  if (f.instance.json) {
    ordered_json j;
    j["principal"] = id.ToString();
    if (f.out_key.empty()) j["otpauth_uri"] = std::string(uri);
    j["algorithm"] = crypto::TotpAlgorithmName(e.algorithm);
    j["digits"] = e.digits;
    j["period_seconds"] = e.period_seconds;
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "Enrolment started for " << id.ToString() << ".\n";
  if (f.out_key.empty()) {
    std::cout << "Add this to the authenticator app (shown ONCE):\n\n  " << uri << "\n\n";
  } else {
    std::cout << "The otpauth URI is in " << f.out_key << " (mode 0600).\n";
  }
  std::cout << "Then confirm with: custos mfa confirm " << f.principal << " --code <code>\n";
  return Status::Ok();
}

Status MfaConfirmOrVerify(server::Instance& in, const IdentityFlags& f, bool confirm) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  if (confirm) {
    CUSTOS_RETURN_IF_ERROR(in.mfa().ConfirmEnrollment(acting.caller, id, f.code));
    std::cout << "MFA confirmed for " << id.ToString() << "\n";
  } else {
    CUSTOS_ASSIGN_OR_RETURN(common::TimePoint t, in.mfa().Verify(acting.caller, id, f.code));
    std::cout << "MFA verified for " << id.ToString() << " at " << Time(t) << "\n";
  }
  return Status::Ok();
}

Status MfaShowStatus(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
  CUSTOS_ASSIGN_OR_RETURN(identity::MfaStatus s, in.mfa().GetStatus(id));
  ordered_json j;
  j["principal"] = id.ToString();
  j["confirmed"] = s.confirmed;
  j["algorithm"] = crypto::TotpAlgorithmName(s.algorithm);
  j["enrolled"] = Time(s.enrolled);
  j["last_success"] = s.last_success ? ordered_json(Time(*s.last_success)) : ordered_json();
  j["failed_attempts"] = s.failed_attempts;
  j["locked_until"] = s.locked_until ? ordered_json(Time(*s.locked_until)) : ordered_json();
  std::cout << j.dump(2) << "\n";
  return Status::Ok();
}

// --- ca ------------------------------------------------------------------------------------

Status CaIssue(server::Instance& in, const IdentityFlags& f, bool server_cert) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::CertificateAuthority * ca, in.ca());
  std::string csr;
  if (!f.csr_file.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(csr, ReadWholeFile(f.csr_file, "CSR"));
  } else if (f.out_key.empty()) {
    return InvalidArgumentError(
        "give --out-key FILE for the generated private key, or --csr FILE to certify your own");
  }
  if (f.out_cert.empty()) return InvalidArgumentError("give --out-cert FILE for the certificate");
  identity::IssuedCertificate issued;
  if (server_cert) {
    identity::ServerCertificateRequest request;
    request.dns_names = f.dns_names;
    request.ip_addresses = f.ip_addresses;
    request.csr_pem = csr;
    if (!f.validity.empty()) {
      CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(f.validity));
      request.validity = std::chrono::duration_cast<std::chrono::hours>(ms);
    }
    CUSTOS_ASSIGN_OR_RETURN(issued, ca->IssueServerCertificate(request, acting.caller));
  } else {
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId id, ParsePrincipalArg(f.principal));
    if (id.type != identity::PrincipalType::kServiceAccount) {
      return InvalidArgumentError("client certificates are for service accounts; '" + f.principal +
                                  "' is not a ServiceAccount");
    }
    CUSTOS_RETURN_IF_ERROR(in.directory().CheckActive(id));
    identity::ClientCertificateRequest request;
    request.service_account_id = id.id;
    request.csr_pem = csr;
    if (!f.validity.empty()) {
      CUSTOS_ASSIGN_OR_RETURN(auto ms, common::ParseDuration(f.validity));
      request.validity = std::chrono::duration_cast<std::chrono::hours>(ms);
    }
    CUSTOS_ASSIGN_OR_RETURN(issued, ca->IssueClientCertificate(request, acting.caller));
  }
  CUSTOS_RETURN_IF_ERROR(WriteNewFile(f.out_cert, issued.certificate_pem, 0644));
  if (!issued.private_key_pem.empty()) {
    CUSTOS_RETURN_IF_ERROR(
        WriteNewFile(f.out_key, common::AsChars(issued.private_key_pem.span()), 0600));
  }
  if (f.instance.json) {
    ordered_json j;
    j["serial"] = issued.serial_hex;
    j["certificate"] = f.out_cert;
    j["private_key"] = issued.private_key_pem.empty() ? ordered_json() : ordered_json(f.out_key);
    j["not_before"] = Time(issued.not_before);
    j["not_after"] = Time(issued.not_after);
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Issued " << (server_cert ? "server" : "client") << " certificate serial "
              << issued.serial_hex << " valid until " << Time(issued.not_after) << "\n  "
              << f.out_cert << "\n";
    if (!issued.private_key_pem.empty()) std::cout << "  " << f.out_key << " (mode 0600)\n";
  }
  return Status::Ok();
}

Status CaCertificate(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(identity::CertificateAuthority * ca, in.ca());
  if (f.out_cert.empty()) {
    std::cout << ca->certificate_pem();
    return Status::Ok();
  }
  return WriteNewFile(f.out_cert, ca->certificate_pem(), 0644);
}

Status CaList(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(identity::CertificateAuthority * ca, in.ca());
  CUSTOS_ASSIGN_OR_RETURN(auto issued, ca->ListIssued());
  ordered_json j = ordered_json::array();
  for (const auto& r : issued) {
    if (!f.instance.json) {
      std::cout << r.serial_hex << "  " << r.kind << "  " << r.subject << "  until "
                << Time(r.not_after) << (r.revoked ? "  [revoked]" : "") << "\n";
      continue;
    }
    j.push_back({{"serial", r.serial_hex},
                 {"kind", r.kind},
                 {"subject", r.subject},
                 {"not_after", Time(r.not_after)},
                 {"revoked", r.revoked}});
  }
  if (f.instance.json) std::cout << j.dump(2) << "\n";
  return Status::Ok();
}

Status CaRevoke(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::CertificateAuthority * ca, in.ca());
  CUSTOS_RETURN_IF_ERROR(ca->RevokeCertificate(f.serial, acting.caller));
  std::cout << "Revoked certificate " << f.serial << "\n";
  return Status::Ok();
}

Status CaInit(server::Instance& in, const IdentityFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(in, f.instance));
  CUSTOS_ASSIGN_OR_RETURN(identity::CertificateAuthority * ca, in.CreateCa(acting.caller));
  std::cout << "Created the certificate authority of " << f.instance.dir << "\n";
  if (f.instance.json) std::cout << ca->certificate_pem();
  return Status::Ok();
}

// Registers `name` under `parent` running `run` on an Instance.
CLI::App* Sub(CLI::App* parent, int* exit_code, const std::string& name, const std::string& help,
              bool acting, std::shared_ptr<IdentityFlags>& flags,
              std::function<Status(server::Instance&, const IdentityFlags&)> run) {
  return AddInstanceSubcommand(parent, exit_code, name, help, acting, flags, std::move(run));
}

void AddAttributeFlags(CLI::App* cmd, IdentityFlags& f) {
  cmd->add_option("--name", f.display_name, "Display name");
  cmd->add_option("--attr", f.attrs, "String attribute name=value (repeatable)");
  cmd->add_option("--attr-long", f.long_attrs, "Whole-number attribute name=123");
  cmd->add_option("--attr-bool", f.bool_attrs, "Boolean attribute name=true|false");
  cmd->add_option("--attr-set", f.set_attrs, "String-set attribute name=a,b,c");
}

}  // namespace

void AddIdentityCommands(CLI::App& app, int* exit_code) {
  std::shared_ptr<IdentityFlags> f;

  CLI::App* principal = app.add_subcommand("principal", "Users, service accounts and groups");
  principal->require_subcommand(1);
  CLI::App* cmd =
      Sub(principal, exit_code, "create", "Create a principal", true, f, PrincipalCreate);
  cmd->add_option("principal", f->principal, "e.g. User::alice, Group::risk")->required();
  AddAttributeFlags(cmd, *f);
  cmd = Sub(principal, exit_code, "update", "Set or remove attributes", true, f, PrincipalUpdate);
  cmd->add_option("principal", f->principal, "The principal")->required();
  AddAttributeFlags(cmd, *f);
  cmd->add_option("--remove", f->remove_attrs, "Attribute to remove (repeatable)");
  cmd = Sub(principal, exit_code, "list", "List principals", false, f, PrincipalList);
  cmd->add_option("--type", f->type, "user, service-account or group");
  cmd = Sub(principal, exit_code, "show", "One principal", false, f, PrincipalShow);
  cmd->add_option("principal", f->principal, "The principal")->required();
  cmd = Sub(principal, exit_code, "disable", "Disable: every credential stops working", true, f,
            [](server::Instance& in, const IdentityFlags& g) {
              return PrincipalSetDisabled(in, g, true);
            });
  cmd->add_option("principal", f->principal, "The principal")->required();
  cmd = Sub(principal, exit_code, "enable", "Enable again", true, f,
            [](server::Instance& in, const IdentityFlags& g) {
              return PrincipalSetDisabled(in, g, false);
            });
  cmd->add_option("principal", f->principal, "The principal")->required();
  cmd = Sub(principal, exit_code, "add-member", "Add a member to a group", true, f,
            [](server::Instance& in, const IdentityFlags& g) { return Membership(in, g, true); });
  cmd->add_option("group", f->principal, "The group")->required();
  cmd->add_option("member", f->member, "The user, service account or group")->required();
  cmd = Sub(principal, exit_code, "remove-member", "Remove a member from a group", true, f,
            [](server::Instance& in, const IdentityFlags& g) { return Membership(in, g, false); });
  cmd->add_option("group", f->principal, "The group")->required();
  cmd->add_option("member", f->member, "The member")->required();

  CLI::App* apikey = app.add_subcommand("apikey", "API keys (only to obtain access tokens)");
  apikey->require_subcommand(1);
  cmd = Sub(apikey, exit_code, "create", "Create a key (shown once)", true, f, ApiKeyCreate);
  cmd->add_option("principal", f->principal, "User or ServiceAccount")->required();
  cmd->add_option("--description", f->description, "What the key is for");
  cmd->add_option("--ttl", f->ttl, "Lifetime, e.g. 90d (default 90d, at most 365d)");
  cmd->add_option("--out", f->out_key, "Write the key to this new file (mode 0600)");
  cmd = Sub(apikey, exit_code, "list", "List keys (never secrets)", false, f, ApiKeyList);
  cmd->add_option("--principal", f->principal, "Only this principal's keys");
  cmd = Sub(apikey, exit_code, "revoke", "Revoke a key at once", true, f, ApiKeyRevoke);
  cmd->add_option("key-id", f->key_id, "ak_...")->required();

  CLI::App* token = app.add_subcommand("token", "Short-lived access tokens (PASETO v4.public)");
  token->require_subcommand(1);
  cmd = Sub(token, exit_code, "issue", "Exchange an API key for an access token", false, f,
            TokenIssue);
  cmd->add_option("--api-key-file", f->api_key_file, "File holding the API key")->required();
  cmd->add_option("--purpose", f->purpose, "Purpose the token is for")->required();
  cmd->add_option("--environment", f->environment, "dev, staging or prod")->capture_default_str();
  cmd->add_option("--zone", f->zone, "Zone, e.g. eu")->required();
  cmd->add_option("--resource", f->resources, "Resource or prefix* (repeatable)")->required();
  cmd->add_option("--action", f->actions, "Action (repeatable)")->required();
  cmd->add_option("--lifetime", f->lifetime, "e.g. 15m (default), at most 1h");
  cmd->add_option("--audience", f->audience, "Audience (default: this server's)");
  cmd->add_option("--out", f->out_key, "Write the token to this new file (mode 0600)");
  cmd =
      Sub(token, exit_code, "verify", "Check a token and print its claims", false, f, TokenVerify);
  cmd->add_option("--token-file", f->instance.token_file, "File holding the token")->required();
  cmd = Sub(token, exit_code, "revoke", "Revoke one token, or all of a principal's", true, f,
            TokenRevoke);
  cmd->add_option("token-id", f->token_id, "tok_...");
  cmd->add_option("--principal", f->principal, "Revoke every token of this principal");

  CLI::App* mfa = app.add_subcommand("mfa", "TOTP multi-factor authentication");
  mfa->require_subcommand(1);
  cmd = Sub(mfa, exit_code, "enroll", "Start an enrolment (prints the otpauth URI once)", true, f,
            MfaEnroll);
  cmd->add_option("principal", f->principal, "User or ServiceAccount")->required();
  cmd->add_option("--algorithm", f->algorithm, "sha1 (default) or sha256");
  cmd->add_option("--out", f->out_key, "Write the otpauth URI to this new file (mode 0600)");
  cmd = Sub(
      mfa, exit_code, "confirm", "Confirm an enrolment with a current code", true, f,
      [](server::Instance& in, const IdentityFlags& g) { return MfaConfirmOrVerify(in, g, true); });
  cmd->add_option("principal", f->principal, "The principal")->required();
  cmd->add_option("--code", f->code, "The current code")->required();
  cmd = Sub(mfa, exit_code, "verify", "Verify a code (counts as a fresh MFA)", true, f,
            [](server::Instance& in, const IdentityFlags& g) {
              return MfaConfirmOrVerify(in, g, false);
            });
  cmd->add_option("principal", f->principal, "The principal")->required();
  cmd->add_option("--code", f->code, "The current code")->required();
  cmd = Sub(mfa, exit_code, "status", "Enrolment state and last success", false, f, MfaShowStatus);
  cmd->add_option("principal", f->principal, "The principal")->required();

  CLI::App* ca = app.add_subcommand("ca", "The local certificate authority (mTLS identities)");
  ca->require_subcommand(1);
  cmd = Sub(ca, exit_code, "issue", "Issue a client certificate for a service account", true, f,
            [](server::Instance& in, const IdentityFlags& g) { return CaIssue(in, g, false); });
  cmd->add_option("service-account", f->principal, "e.g. ServiceAccount::fraud-scorer")->required();
  cmd->add_option("--out-cert", f->out_cert, "New file for the certificate (PEM)")->required();
  cmd->add_option("--out-key", f->out_key, "New file for the generated key (PEM, mode 0600)");
  cmd->add_option("--csr", f->csr_file, "Certify the key of this PKCS#10 request instead");
  cmd->add_option("--validity", f->validity, "e.g. 30d (default), at most 397d");
  cmd = Sub(ca, exit_code, "server", "Issue the server's TLS certificate", true, f,
            [](server::Instance& in, const IdentityFlags& g) { return CaIssue(in, g, true); });
  cmd->add_option("--out-cert", f->out_cert, "New file for the certificate (PEM)")->required();
  cmd->add_option("--out-key", f->out_key, "New file for the generated key (PEM, mode 0600)");
  cmd->add_option("--csr", f->csr_file, "Certify the key of this PKCS#10 request instead");
  cmd->add_option("--dns", f->dns_names, "DNS name besides localhost (repeatable)");
  cmd->add_option("--ip", f->ip_addresses, "IP address besides 127.0.0.1 and ::1 (repeatable)");
  cmd->add_option("--validity", f->validity, "e.g. 397d (default)");
  cmd = Sub(ca, exit_code, "certificate", "Print (or write) the CA certificate", false, f,
            CaCertificate);
  cmd->add_option("--out", f->out_cert, "New file for the PEM");
  Sub(ca, exit_code, "list", "Certificates issued", false, f, CaList);
  cmd = Sub(ca, exit_code, "revoke", "Revoke a certificate at once", true, f, CaRevoke);
  cmd->add_option("serial", f->serial, "Serial (hex) from `custos ca list`")->required();
  Sub(ca, exit_code, "init", "Create the CA in a data directory that has none", true, f, CaInit);
}

}  // namespace custos::cli
