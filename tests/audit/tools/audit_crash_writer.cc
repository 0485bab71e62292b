// custos_audit_crash_writer DIR SHARES_FILE RUN: the audit crash test's writer process
// (see crash_writer.h); the test SIGKILLs it at random moments.
#include <cstdio>

#include "crash_writer.h"
#include "crypto/random.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR SHARES_FILE RUN\n", argv[0]);
    return 2;
  }
  custos::crypto::InitCrypto();
  return custos::audit::crash::RunCrashWriter(argv[1], argv[2], argv[3]);
}
