// Pkcs11KekBackend against a throwaway SoftHSM2 token made by scripts/softhsm-setup.sh: wrap and
// unwrap in the token, tampering, the key's non-extractability, login errors, persistence
// across instances, destruction and concurrency.
#include "crypto/pkcs11_kek_backend.h"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "crypto/detail/pkcs11_rv.h"

namespace custos::crypto {
namespace {

constexpr char kSoftHsmModule[] = "/usr/lib/softhsm/libsofthsm2.so";
constexpr char kTokenLabel[] = "custos-test";
constexpr char kOtherTokenLabel[] = "custos-other";
// Not the script's defaults, so the tests also check that it honours the environment.
constexpr char kUserPin[] = "custos-user-2468";
constexpr char kSoPin[] = "custos-so-13579";

SecretBytes Pin(std::string_view pin) { return SecretBytes::CopyOf(common::AsBytes(pin)); }

SecretBytes Dek(uint8_t seed) {
  SecretBytes dek(32);
  for (size_t i = 0; i < dek.size(); ++i) dek.span()[i] = static_cast<uint8_t>(seed + i * 7);
  return dek;
}

std::vector<uint8_t> Copy(const SecretBytes& s) { return {s.span().begin(), s.span().end()}; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class Pkcs11KekBackendTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setup_error_.clear();
    const char* previous = getenv("SOFTHSM2_CONF");
    previous_conf_ = previous != nullptr ? std::optional<std::string>(previous) : std::nullopt;
    if (!std::filesystem::exists(kSoftHsmModule)) {
      setup_error_ = std::string("SoftHSM2 is not installed (no ") + kSoftHsmModule +
                     "): run scripts/install-deps.sh";
      return;
    }
    char dir_template[] = "/tmp/custos-pkcs11-test-XXXXXX";
    if (mkdtemp(dir_template) == nullptr) {
      setup_error_ = "mkdtemp failed for the SoftHSM2 token directory";
      return;
    }
    dir_ = std::filesystem::canonical(dir_template).string();
    setenv("CUSTOS_SOFTHSM_PIN", kUserPin, 1);
    setenv("CUSTOS_SOFTHSM_SO_PIN", kSoPin, 1);
    const std::string log = dir_ + "/setup.log";
    const std::string command =
        std::string(CUSTOS_SOURCE_DIR) + "/scripts/softhsm-setup.sh '" + dir_ + "' 2>'" + log + "'";
    // Twice: the script must be idempotent and print the same line both times.
    for (int run = 0; run < 2; ++run) {
      FILE* pipe = popen(command.c_str(), "r");
      if (pipe == nullptr) {
        setup_error_ = "cannot run " + command;
        return;
      }
      std::string out;
      char buffer[512];
      while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
      const int status = pclose(pipe);
      if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        setup_error_ =
            "scripts/softhsm-setup.sh failed (run scripts/install-deps.sh to install "
            "softhsm2): ";
        setup_error_ += ReadFile(log);
        return;
      }
      script_output_[run] = out;
    }
    // A second token in the same folder, so that listing tokens has more than one to show.
    setenv("CUSTOS_SOFTHSM_LABEL", kOtherTokenLabel, 1);
    const int other = std::system((command + " >/dev/null").c_str());
    unsetenv("CUSTOS_SOFTHSM_LABEL");
    if (other != 0) {
      setup_error_ = "scripts/softhsm-setup.sh failed for a second token: " + ReadFile(log);
      return;
    }
    // The module reads SOFTHSM2_CONF when it is initialized, i.e. at the first Open.
    setenv("SOFTHSM2_CONF", (dir_ + "/softhsm2.conf").c_str(), 1);
  }

  static void TearDownTestSuite() {
    // Other suites in this binary must not inherit a configuration that is about to vanish.
    if (previous_conf_.has_value()) {
      setenv("SOFTHSM2_CONF", previous_conf_->c_str(), 1);
    } else {
      unsetenv("SOFTHSM2_CONF");
    }
    unsetenv("CUSTOS_SOFTHSM_PIN");
    unsetenv("CUSTOS_SOFTHSM_SO_PIN");
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  // Each test has its own label prefix, so KEKs of one test never meet another's.
  static Pkcs11Options Options(std::string_view pin = kUserPin) {
    Pkcs11Options options;
    options.module_path = kSoftHsmModule;
    options.token_label = kTokenLabel;
    options.pin = Pin(pin);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    options.key_label_prefix = std::string("custos-kek-") + info->name() + "-v";
    return options;
  }

  static std::unique_ptr<Pkcs11KekBackend> OpenOrDie(const Pkcs11Options& options) {
    auto backend = Pkcs11KekBackend::Open(options);
    EXPECT_TRUE(backend.ok()) << backend.status().ToString();
    if (!backend.ok()) return nullptr;
    return std::move(backend).value();
  }

  static inline std::string dir_;
  static inline std::string setup_error_;
  static inline std::string script_output_[2];
  static inline std::optional<std::string> previous_conf_;
};

const common::Bytes kAad = common::ToBytes("owner=fv:transactions@3|kek=1");

TEST_F(Pkcs11KekBackendTest, SetupScriptPrintsExportLineAndIsIdempotent) {
  EXPECT_EQ(script_output_[0], "export SOFTHSM2_CONF=" + dir_ + "/softhsm2.conf\n");
  EXPECT_EQ(script_output_[1], script_output_[0]);
  EXPECT_NE(ReadFile(dir_ + "/softhsm2.conf").find("directories.tokendir = " + dir_ + "/tokens"),
            std::string::npos);
}

TEST_F(Pkcs11KekBackendTest, CreateWrapUnwrapRoundTrip) {
  auto backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->Kind(), "pkcs11");
  EXPECT_EQ(backend->token_label(), kTokenLabel);
  ASSERT_TRUE(backend->CreateKek(1).ok());

  const SecretBytes dek = Dek(1);
  auto wrapped = backend->Wrap(1, dek, kAad);
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().ToString();
  ASSERT_EQ(wrapped->size(), 12u + 32u + 16u);
  // The DEK bytes do not appear in the output.
  EXPECT_EQ(std::search(wrapped->begin(), wrapped->end(), dek.span().begin(), dek.span().end()),
            wrapped->end());

  auto unwrapped = backend->Unwrap(1, *wrapped, kAad);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(Copy(*unwrapped), Copy(dek));

  // A fresh random IV each time: same DEK and AAD, different wrapped bytes and IV.
  auto again = backend->Wrap(1, dek, kAad);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *wrapped);
  EXPECT_FALSE(std::equal(again->begin(), again->begin() + 12, wrapped->begin()));

  // Empty AAD and odd DEK sizes work too.
  const SecretBytes odd = SecretBytes::CopyOf(common::AsBytes("seventeen bytes!!"));
  auto wrapped_odd = backend->Wrap(1, odd, {});
  ASSERT_TRUE(wrapped_odd.ok()) << wrapped_odd.status().ToString();
  EXPECT_EQ(wrapped_odd->size(), 12u + 17u + 16u);
  auto unwrapped_odd = backend->Unwrap(1, *wrapped_odd, {});
  ASSERT_TRUE(unwrapped_odd.ok()) << unwrapped_odd.status().ToString();
  EXPECT_EQ(Copy(*unwrapped_odd), Copy(odd));

  auto empty = backend->Wrap(1, SecretBytes(), kAad);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Pkcs11KekBackendTest, CreateExistingVersionIsAlreadyExists) {
  auto backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->CreateKek(1).ok());
  Status again = backend->CreateKek(1);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.message(),
            "KEK version 1 already exists in token 'custos-test' (secret key labelled '" +
                backend->KeyLabel(1) + "')");
  // A fresh instance (empty handle cache) finds it in the token as well.
  backend.reset();
  auto reopened = OpenOrDie(Options());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->CreateKek(1).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(reopened->CreateKek(2).ok());
}

TEST_F(Pkcs11KekBackendTest, AadMismatchIsDataLoss) {
  auto backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->CreateKek(1).ok());
  auto wrapped = backend->Wrap(1, Dek(2), kAad);
  ASSERT_TRUE(wrapped.ok());

  auto other_owner = backend->Unwrap(1, *wrapped, common::AsBytes("owner=fv:other@3|kek=1"));
  EXPECT_EQ(other_owner.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(other_owner.status().message().find("does not authenticate under KEK version 1 in "
                                                "token 'custos-test'"),
            std::string::npos)
      << other_owner.status().message();
  EXPECT_EQ(backend->Unwrap(1, *wrapped, {}).status().code(), StatusCode::kDataLoss);

  // Another KEK version, with the right AAD, does not open it either.
  ASSERT_TRUE(backend->CreateKek(2).ok());
  EXPECT_EQ(backend->Unwrap(2, *wrapped, kAad).status().code(), StatusCode::kDataLoss);
  // And the session pool is still healthy after the failures.
  EXPECT_TRUE(backend->Unwrap(1, *wrapped, kAad).ok());
}

TEST_F(Pkcs11KekBackendTest, TamperedWrappedBytesAreDataLoss) {
  auto backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->CreateKek(1).ok());
  auto wrapped = backend->Wrap(1, Dek(3), kAad);
  ASSERT_TRUE(wrapped.ok());

  // A flipped bit in the IV, the ciphertext and the tag.
  for (size_t position : {size_t{0}, size_t{11}, size_t{12}, size_t{30}, size_t{43}, size_t{44},
                          wrapped->size() - 1}) {
    common::Bytes tampered = *wrapped;
    tampered[position] ^= 0x01;
    auto result = backend->Unwrap(1, tampered, kAad);
    EXPECT_EQ(result.status().code(), StatusCode::kDataLoss) << "byte " << position;
  }
  // Truncated by one byte, cut to IV and tag only, appended to.
  common::Bytes shorter(wrapped->begin(), wrapped->end() - 1);
  EXPECT_EQ(backend->Unwrap(1, shorter, kAad).status().code(), StatusCode::kDataLoss);
  common::Bytes longer = *wrapped;
  longer.push_back(0);
  EXPECT_EQ(backend->Unwrap(1, longer, kAad).status().code(), StatusCode::kDataLoss);
  common::Bytes stub(wrapped->begin(), wrapped->begin() + 28);
  auto too_short = backend->Unwrap(1, stub, kAad);
  EXPECT_EQ(too_short.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(too_short.status().message(),
            "wrapped DEK under KEK version 1 is 28 bytes, not more than the 28 bytes of IV and "
            "tag: the stored record is truncated or corrupt");
  EXPECT_EQ(backend->Unwrap(1, {}, kAad).status().code(), StatusCode::kDataLoss);
}

TEST_F(Pkcs11KekBackendTest, KekIsSensitiveAndNeverLeavesTheToken) {
  auto backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->CreateKek(7).ok());
  auto info = backend->DescribeKek(7);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->label, backend->KeyLabel(7));
  EXPECT_EQ(info->label, "custos-kek-KekIsSensitiveAndNeverLeavesTheToken-v7");
  EXPECT_EQ(info->value_len, 32u);
  EXPECT_TRUE(info->token_object);
  EXPECT_TRUE(info->private_object);
  EXPECT_TRUE(info->sensitive);
  EXPECT_FALSE(info->extractable);
  EXPECT_TRUE(info->always_sensitive);
  EXPECT_TRUE(info->never_extractable);
  // The token refuses to hand out CKA_VALUE.
  EXPECT_EQ(info->value_read_result, "CKR_ATTRIBUTE_SENSITIVE");

  // The refused read did not disturb the key or the session it ran on.
  EXPECT_TRUE(backend->Wrap(7, Dek(4), kAad).ok());
  EXPECT_EQ(backend->DescribeKek(8).status().code(), StatusCode::kNotFound);
}

TEST_F(Pkcs11KekBackendTest, WrongPinIsUnauthenticated) {
  {
    auto wrong = Pkcs11KekBackend::Open(Options("0000"));
    EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(wrong.status().message(), "wrong PIN for token 'custos-test'");
  }
  // While another instance holds the process' login, the PIN is still checked.
  auto good = OpenOrDie(Options());
  ASSERT_NE(good, nullptr);
  auto wrong = Pkcs11KekBackend::Open(Options("custos-user-2469"));
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), "wrong PIN for token 'custos-test'");
  // The failed attempt did not log the good instance out.
  ASSERT_TRUE(good->CreateKek(1).ok());
  EXPECT_TRUE(good->Wrap(1, Dek(5), kAad).ok());
  // And the right PIN still joins.
  auto second = OpenOrDie(Options());
  EXPECT_NE(second, nullptr);
}

TEST_F(Pkcs11KekBackendTest, MissingModuleIsClearError) {
  Pkcs11Options options = Options();
  options.module_path = dir_ + "/no-such-module.so";
  auto backend = Pkcs11KekBackend::Open(options);
  EXPECT_EQ(backend.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend.status().message(), "PKCS#11 module not found at " + dir_ +
                                            "/no-such-module.so: install softhsm2 or pass "
                                            "--pkcs11-module");

  options.module_path = "";
  EXPECT_EQ(Pkcs11KekBackend::Open(options).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Pkcs11KekBackendTest, FileThatIsNotAModuleIsClearError) {
  Pkcs11Options options = Options();
  options.module_path = dir_ + "/softhsm2.conf";  // a text file
  auto text = Pkcs11KekBackend::Open(options);
  EXPECT_EQ(text.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      text.status().message().rfind("cannot load PKCS#11 module " + dir_ + "/softhsm2.conf: ", 0),
      0u)
      << text.status().message();

  // A real shared library that is not a PKCS#11 module: libsodium, found through one of its
  // symbols.
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&sodium_init), &info), 0);
  ASSERT_NE(info.dli_fname, nullptr);
  options.module_path = info.dli_fname;
  auto library = Pkcs11KekBackend::Open(options);
  EXPECT_EQ(library.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(library.status().message(),
            options.module_path +
                " is not a PKCS#11 module: it exports no C_GetFunctionList (pass the token "
                "vendor's PKCS#11 library)");
}

TEST_F(Pkcs11KekBackendTest, ModuleThatFailsToInitializeIsClearError) {
  // No backend is open, so the module is initialized afresh and reads this configuration.
  const std::string conf = dir_ + "/softhsm2.conf";
  setenv("SOFTHSM2_CONF", (dir_ + "/missing.conf").c_str(), 1);
  auto backend = Pkcs11KekBackend::Open(Options());
  setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  EXPECT_EQ(backend.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(backend.status().message(),
            "C_Initialize of PKCS#11 module /usr/lib/softhsm/libsofthsm2.so failed: "
            "CKR_GENERAL_ERROR (0x5) (SoftHSM2: check that SOFTHSM2_CONF names a readable "
            "configuration whose tokendir exists; scripts/softhsm-setup.sh writes one)");
  // The failed attempt left nothing behind: with the right configuration it opens.
  EXPECT_NE(OpenOrDie(Options()), nullptr);
}

TEST_F(Pkcs11KekBackendTest, UnknownTokenLabelListsTokens) {
  Pkcs11Options options = Options();
  options.token_label = "no-such-token";
  auto backend = Pkcs11KekBackend::Open(options);
  EXPECT_EQ(backend.status().code(), StatusCode::kNotFound);
  // Tokens are listed in slot order, and SoftHSM2 derives slot ids from random serials.
  const std::string head =
      "no PKCS#11 token labelled 'no-such-token' in module /usr/lib/softhsm/libsofthsm2.so; "
      "tokens present: ";
  const std::string tail =
      " (initialize one with scripts/softhsm-setup.sh or softhsm2-util --init-token)";
  EXPECT_THAT(backend.status().message(),
              ::testing::AnyOf(head + "'custos-test', 'custos-other'" + tail,
                               head + "'custos-other', 'custos-test'" + tail));
}

TEST_F(Pkcs11KekBackendTest, InvalidOptionsAreRejected) {
  Pkcs11Options no_label = Options();
  no_label.token_label = "";
  EXPECT_EQ(Pkcs11KekBackend::Open(no_label).status().code(), StatusCode::kInvalidArgument);

  Pkcs11Options long_label = Options();
  long_label.token_label = std::string(33, 'x');
  EXPECT_EQ(Pkcs11KekBackend::Open(long_label).status().code(), StatusCode::kInvalidArgument);

  Pkcs11Options no_pin = Options();
  no_pin.pin = SecretBytes();
  auto empty_pin = Pkcs11KekBackend::Open(no_pin);
  EXPECT_EQ(empty_pin.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty_pin.status().message(),
            "PIN for token 'custos-test' is empty: pass the token's user PIN");

  Pkcs11Options no_sessions = Options();
  no_sessions.max_sessions = 0;
  EXPECT_EQ(Pkcs11KekBackend::Open(no_sessions).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Pkcs11KekBackendTest, DestroyedKekIsNotFound) {
  auto backend = OpenOrDie(Options());
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->CreateKek(3).ok());
  auto wrapped = backend->Wrap(3, Dek(6), kAad);
  ASSERT_TRUE(wrapped.ok());

  ASSERT_TRUE(backend->DestroyKek(3).ok());
  auto unwrapped = backend->Unwrap(3, *wrapped, kAad);
  EXPECT_EQ(unwrapped.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(unwrapped.status().message(),
            "KEK version 3 not found in token 'custos-test' (no secret key labelled '" +
                backend->KeyLabel(3) + "'): it was destroyed or never created");
  EXPECT_EQ(backend->Wrap(3, Dek(6), kAad).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(backend->DestroyKek(3).code(), StatusCode::kNotFound);
  EXPECT_EQ(backend->Unwrap(9, *wrapped, kAad).status().code(), StatusCode::kNotFound);

  // Shredding is final: a new key under the same label does not open the old wrapped DEK.
  ASSERT_TRUE(backend->CreateKek(3).ok());
  EXPECT_EQ(backend->Unwrap(3, *wrapped, kAad).status().code(), StatusCode::kDataLoss);

  // A destroy through one instance is seen by another whose handle cache is stale.
  auto other = OpenOrDie(Options());
  ASSERT_NE(other, nullptr);
  auto wrapped_new = other->Wrap(3, Dek(7), kAad);  // caches the handle in `other`
  ASSERT_TRUE(wrapped_new.ok());
  ASSERT_TRUE(backend->DestroyKek(3).ok());
  EXPECT_EQ(other->Unwrap(3, *wrapped_new, kAad).status().code(), StatusCode::kNotFound);
}

TEST_F(Pkcs11KekBackendTest, ReopenedBackendUnwrapsWhatTheFirstWrapped) {
  common::Bytes wrapped;
  {
    auto first = OpenOrDie(Options());
    ASSERT_NE(first, nullptr);
    ASSERT_TRUE(first->CreateKek(1).ok());
    auto result = first->Wrap(1, Dek(8), kAad);
    ASSERT_TRUE(result.ok());
    wrapped = *result;
  }  // last user: sessions closed, logged out, module finalized and unloaded

  auto second = OpenOrDie(Options());
  ASSERT_NE(second, nullptr);
  auto unwrapped = second->Unwrap(1, wrapped, kAad);
  ASSERT_TRUE(unwrapped.ok()) << unwrapped.status().ToString();
  EXPECT_EQ(Copy(*unwrapped), Copy(Dek(8)));

  // Two instances at once share the module and login; closing one leaves the other working.
  auto third = OpenOrDie(Options());
  ASSERT_NE(third, nullptr);
  auto by_third = third->Wrap(1, Dek(9), kAad);
  ASSERT_TRUE(by_third.ok());
  second.reset();
  auto unwrapped_third = third->Unwrap(1, *by_third, kAad);
  ASSERT_TRUE(unwrapped_third.ok()) << unwrapped_third.status().ToString();
  EXPECT_EQ(Copy(*unwrapped_third), Copy(Dek(9)));
}

TEST_F(Pkcs11KekBackendTest, LabelPrefixesKeepKeySetsApart) {
  auto a = OpenOrDie(Options());
  ASSERT_NE(a, nullptr);
  Pkcs11Options other_prefix = Options();
  other_prefix.key_label_prefix = "custos-kek-LabelPrefixesKeepKeySetsApart-other-v";
  auto b = OpenOrDie(other_prefix);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->CreateKek(1).ok());
  EXPECT_EQ(b->Wrap(1, Dek(10), kAad).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(b->CreateKek(1).ok());
  auto wrapped = a->Wrap(1, Dek(10), kAad);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(b->Unwrap(1, *wrapped, kAad).status().code(), StatusCode::kDataLoss);
}

TEST_F(Pkcs11KekBackendTest, ConcurrentWrapsFromFourThreads) {
  Pkcs11Options options = Options();
  options.max_sessions = 2;  // fewer sessions than threads: callers must wait their turn
  auto backend = OpenOrDie(options);
  ASSERT_NE(backend, nullptr);
  ASSERT_TRUE(backend->CreateKek(1).ok());

  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::atomic<int> round_trips{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const SecretBytes dek = Dek(static_cast<uint8_t>(t * 31 + i));
        const std::string aad = "owner=" + std::to_string(t) + "/" + std::to_string(i);
        auto wrapped = backend->Wrap(1, dek, common::AsBytes(aad));
        if (!wrapped.ok()) {
          ++failures;
          continue;
        }
        auto unwrapped = backend->Unwrap(1, *wrapped, common::AsBytes(aad));
        if (unwrapped.ok() && Copy(*unwrapped) == Copy(dek)) {
          ++round_trips;
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(round_trips.load(), kThreads * kPerThread);
}

TEST(Pkcs11RvTest, NamesEveryCodeReadably) {
  using detail::DescribePkcs11Rv;
  using detail::Pkcs11RvName;
  EXPECT_EQ(Pkcs11RvName(0x0), "CKR_OK");
  EXPECT_EQ(Pkcs11RvName(0xa0), "CKR_PIN_INCORRECT");
  EXPECT_EQ(Pkcs11RvName(0xa4), "CKR_PIN_LOCKED");
  EXPECT_EQ(Pkcs11RvName(0x40), "CKR_ENCRYPTED_DATA_INVALID");
  EXPECT_EQ(Pkcs11RvName(0x35), "CKR_AEAD_DECRYPT_FAILED");
  EXPECT_EQ(Pkcs11RvName(0x200), "CKR_FUNCTION_REJECTED");
  EXPECT_EQ(Pkcs11RvName(0x80000123UL), "CKR_VENDOR_DEFINED");
  EXPECT_EQ(Pkcs11RvName(0x7777), "CKR_UNKNOWN");
  EXPECT_EQ(DescribePkcs11Rv(0x5), "CKR_GENERAL_ERROR (0x5)");
  EXPECT_EQ(DescribePkcs11Rv(0x1a0), "CKR_MUTEX_BAD (0x1a0)");
}

TEST(Pkcs11RvTest, StatusCodesSayWhatTheCallerCanDo) {
  using detail::Pkcs11Status;
  const Status removed = Pkcs11Status(0x32, "C_Encrypt on token 'hsm'");
  EXPECT_EQ(removed.code(), StatusCode::kUnavailable);
  EXPECT_EQ(removed.message(), "C_Encrypt on token 'hsm': CKR_DEVICE_REMOVED (0x32)");
  EXPECT_EQ(Pkcs11Status(0x70, "x").code(), StatusCode::kFailedPrecondition);   // MECHANISM_INVALID
  EXPECT_EQ(Pkcs11Status(0x101, "x").code(), StatusCode::kFailedPrecondition);  // NOT_LOGGED_IN
  EXPECT_EQ(Pkcs11Status(0x7, "x").code(), StatusCode::kInternal);              // ARGUMENTS_BAD
}

}  // namespace
}  // namespace custos::crypto
