// libFuzzer target for the audit log's text formats that arrive from outside: C2SP
// signed notes, tlog-checkpoints and tlog-proof receipts (what `custos audit verify`,
// replicas and receipt holders parse). Arbitrary text must be refused cleanly, what
// parses must format back to the same bytes, and nothing unsigned may verify.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/checkpoint.h"
#include "audit/note.h"
#include "audit/receipt.h"
#include "crypto/ed25519.h"

namespace {

using namespace custos::audit;

// A fixed log key, built once (and deliberately never freed).
const NoteVerifierSet& Known() {
  static const NoteVerifierSet* known = [] {
    custos::crypto::SecretBytes seed(32);
    for (size_t i = 0; i < 32; ++i) seed.span()[i] = static_cast<uint8_t>(i * 7 + 1);
    auto key = custos::crypto::Ed25519PrivateKey::FromSeed(seed);
    if (!key.ok()) std::abort();
    auto signer = NoteSigner::Create("fuzz.example/log", std::move(*key));
    if (!signer.ok()) std::abort();
    return new NoteVerifierSet(std::vector<NoteVerifier>{signer->verifier()});
  }();
  return *known;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto note = ParseNote(text); note.ok()) {
    // A parsed note formats back to exactly the bytes it came from.
    if (FormatNote(*note) != text) std::abort();
  }
  // The fuzzer cannot produce a signature under the fixed key.
  if (OpenNote(text, Known()).ok()) std::abort();
  if (OpenCheckpoint(text, "fuzz.example/log", Known()).ok()) std::abort();

  if (auto checkpoint = ParseCheckpointText(text); checkpoint.ok()) {
    auto formatted = FormatCheckpointText(*checkpoint);
    if (!formatted.ok() || *formatted != text) std::abort();
  }

  if (auto receipt = ParseReceipt(text); receipt.ok()) {
    if (FormatReceipt(*receipt) != text) std::abort();
    custos::audit::Hash leaf{};
    if (VerifyReceipt(*receipt, leaf, "fuzz.example/log", Known()).ok()) std::abort();
  }
  return 0;
}
