// libFuzzer target for the artifact vault's portable formats: arbitrary bytes as a
// signature bundle (ParseBundle), a trusted-keys document (ParseTrustedKeys) and a
// canonical statement (ParseCanonicalStatement), all from artifacts/. Every input must be
// accepted or refused cleanly, and whatever parses must re-serialize to a text that parses
// to the same value; a canonical statement must re-serialize to exactly its input bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "artifacts/signature_bundle.h"
#include "artifacts/statement.h"

namespace {

namespace artifacts = custos::artifacts;

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckStatement(const artifacts::ArtifactStatement& statement) {
  Check(artifacts::ValidateStatement(statement).ok());
  auto back = artifacts::ParseCanonicalStatement(artifacts::CanonicalStatement(statement));
  Check(back.ok() && *back == statement);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto statement = artifacts::ParseCanonicalStatement(bytes);
  if (statement.ok()) {
    // One statement, one text: the parser accepts only what CanonicalStatement writes.
    Check(artifacts::CanonicalStatement(*statement) == bytes);
    CheckStatement(*statement);
  }

  auto bundle = artifacts::ParseBundle(bytes);
  if (bundle.ok()) {
    CheckStatement(bundle->statement);
    auto again = artifacts::ParseBundle(artifacts::BundleToJson(*bundle));
    Check(again.ok() && *again == *bundle);
  }

  auto keys = artifacts::ParseTrustedKeys(bytes);
  if (keys.ok()) {
    for (const artifacts::TrustedKey& key : *keys) {
      Check(key.key_id == artifacts::KeyIdOf(key.key));
    }
    auto again = artifacts::ParseTrustedKeys(artifacts::TrustedKeysToJson(*keys));
    Check(again.ok() && *again == *keys);
    // Checking the bundle's signatures against the keys must never crash.
    if (bundle.ok()) {
      for (const auto& sig : bundle->signatures) {
        (void)artifacts::VerifySignature(bundle->statement, sig, *keys);
      }
    }
  }
  return 0;
}
