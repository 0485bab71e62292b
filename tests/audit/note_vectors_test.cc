// C2SP signed-note vectors (spec example, Go sumdb note tests, real sum.golang.org
// checkpoints) and the strict-parsing rules of audit/note.h.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/note.h"
#include "common/bytes.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

namespace custos::audit {
namespace {

using nlohmann::json;

json LoadVectors() {
  std::ifstream in(std::filesystem::path(CUSTOS_SHARED_DIR) /
                   "vectors/signed-note/signed_note_vectors.json");
  return json::parse(in).at("vectors");
}

TEST(NoteVectors, AllVerifyAndTheNegativeFails) {
  json vectors = LoadVectors();
  ASSERT_EQ(vectors.size(), 6u);
  int valid = 0;
  int invalid = 0;
  for (const json& v : vectors) {
    SCOPED_TRACE(v.at("desc").get<std::string>());
    Result<NoteVerifier> verifier = NoteVerifier::FromVkey(v.at("vkey").get<std::string>());
    ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
    // The vkey round-trips exactly.
    EXPECT_EQ(verifier->Vkey(), v.at("vkey").get<std::string>());
    std::string text = v.at("text").get<std::string>();
    std::string message = text + "\n" + v.at("sig_line").get<std::string>() + "\n";
    NoteVerifierSet known({*verifier});
    Result<VerifiedNote> opened = OpenNote(message, known);
    if (v.at("expect") == "valid") {
      ++valid;
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_EQ(opened->text, text);
      ASSERT_EQ(opened->verified.size(), 1u);
      EXPECT_EQ(opened->verified[0].name, verifier->name());
      EXPECT_EQ(opened->verified[0].key_id, verifier->key_id());
      // Parsing and formatting are inverse on these notes.
      Result<Note> parsed = ParseNote(message);
      ASSERT_TRUE(parsed.ok());
      EXPECT_EQ(FormatNote(*parsed), message);
    } else {
      ++invalid;
      EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
    }
  }
  EXPECT_EQ(valid, 5);
  EXPECT_EQ(invalid, 1);
}

TEST(NoteVectors, PrivateKeyResignsIdentically) {
  int resigned = 0;
  for (const json& v : LoadVectors()) {
    if (!v.contains("skey")) continue;
    Result<NoteSigner> signer = NoteSigner::FromSkey(v.at("skey").get<std::string>());
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    EXPECT_EQ(signer->verifier().Vkey(), v.at("vkey").get<std::string>());
    std::string text = v.at("text").get<std::string>();
    Result<std::string> signed_note = SignNote(text, {&*signer, 1});
    ASSERT_TRUE(signed_note.ok()) << signed_note.status().ToString();
    EXPECT_EQ(*signed_note, text + "\n" + v.at("sig_line").get<std::string>() + "\n");
    ++resigned;
  }
  EXPECT_EQ(resigned, 1);
}

TEST(NoteVectors, TwoSignersOneKnown) {
  // The Go sumdb test note carries two signatures; each verifier alone suffices, the
  // other signature is ignored as unknown.
  json vectors = LoadVectors();
  const json& peter = vectors.at(1);
  const json& enoch = vectors.at(2);
  ASSERT_EQ(peter.at("text"), enoch.at("text"));
  std::string message = peter.at("text").get<std::string>() + "\n" +
                        peter.at("sig_line").get<std::string>() + "\n" +
                        enoch.at("sig_line").get<std::string>() + "\n";
  auto enoch_key = NoteVerifier::FromVkey(enoch.at("vkey").get<std::string>());
  ASSERT_TRUE(enoch_key.ok());
  Result<VerifiedNote> opened = OpenNote(message, NoteVerifierSet({*enoch_key}));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].name, "EnochRoot");
  ASSERT_EQ(opened->unknown.size(), 1u);
  EXPECT_EQ(opened->unknown[0].name, "PeterNeumann");
  // With no trusted key at all the note is rejected.
  EXPECT_EQ(OpenNote(message, NoteVerifierSet()).status().code(), StatusCode::kUnauthenticated);
}

class NoteTest : public ::testing::Test {
 protected:
  NoteTest()
      : signer_(*NoteSigner::Create("example.com/log",
                                    *crypto::Ed25519PrivateKey::FromSeed(
                                        crypto::SecretBytes::CopyOf(common::Bytes(32, 7))))),
        known_({signer_.verifier()}) {}

  std::string Signed(std::string_view text) { return *SignNote(text, {&signer_, 1}); }

  NoteSigner signer_;
  NoteVerifierSet known_;
};

TEST_F(NoteTest, KeyIdIsTruncatedSha256OfNameTypeAndKey) {
  common::Bytes buf = common::ToBytes("example.com/log\n");
  buf.push_back(0x01);
  const auto& pk = signer_.verifier().public_key().bytes();
  buf.insert(buf.end(), pk.begin(), pk.end());
  crypto::Digest d = crypto::Sha256Of(buf);
  uint32_t want = uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 | d[3];
  EXPECT_EQ(signer_.key_id(), want);
}

TEST_F(NoteTest, SignedNotesRoundTripWithEmptyLinesInText) {
  std::string text = "line one\n\nline three after a blank line\n";
  Result<VerifiedNote> opened = OpenNote(Signed(text), known_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->text, text);
}

TEST_F(NoteTest, NonAsciiAndDelAreAllowedInText) {
  // The spec bans only control characters below U+0020 (newline aside).
  std::string text = "caf\xC3\xA9 \xE2\x80\x94 \x7F \xF0\x9F\x94\x91\n";
  Result<VerifiedNote> opened = OpenNote(Signed(text), known_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->text, text);
}

TEST_F(NoteTest, AlteredTextOrSignatureIsDataLoss) {
  std::string note = Signed("hello\n");
  std::string altered = note;
  altered[0] = 'j';
  EXPECT_EQ(OpenNote(altered, known_).status().code(), StatusCode::kDataLoss);
  // Flip a bit inside the base64 signature (keeping it valid base64).
  std::string sig_flipped = note;
  size_t pos = sig_flipped.size() - 10;
  sig_flipped[pos] = sig_flipped[pos] == 'A' ? 'B' : 'A';
  EXPECT_EQ(OpenNote(sig_flipped, known_).status().code(), StatusCode::kDataLoss);
}

TEST_F(NoteTest, SameNameOtherKeyIsIgnoredAsUnknown) {
  auto other = *NoteSigner::Create("example.com/log", crypto::Ed25519PrivateKey::Generate());
  std::string note = *SignNote("hello\n", {&other, 1});
  EXPECT_EQ(OpenNote(note, known_).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(NoteTest, DuplicateKnownSignatureIsRejected) {
  std::string note = Signed("hello\n");
  std::string sig_line = note.substr(note.find("\xE2\x80\x94"));
  EXPECT_EQ(OpenNote(note + sig_line, known_).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(NoteTest, MalformedNotesAreRejectedWithPositions) {
  std::string good = Signed("hello\n");
  std::string sig_line = good.substr(good.find("\xE2\x80\x94"));
  struct Case {
    std::string message;
    std::string error_part;
  };
  const Case cases[] = {
      {"hello\n" + sig_line, "no blank line"},
      {"hello\n\n", "no signature lines"},
      {good.substr(0, good.size() - 1), "does not end with a newline"},
      {"hel\rlo\n\n" + sig_line, "note:1:4: control character 0x0d"},
      {"hello\n\n" + sig_line + "\tx\n", "note:4:1: control character 0x09"},
      {"h\xC3\x28llo\n\n" + sig_line, "note:1:2: invalid UTF-8"},
      {"h\xE0\x80\xAFllo\n\n" + sig_line, "invalid UTF-8"},  // overlong '/'
      {"h\xED\xA0\x80llo\n\n" + sig_line, "invalid UTF-8"},  // surrogate
      {"hello\n\n- example.com/log AAAAAAA=\n", "note:3: signature lines must start"},
      {"hello\n\n\xE2\x80\x94 example.com/log\n", "expected '\xE2\x80\x94 <key name>"},
      {"hello\n\n\xE2\x80\x94 a+b AAAAAAA=\n", "contains a '+'"},
      {"hello\n\n\xE2\x80\x94 a\xC2\xA0"
       "b AAAAAAA=\n",
       "contains a '+', a space"},
      {"hello\n\n\xE2\x80\x94  AAAAAAA=\n", "must not be empty"},
      {"hello\n\n\xE2\x80\x94 k AAAA\n", "needs a 4-byte key ID"},
      {"hello\n\n\xE2\x80\x94 k AAAAAAA\n", "invalid base64"},
      {"hello\n\n\xE2\x80\x94 k AAAAAAA= \n", "invalid base64"},
  };
  for (const Case& c : cases) {
    Result<VerifiedNote> opened = OpenNote(c.message, known_);
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(opened.status().message().find(c.error_part), std::string::npos)
        << "message: " << opened.status().message() << "\nwanted: " << c.error_part;
  }
}

TEST_F(NoteTest, SignatureCountLimit) {
  std::string note = Signed("hello\n");
  std::string sig_line = note.substr(note.find("\xE2\x80\x94"));
  std::string many = "hello\n\n";
  for (size_t i = 0; i < kMaxNoteSignatures; ++i) many += sig_line;
  // 100 copies of one known signature: parses (limit inclusive) but is a duplicate.
  EXPECT_EQ(OpenNote(many, known_).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ParseNote(many).ok());
  EXPECT_FALSE(ParseNote(many + sig_line).ok());
  EXPECT_NE(ParseNote(many + sig_line).status().message().find("more than 100 signatures"),
            std::string::npos);
}

TEST_F(NoteTest, SignNoteRejectsInvalidText) {
  EXPECT_EQ(SignNote("", {&signer_, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("no newline", {&signer_, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("tab\there\n", {&signer_, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SignNote("ok\n", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(NoteKeys, MalformedKeyStringsAreRejected) {
  const std::string good = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
  ASSERT_TRUE(NoteVerifier::FromVkey(good).ok());
  EXPECT_EQ(NoteVerifier::FromVkey(
                "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
                .status()
                .code(),
            StatusCode::kInvalidArgument);  // wrong key ID
  EXPECT_EQ(NoteVerifier::FromVkey(
                "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
                .status()
                .code(),
            StatusCode::kInvalidArgument);  // upper-case hex
  EXPECT_EQ(NoteVerifier::FromVkey("example.com/foo+530d903a").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NoteVerifier::FromVkey("+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  // Type 0x02 (ECDSA) is a valid note key type that custos does not support.
  EXPECT_EQ(NoteVerifier::FromVkey("a+00000000+AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
                .status()
                .code(),
            StatusCode::kUnimplemented);
  EXPECT_EQ(NoteVerifier::FromVkey("a+00000000+AQAA").status().code(),
            StatusCode::kInvalidArgument);  // short key
  EXPECT_EQ(NoteSigner::FromSkey(good).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace custos::audit
