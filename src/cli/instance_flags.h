// What every command that works on a running data directory shares: the flags that open
// it (directory and unseal material), who is acting (`--as` for the embedded operator
// acting for a principal, or `--token-file` with an access token), a fresh MFA code, and
// the parsing of principal and resource arguments.
// Thread-safety: single-threaded (runs in main).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "access/records.h"
#include "cli/unseal_input.h"
#include "identity/directory.h"
#include "identity/identity_audit.h"
#include "policy/value.h"
#include "server/instance.h"

namespace custos::cli {

struct InstanceFlags {
  std::string dir;
  UnsealFlags unseal;
  bool json = false;
  std::string as;          // acting principal, e.g. User::alice
  std::string token_file;  // or: an access token read from this file ("-" = stdin)
  std::string mfa_code;    // a TOTP code of the acting principal, verified first
};

// --dir, the unseal flags and --json.
void AddInstanceFlags(CLI::App* cmd, InstanceFlags& f);
// Also --as, --token-file and --mfa-code.
void AddActingFlags(CLI::App* cmd, InstanceFlags& f);

// Opens the data directory and every service on it (the CLI signs a checkpoint on exit
// rather than running the background checkpointer).
Result<std::unique_ptr<server::Instance>> OpenInstance(const InstanceFlags& f);

// Who is acting, resolved from --as / --token-file: the principal (if any) and the
// Caller that identity operations record. Without either flag the caller is the
// embedded operator ("cli"), who holds the unseal material.
struct Acting {
  std::optional<identity::PrincipalId> principal;
  identity::Caller caller;
  std::optional<identity::TokenClaims> token;  // when acting with --token-file
};
Result<Acting> ResolveActing(server::Instance& instance, const InstanceFlags& f);

// The acting principal as the access workflow sees it: required (InvalidArgument naming
// --as / --token-file otherwise); --mfa-code, when given, is verified first and counts as
// a fresh MFA.
Result<access::Actor> ResolveActor(server::Instance& instance, const InstanceFlags& f);

// `Type::id` -> `Type::"id"` (text that already has quotes is returned as is): principals in
// audit events are spelled the quoted way.
std::string QuotedUidText(std::string_view text);
// `Type::"id"` -> `Type::id`: resources in audit events are spelled the unquoted way.
std::string UnquotedUidText(std::string_view text);

// Principal arguments: `User::alice` or `User::"alice"` (types User, ServiceAccount, Group).
Result<identity::PrincipalId> ParsePrincipalArg(std::string_view text);
// Resource arguments: `FeatureView::fraud` or `FeatureView::"fraud"`.
Result<policy::EntityUid> ParseResourceArg(std::string_view text);

// Opens the instance, runs `body` and turns its status into the exit code (printing the
// error). `body` prints its own result.
int RunWithInstance(const InstanceFlags& f, const std::function<Status(server::Instance&)>& body);

// Adds subcommand `name` to `parent` with a fresh `Flags` (a struct with an
// `InstanceFlags instance` member) in `flags`, so the caller can add its own options;
// `acting` adds --as/--token-file/--mfa-code. Running it opens the instance and calls
// `run`; the exit code lands in `*exit_code`.
template <typename Flags>
CLI::App* AddInstanceSubcommand(CLI::App* parent, int* exit_code, const std::string& name,
                                const std::string& help, bool acting, std::shared_ptr<Flags>& flags,
                                std::function<Status(server::Instance&, const Flags&)> run) {
  flags = std::make_shared<Flags>();
  CLI::App* cmd = parent->add_subcommand(name, help);
  if (acting) {
    AddActingFlags(cmd, flags->instance);
  } else {
    AddInstanceFlags(cmd, flags->instance);
  }
  cmd->callback([flags, exit_code, run = std::move(run)] {
    *exit_code =
        RunWithInstance(flags->instance, [&](server::Instance& in) { return run(in, *flags); });
  });
  return cmd;
}

}  // namespace custos::cli
