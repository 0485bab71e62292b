// Pins the verdicts of custos's one Ed25519 verifier (libsodium) on the 914 CCTV edge
// cases (low-order and non-canonical points), so that a library change that flips any
// verdict is noticed. Verdicts were computed once with libsodium 1.0.18.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "crypto/ed25519.h"

namespace custos::crypto {
namespace {

// The case numbers libsodium accepts; it rejects the other 871.
const std::set<int> kAccepted = {7,   29,  50,  117, 139, 161, 182, 249, 305, 411, 425,
                                 438, 465, 473, 481, 489, 497, 511, 525, 538, 565, 573,
                                 581, 589, 597, 611, 625, 638, 665, 673, 681, 689, 697,
                                 711, 725, 738, 765, 773, 781, 789, 797, 832, 899};

nlohmann::json LoadCases() {
  std::ifstream in(std::filesystem::path(CUSTOS_SHARED_DIR) /
                   "vectors/ed25519-cctv/ed25519vectors.json");
  return nlohmann::json::parse(in);
}

TEST(Ed25519Cctv, VerdictsArePinnedForAll914Cases) {
  nlohmann::json cases = LoadCases();
  ASSERT_EQ(cases.size(), 914u);
  int accepted = 0;
  for (const auto& c : cases) {
    int number = c.at("number").get<int>();
    auto key_bytes = common::HexDecode(c.at("key").get<std::string>());
    auto sig = common::HexDecode(c.at("sig").get<std::string>());
    ASSERT_TRUE(key_bytes.ok() && sig.ok()) << "case " << number;
    // FromBytes takes any 32 bytes (no point validation), so every case reaches Verify.
    Result<Ed25519PublicKey> key = Ed25519PublicKey::FromBytes(*key_bytes);
    ASSERT_TRUE(key.ok()) << "case " << number << ": " << key.status().ToString();
    bool ok = key->Verify(common::AsBytes(c.at("msg").get<std::string>()), *sig);
    EXPECT_EQ(ok, kAccepted.count(number) == 1) << "case " << number << " flags " << c.at("flags");
    accepted += ok;
  }
  EXPECT_EQ(accepted, 43);
}

// The pinned list follows one rule, which documents what our verifier does: it accepts a
// signature only if neither A nor R is low order or non-canonically encoded and the
// low-order components do not leave a residue (cofactorless equation). Points that merely
// have a low-order component are accepted, as no blocklist can catch them.
TEST(Ed25519Cctv, AcceptedExactlyWhenOnlyLowOrderComponentFlagsAreSet) {
  const std::set<std::string> kHarmless = {"low_order_component_A", "low_order_component_R"};
  for (const auto& c : LoadCases()) {
    std::vector<std::string> flags;
    if (!c.at("flags").is_null()) flags = c.at("flags").get<std::vector<std::string>>();
    bool harmless = std::all_of(flags.begin(), flags.end(),
                                [&](const std::string& f) { return kHarmless.count(f) == 1; });
    EXPECT_EQ(harmless, kAccepted.count(c.at("number").get<int>()) == 1)
        << "case " << c.at("number");
  }
}

TEST(Ed25519Cctv, WrongLengthSignaturesAreRejected) {
  nlohmann::json cases = LoadCases();
  const auto& c = cases.at(*kAccepted.begin());
  auto key = Ed25519PublicKey::FromBytes(*common::HexDecode(c.at("key").get<std::string>()));
  auto sig = *common::HexDecode(c.at("sig").get<std::string>());
  auto msg = common::AsBytes(c.at("msg").get<std::string>());
  ASSERT_TRUE(key->Verify(msg, sig));
  EXPECT_FALSE(key->Verify(msg, common::ByteView(sig).first(63)));
  sig.push_back(0);
  EXPECT_FALSE(key->Verify(msg, sig));
}

}  // namespace
}  // namespace custos::crypto
