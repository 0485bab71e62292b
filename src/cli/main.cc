// custos: the command-line entry point.
#include <iostream>

#include "cli/commands.h"
#include "crypto/random.h"

int main(int argc, char** argv) {
  custos::crypto::InitCrypto();
  CLI::App app{
      "custos: encrypted, policy-checked, audited storage for ML data.\n"
      "Exit codes: 0 ok, 2 usage, 3 invalid input, 4 not found, 5 already exists,\n"
      "6 denied or unauthenticated, 7 wrong state (e.g. sealed), 8 unavailable,\n"
      "9 data loss or tampering, 1 internal error."};
  app.require_subcommand(1);
  int exit_code = 0;
  custos::cli::AddInitCommand(app, &exit_code);
  custos::cli::AddUnsealCommand(app, &exit_code);
  custos::cli::AddKeysCommands(app, &exit_code);
  custos::cli::AddDataCommands(app, &exit_code);
  custos::cli::AddDemoCommand(app, &exit_code);
  custos::cli::AddAuditCommands(app, &exit_code);
  custos::cli::AddIdentityCommands(app, &exit_code);
  custos::cli::AddAccessCommands(app, &exit_code);
  custos::cli::AddCatalogCommands(app, &exit_code);
  custos::cli::AddFeatureCommands(app, &exit_code);
  custos::cli::AddLineageCommands(app, &exit_code);
  custos::cli::AddArtifactCommands(app, &exit_code);
  custos::cli::AddServerCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
