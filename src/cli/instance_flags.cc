// Opening an Instance for a command and resolving who acts (see instance_flags.h).
#include "cli/instance_flags.h"

#include <fstream>
#include <iostream>
#include <iterator>

#include "catalog/governance.h"
#include "cli/output.h"
#include "crypto/secret.h"

namespace custos::cli {
namespace {

Result<std::string> ReadTokenFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::getline(std::cin, text);
  } else {
    std::ifstream in(path);
    if (!in) return NotFoundError("cannot read the token file '" + path + "'");
    std::getline(in, text);
  }
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.empty()) {
    return InvalidArgumentError("the token file '" + path +
                                "' is empty; put the token from `custos token issue` on its "
                                "first line");
  }
  return text;
}

}  // namespace

std::string QuotedUidText(std::string_view text) {
  size_t sep = text.find("::\"");
  if (sep != std::string_view::npos) return std::string(text);
  sep = text.rfind("::");
  if (sep == std::string_view::npos || sep + 2 >= text.size()) return std::string(text);
  return std::string(text.substr(0, sep + 2)) + "\"" + std::string(text.substr(sep + 2)) + "\"";
}

std::string UnquotedUidText(std::string_view text) {
  size_t sep = text.find("::\"");
  if (sep == std::string_view::npos || !text.ends_with('"') || text.size() < sep + 4) {
    return std::string(text);
  }
  return std::string(text.substr(0, sep + 2)) +
         std::string(text.substr(sep + 3, text.size() - sep - 4));
}

void AddInstanceFlags(CLI::App* cmd, InstanceFlags& f) {
  cmd->add_option("--dir", f.dir, "Data directory")->required();
  cmd->add_option("--shares-file", f.unseal.shares_file, "Unseal shares, one per line (- = stdin)");
  cmd->add_option("--passphrase-file", f.unseal.passphrase_file, "Passphrase file (- = stdin)");
  cmd->add_option("--pin-file", f.unseal.pin_file, "PKCS#11 PIN file (- = stdin)");
  cmd->add_flag("--json", f.json, "Print the result as JSON");
}

void AddActingFlags(CLI::App* cmd, InstanceFlags& f) {
  AddInstanceFlags(cmd, f);
  auto* as = cmd->add_option("--as", f.as, "Act as this principal, e.g. User::alice");
  auto* token = cmd->add_option("--token-file", f.token_file,
                                "Act with the access token in FILE (- = stdin)");
  as->excludes(token);
  cmd->add_option("--mfa-code", f.mfa_code, "A current TOTP code of the acting principal");
}

Result<std::unique_ptr<server::Instance>> OpenInstance(const InstanceFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(auto dir, OpenDataDir(f.dir, f.unseal));
  server::InstanceOptions options;
  options.background_checkpoints = false;
  return server::Instance::Open(std::move(dir), std::move(options));
}

Result<identity::PrincipalId> ParsePrincipalArg(std::string_view text) {
  return identity::PrincipalId::Parse(QuotedUidText(text));
}

Result<policy::EntityUid> ParseResourceArg(std::string_view text) {
  return catalog::ParseEntityUidText(QuotedUidText(text));
}

Result<Acting> ResolveActing(server::Instance& instance, const InstanceFlags& f) {
  Acting acting;
  acting.caller.principal_id = "cli";
  acting.caller.auth_method = audit::AuthMethod::kEmbedded;
  if (!f.as.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId p, ParsePrincipalArg(f.as));
    CUSTOS_RETURN_IF_ERROR(instance.directory().CheckActive(p));
    acting.caller.principal_id = p.ToString();
    acting.principal = std::move(p);
  } else if (!f.token_file.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(std::string token, ReadTokenFile(f.token_file));
    auto claims = instance.tokens().Verify(token);
    crypto::ZeroizeString(token);
    if (!claims.ok()) return claims.status();
    CUSTOS_ASSIGN_OR_RETURN(identity::PrincipalId p,
                            identity::PrincipalId::Parse((*claims)->subject));
    CUSTOS_RETURN_IF_ERROR(instance.directory().CheckActive(p));
    acting.caller.principal_id = p.ToString();
    acting.caller.auth_method = audit::AuthMethod::kToken;
    acting.principal = std::move(p);
    acting.token = **claims;
  }
  return acting;
}

Result<access::Actor> ResolveActor(server::Instance& instance, const InstanceFlags& f) {
  CUSTOS_ASSIGN_OR_RETURN(Acting acting, ResolveActing(instance, f));
  if (!acting.principal) {
    return InvalidArgumentError(
        "this command needs the acting principal: pass --as User::<id> or --token-file FILE");
  }
  if (!f.mfa_code.empty()) {
    CUSTOS_RETURN_IF_ERROR(
        instance.mfa().Verify(acting.caller, *acting.principal, f.mfa_code).status());
  }
  return instance.ActorFor(*acting.principal, acting.caller.auth_method);
}

int RunWithInstance(const InstanceFlags& f, const std::function<Status(server::Instance&)>& body) {
  auto instance = OpenInstance(f);
  if (!instance.ok()) return Fail(instance.status());
  Status status = body(**instance);
  if (!status.ok()) return Fail(status);
  return 0;
}

}  // namespace custos::cli
