// Artifact kinds, names, references and the canonical statement: the round trip, and the
// refusal of every non-canonical variant of a statement's text.
#include "artifacts/statement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace custos::artifacts {
namespace {

using ::testing::HasSubstr;

ArtifactStatement Sample() {
  ArtifactStatement s;
  s.name = "fraud/scorer";
  s.version = 12;
  s.kind = ArtifactKind::kModel;
  for (size_t i = 0; i < s.sha256.size(); ++i) s.sha256[i] = static_cast<uint8_t>(0xa0 + i);
  s.size = 1048576;
  s.media_type = "application/octet-stream";
  return s;
}

const char kSampleText[] =
    "custos-artifact-statement v1\n"
    "name fraud/scorer\n"
    "version 12\n"
    "kind model\n"
    "sha256 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\n"
    "size 1048576\n"
    "media-type application/octet-stream\n";

// Replaces the first occurrence of `from` in the sample text.
std::string Mutated(const std::string& from, const std::string& to) {
  std::string text = kSampleText;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(ArtifactKindTest, NamesRoundTripAndUnknownIsRefused) {
  EXPECT_EQ(ArtifactKindName(ArtifactKind::kModel), "model");
  EXPECT_EQ(ArtifactKindName(ArtifactKind::kDataset), "dataset");
  EXPECT_EQ(*ParseArtifactKind("model"), ArtifactKind::kModel);
  EXPECT_EQ(*ParseArtifactKind("dataset"), ArtifactKind::kDataset);
  auto bad = ParseArtifactKind("Model");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("choose model or dataset"));
}

TEST(ArtifactNameTest, AcceptsSegmentsOfTheAllowedForm) {
  for (const char* name : {"a", "0", "scorer", "fraud/scorer", "a.b_c-d/e9/f", "x/y/z"}) {
    EXPECT_TRUE(ValidateArtifactName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateArtifactName(std::string(128, 'a')).ok());
  EXPECT_TRUE(ValidateArtifactName(std::string(128, 'a') + "/" + std::string(127, 'b')).ok());
}

TEST(ArtifactNameTest, RefusalsSayWhichRuleAndWhere) {
  struct Case {
    std::string name;
    std::string expected;
  };
  const Case cases[] = {
      {"", "empty"},
      {"Fraud", "'F' at byte 0 cannot start a segment"},
      {"fraud/Scorer", "'S' at byte 6 cannot start a segment"},
      {"fraud/.x", "'.' at byte 6 cannot start a segment"},
      {"fraud/sc orer", "byte 0x20 at byte 8 is not allowed"},
      {"fraud@x", "'@' at byte 5 is not allowed"},
      {"/fraud", "empty segment at byte 0"},
      {"fraud/", "empty segment at byte 6"},
      {"fraud//x", "empty segment at byte 6"},
      {std::string(129, 'a'), "129 bytes; at most 128"},
      {std::string(128, 'a') + "/" + std::string(128, 'b'), "257 bytes is too long"},
  };
  for (const Case& c : cases) {
    Status s = ValidateArtifactName(c.name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(s.message(), HasSubstr(c.expected)) << c.name;
  }
}

TEST(MediaTypeTest, Rfc6838Syntax) {
  for (const char* t : {"application/octet-stream", "application/vnd.onnx+protobuf", "text/csv",
                        "application/x-parquet", "Application/JSON"}) {
    EXPECT_TRUE(ValidateMediaType(t).ok()) << t;
  }
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {"", "empty"},
      {"application", "no '/'"},
      {"/json", "the type is empty"},
      {"application/", "the subtype is empty"},
      {"application/json; charset=utf-8", "';' at byte 16"},
      {"application/-json", "must start with a letter or digit"},
      {"application/a/b", "'/' at byte 13"},
      {"a/" + std::string(126, 'b'), "128 bytes is too long"},
  };
  for (const Case& c : cases) {
    Status s = ValidateMediaType(c.text);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(s.message(), HasSubstr(c.expected)) << c.text;
  }
}

TEST(ArtifactRefTest, ParseAndFormat) {
  auto ref = ParseArtifactRef("fraud/scorer@3");
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EXPECT_EQ(ref->name, "fraud/scorer");
  EXPECT_EQ(ref->version, 3u);
  EXPECT_EQ(FormatArtifactRef(*ref), "fraud/scorer@3");
  EXPECT_EQ(ParseArtifactRef("m@18446744073709551615")->version, UINT64_MAX);
}

TEST(ArtifactRefTest, Refusals) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {"fraud/scorer", "has no '@'"},
      {"fraud/scorer@", "version is empty"},
      {"fraud/scorer@0", "version 0 does not exist"},
      {"fraud/scorer@03", "leading zero"},
      {"fraud/scorer@+3", "'+' at byte 0 is not a decimal digit"},
      {"fraud/scorer@3x", "'x' at byte 1"},
      {"fraud/scorer@18446744073709551616", "does not fit in 64 bits"},
      {"@3", "artifact reference: name: artifact name is empty"},
      {"Fraud@3", "cannot start a segment"},
      {"a@b@3", "'b' at byte 0"},
  };
  for (const Case& c : cases) {
    auto r = ParseArtifactRef(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.expected)) << c.text;
  }
}

TEST(StatementTest, CanonicalFormIsExactAndRoundTrips) {
  ArtifactStatement s = Sample();
  ASSERT_TRUE(ValidateStatement(s).ok());
  EXPECT_EQ(CanonicalStatement(s), kSampleText);
  auto parsed = ParseCanonicalStatement(kSampleText);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, s);

  ArtifactStatement d = s;
  d.kind = ArtifactKind::kDataset;
  d.size = 0;
  d.version = UINT64_MAX;
  d.media_type = "text/csv";
  auto back = ParseCanonicalStatement(CanonicalStatement(d));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, d);
}

TEST(StatementTest, ValidateNamesTheField) {
  ArtifactStatement s = Sample();
  s.version = 0;
  EXPECT_THAT(ValidateStatement(s).message(), HasSubstr("statement version"));
  s = Sample();
  s.name = "Bad";
  EXPECT_THAT(ValidateStatement(s).message(), HasSubstr("statement name"));
  s = Sample();
  s.media_type = "nonsense";
  EXPECT_THAT(ValidateStatement(s).message(), HasSubstr("statement media_type"));
  s = Sample();
  s.kind = static_cast<ArtifactKind>(7);
  EXPECT_THAT(ValidateStatement(s).message(), HasSubstr("statement kind"));
}

TEST(StatementTest, RefusesEveryNonCanonicalVariant) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::string sample = kSampleText;
  const Case cases[] = {
      {"", "line 1: missing"},
      {Mutated("v1\n", "v2\n"), "line 1: expected 'custos-artifact-statement v1'"},
      {Mutated("name fraud", "name  fraud"), "line 2 (name)"},
      {Mutated("name fraud", "name\tfraud"), "line 2 (name): expected 'name <value>'"},
      {Mutated("version 12", "version  12"), "line 3 (version)"},
      {Mutated("version 12", "version 012"), "line 3 (version): version '012' has a leading zero"},
      {Mutated("version 12", "version 0"), "line 3 (version): 0 is not a version"},
      {Mutated("version 12", "version 12 "), "line 3 (version)"},
      {Mutated("kind model", "kind Model"), "line 4 (kind)"},
      {Mutated("sha256 a0a1", "sha256 A0a1"), "line 5 (sha256): 'A' at digit 0"},
      {Mutated("bebf\n", "be\n"), "line 5 (sha256): expected 64 lowercase hex digits, found 62"},
      {Mutated("size 1048576", "size 01048576"), "line 6 (size)"},
      {Mutated("size 1048576", "size -1"), "line 6 (size)"},
      {Mutated("media-type application", "media_type application"), "line 7 (media-type)"},
      {Mutated("media-type application/octet-stream", "media-type application/octet-stream;x=1"),
       "line 7 (media-type)"},
      {Mutated("kind model\n", ""), "line 4 (kind): expected 'kind <value>'"},
      {Mutated("name fraud/scorer\nversion 12\n", "version 12\nname fraud/scorer\n"),
       "line 2 (name)"},
      {sample + "extra\n", "bytes after line 7"},
      {sample + "\n", "1 bytes after line 7"},
      {sample.substr(0, sample.size() - 1), "line 7 (media-type): not terminated"},
      {Mutated("\n", "\r\n"), "line 1: expected"},
      {std::string(2000, 'x'), "longer than any canonical statement"},
  };
  for (const Case& c : cases) {
    auto r = ParseCanonicalStatement(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(r.status().message(), HasSubstr(c.expected)) << c.text;
  }
}

}  // namespace
}  // namespace custos::artifacts
