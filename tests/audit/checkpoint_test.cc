// C2SP tlog-checkpoint parsing, formatting and verification, with real sum.golang.org
// checkpoints from the shared vectors.
#include "audit/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/bytes.h"
#include "crypto/secret.h"

namespace custos::audit {
namespace {

using nlohmann::json;

constexpr std::string_view kGoSumOrigin = "go.sum database tree";

json SumGolangVectors() {
  std::ifstream in(std::filesystem::path(CUSTOS_SHARED_DIR) /
                   "vectors/signed-note/signed_note_vectors.json");
  json all = json::parse(in);
  json out = json::array();
  for (const json& v : all.at("vectors")) {
    if (v.at("vkey").get<std::string>().rfind("sum.golang.org+", 0) == 0) out.push_back(v);
  }
  return out;
}

TEST(CheckpointVectors, RealSumGolangCheckpointsOpen) {
  json vectors = SumGolangVectors();
  ASSERT_EQ(vectors.size(), 2u);
  const struct {
    uint64_t size;
    const char* root_b64;
  } kWant[] = {{63096908, "8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54="},
               {58253265, "lIyLAEe4zJUQAda6pFFg3yPOf7j1SgfMEDrpgoX39JU="}};
  for (size_t i = 0; i < vectors.size(); ++i) {
    const json& v = vectors[i];
    auto verifier = NoteVerifier::FromVkey(v.at("vkey").get<std::string>());
    ASSERT_TRUE(verifier.ok());
    NoteVerifierSet known({*verifier});
    std::string note =
        v.at("text").get<std::string>() + "\n" + v.at("sig_line").get<std::string>() + "\n";
    Result<Checkpoint> cp = OpenCheckpoint(note, kGoSumOrigin, known);
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    EXPECT_EQ(cp->origin, kGoSumOrigin);
    EXPECT_EQ(cp->size, kWant[i].size);
    EXPECT_EQ(common::Base64Encode(cp->root), kWant[i].root_b64);
    EXPECT_TRUE(cp->extensions.empty());
    // Formatting gives back the signed text byte for byte.
    EXPECT_EQ(*FormatCheckpointText(*cp), v.at("text").get<std::string>());
    // The same note is refused for another log's origin.
    EXPECT_EQ(OpenCheckpoint(note, "sum.golang.org", known).status().code(),
              StatusCode::kInvalidArgument);
  }
}

TEST(Checkpoint, SignAndOpenWithExtensions) {
  auto signer = *NoteSigner::Create(
      "custos.example/audit",
      *crypto::Ed25519PrivateKey::FromSeed(crypto::SecretBytes::CopyOf(common::Bytes(32, 1))));
  Checkpoint cp{
      "custos.example/audit", 12345, HashLeaf(common::AsBytes("x")), {"ext one", "ext two"}};
  Result<std::string> note = SignCheckpoint(cp, {&signer, 1});
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  EXPECT_EQ(note->substr(0, note->find("\n\n")),
            "custos.example/audit\n12345\n" + common::Base64Encode(cp.root) + "\next one\next two");
  Result<Checkpoint> opened =
      OpenCheckpoint(*note, "custos.example/audit", NoteVerifierSet({signer.verifier()}));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, cp);
  // An empty origin argument skips the origin check.
  EXPECT_TRUE(OpenCheckpoint(*note, "", NoteVerifierSet({signer.verifier()})).ok());
}

TEST(Checkpoint, EmptyTreeHasSizeZero) {
  Result<Checkpoint> cp =
      ParseCheckpointText("log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->size, 0u);
  EXPECT_EQ(cp->root, EmptyRoot());
}

TEST(Checkpoint, MalformedTextsAreRejectedWithTheLine) {
  const std::string root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const struct {
    std::string text;
    std::string error_part;
  } kCases[] = {
      {"log\n1\n" + root, "must end with a newline"},
      {"log\n1\n", "at least 3 lines"},
      {"\n1\n" + root + "\n", "checkpoint:1: empty line"},
      {"log\n01\n" + root + "\n", "checkpoint:2: tree size '01'"},
      {"log\n+1\n" + root + "\n", "checkpoint:2:"},
      {"log\n-1\n" + root + "\n", "checkpoint:2:"},
      {"log\n1 \n" + root + "\n", "checkpoint:2:"},
      {"log\n18446744073709551616\n" + root + "\n", "checkpoint:2:"},
      {"log\n1\nAAAA\n", "checkpoint:3: root hash must be 32 bytes, got 3"},
      {"log\n1\n" + root.substr(0, 43) + "\n", "checkpoint:3: root hash"},
      {"log\n1\n" + root + "\n\n", "checkpoint:4: empty line"},
      {"log\n1\n" + root + "\next\n\n", "checkpoint:5: empty line"},
      // Found by fuzz/audit_note_fuzz.cc: parsed, but would not format back.
      {"log\n1\n" + root + "\n\x1a ext\n", "checkpoint:4: control character"},
      {"l\tog\n1\n" + root + "\n", "checkpoint:1: control character"},
  };
  for (const auto& c : kCases) {
    Result<Checkpoint> cp = ParseCheckpointText(c.text);
    EXPECT_EQ(cp.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(cp.status().message().find(c.error_part), std::string::npos)
        << cp.status().message() << " | wanted: " << c.error_part;
  }
  EXPECT_EQ(ParseCheckpointText("log\n18446744073709551615\n" + root + "\n")->size, UINT64_MAX);
}

TEST(Checkpoint, FormatRefusesFieldsThatWouldNotParseBack) {
  EXPECT_FALSE(FormatCheckpointText({"", 1, {}, {}}).ok());
  EXPECT_FALSE(FormatCheckpointText({"a\nb", 1, {}, {}}).ok());
  EXPECT_FALSE(FormatCheckpointText({"log", 1, {}, {""}}).ok());
  EXPECT_FALSE(FormatCheckpointText({"log", 1, {}, {"a\tb"}}).ok());
}

TEST(Checkpoint, ConsistencyBetweenCheckpoints) {
  MemoryHashStore store;
  std::vector<Checkpoint> seen = {{"log", 0, EmptyRoot(), {}}};
  for (int i = 1; i <= 40; ++i) {
    store.AppendLeafHash(HashLeaf(common::AsBytes(std::to_string(i))));
    if (i % 7 == 0 || i == 40) seen.push_back({"log", store.size(), store.Root(), {}});
  }
  for (size_t a = 0; a < seen.size(); ++a) {
    for (size_t b = a; b < seen.size(); ++b) {
      std::vector<Hash> proof;
      if (seen[a].size > 0) proof = *ConsistencyProof(seen[a].size, seen[b].size, store);
      EXPECT_TRUE(VerifyCheckpointConsistency(seen[a], seen[b], proof).ok()) << a << "->" << b;
    }
  }
  Checkpoint forked = seen[2];
  forked.root[0] ^= 1;
  auto proof = *ConsistencyProof(seen[2].size, seen[4].size, store);
  EXPECT_EQ(VerifyCheckpointConsistency(forked, seen[4], proof).code(), StatusCode::kDataLoss);
  Checkpoint other_log = seen[4];
  other_log.origin = "other";
  EXPECT_EQ(VerifyCheckpointConsistency(seen[2], other_log, proof).code(),
            StatusCode::kInvalidArgument);
  Checkpoint bad_empty = seen[0];
  bad_empty.root = seen[1].root;
  EXPECT_EQ(VerifyCheckpointConsistency(bad_empty, seen[1], {}).code(), StatusCode::kDataLoss);
  EXPECT_EQ(VerifyCheckpointConsistency(seen[0], seen[1], proof).code(),
            StatusCode::kInvalidArgument);
  // Shrinking is never consistent.
  EXPECT_EQ(VerifyCheckpointConsistency(seen[4], seen[2], proof).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::audit
