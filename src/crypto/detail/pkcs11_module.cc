// Loading, initializing and logging in to PKCS#11 modules, with the per-process bookkeeping
// that the standard's process-wide state requires (see pkcs11_module.h).
#include "crypto/detail/pkcs11_module.h"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "crypto/detail/pkcs11_rv.h"
#include "crypto/random.h"

namespace custos::crypto::detail {
namespace {

// Every module this process has loaded, by canonical file path, with how many Load() results
// are alive. Entries are created, counted down and destroyed (C_Finalize) under `mu`, so a Load
// racing with the last release either joins the old instance or starts after its C_Finalize.
struct ModuleRegistry {
  struct Entry {
    std::unique_ptr<Pkcs11Module> module;
    size_t users = 0;
  };
  std::mutex mu;
  std::map<std::string, Entry> entries;
};

ModuleRegistry& Registry() {
  // Never destroyed, so that a backend released during static destruction still finds it.
  static ModuleRegistry& registry = *new ModuleRegistry();
  return registry;
}

bool LooksLikeSoftHsm(std::string_view path) {
  return path.find("softhsm") != std::string_view::npos;
}

std::string TrimPadded(const unsigned char* text, size_t size) {
  std::string out(reinterpret_cast<const char*>(text), size);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\0')) out.pop_back();
  return out;
}

constexpr size_t kPinMacKeySize = 32;

}  // namespace

Result<std::shared_ptr<Pkcs11Module>> Pkcs11Module::Load(const std::string& path) {
  if (path.empty()) {
    return InvalidArgumentError(
        "PKCS#11 module path is empty: pass --pkcs11-module (SoftHSM2 on Debian: "
        "/usr/lib/softhsm/libsofthsm2.so)");
  }
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) {
    return NotFoundError("PKCS#11 module not found at " + path +
                         ": install softhsm2 or pass --pkcs11-module");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return InvalidArgumentError("PKCS#11 module path " + path +
                                " is not a regular file: pass the module's .so file");
  }
  std::string canonical = std::filesystem::canonical(path, ec).string();
  if (ec) canonical = path;

  ModuleRegistry& registry = Registry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto it = registry.entries.find(canonical);
  if (it == registry.entries.end()) {
    void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      return InvalidArgumentError("cannot load PKCS#11 module " + path + ": " +
                                  (why != nullptr ? why : "dlopen failed") +
                                  " (pass the path of a PKCS#11 shared library built for this "
                                  "machine, e.g. /usr/lib/softhsm/libsofthsm2.so)");
    }
    auto get_function_list =
        reinterpret_cast<CK_C_GetFunctionList>(dlsym(handle, "C_GetFunctionList"));
    if (get_function_list == nullptr) {
      dlclose(handle);
      return InvalidArgumentError(path +
                                  " is not a PKCS#11 module: it exports no C_GetFunctionList "
                                  "(pass the token vendor's PKCS#11 library)");
    }
    CK_FUNCTION_LIST* api = nullptr;
    CK_RV rv = get_function_list(&api);
    if (rv != CKR_OK || api == nullptr) {
      dlclose(handle);
      return InvalidArgumentError(path + " is not a usable PKCS#11 module: C_GetFunctionList " +
                                  (rv != CKR_OK ? "returned " + DescribePkcs11Rv(rv)
                                                : std::string("gave no function list")));
    }
    CK_C_INITIALIZE_ARGS args;
    std::memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK;
    rv = api->C_Initialize(&args);
    bool owns_initialize = true;
    if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
      // Initialized by code outside this registry (another library in the process); it owns
      // C_Finalize, so this instance must not call it.
      owns_initialize = false;
    } else if (rv != CKR_OK) {
      dlclose(handle);
      std::string hint = LooksLikeSoftHsm(path)
                             ? " (SoftHSM2: check that SOFTHSM2_CONF names a readable "
                               "configuration whose tokendir exists; scripts/softhsm-setup.sh "
                               "writes one)"
                             : " (check the module's configuration and that the token is "
                               "connected)";
      return FailedPreconditionError("C_Initialize of PKCS#11 module " + path +
                                     " failed: " + DescribePkcs11Rv(rv) + hint);
    }
    ModuleRegistry::Entry entry;
    entry.module.reset(new Pkcs11Module(path, handle, api, owns_initialize));
    it = registry.entries.emplace(canonical, std::move(entry)).first;
  }
  ++it->second.users;
  // Each Load() result has its own control block whose deleter gives the reference back;
  // copies of it share that block, so the count is per Load() call.
  return std::shared_ptr<Pkcs11Module>(it->second.module.get(), [canonical](Pkcs11Module*) {
    ModuleRegistry& registry = Registry();
    std::lock_guard<std::mutex> lock(registry.mu);
    auto found = registry.entries.find(canonical);
    if (found != registry.entries.end() && --found->second.users == 0) {
      registry.entries.erase(found);  // ~Pkcs11Module: C_Finalize and dlclose, under the lock
    }
  });
}

Pkcs11Module::Pkcs11Module(std::string path, void* handle, CK_FUNCTION_LIST* api,
                           bool owns_initialize)
    : path_(std::move(path)), handle_(handle), api_(api), owns_initialize_(owns_initialize) {}

Pkcs11Module::~Pkcs11Module() {
  if (owns_initialize_) api_->C_Finalize(nullptr);
  dlclose(handle_);
}

Result<std::vector<Pkcs11Module::Token>> Pkcs11Module::ListTokens() const {
  std::vector<CK_SLOT_ID> slots;
  CK_RV rv = CKR_BUFFER_TOO_SMALL;
  // The slot count can grow between the two calls (a token plugged in); retry a few times.
  for (int attempt = 0; attempt < 4 && rv == CKR_BUFFER_TOO_SMALL; ++attempt) {
    CK_ULONG count = 0;
    rv = api_->C_GetSlotList(CK_TRUE, nullptr, &count);
    if (rv != CKR_OK) break;
    slots.resize(count);
    rv = api_->C_GetSlotList(CK_TRUE, slots.data(), &count);
    if (rv == CKR_OK) slots.resize(count);
  }
  if (rv != CKR_OK) {
    return Pkcs11Status(rv, "C_GetSlotList on PKCS#11 module " + path_);
  }
  std::vector<Token> tokens;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info;
    std::memset(&info, 0, sizeof info);
    rv = api_->C_GetTokenInfo(slot, &info);
    if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_TOKEN_NOT_RECOGNIZED) continue;
    if (rv != CKR_OK) {
      return Pkcs11Status(
          rv, "C_GetTokenInfo(slot " + std::to_string(slot) + ") on PKCS#11 module " + path_);
    }
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    tokens.push_back(Token{slot, TrimPadded(info.label, sizeof info.label), info.flags});
  }
  return tokens;
}

Result<std::shared_ptr<Pkcs11TokenLogin>> Pkcs11Module::Login(
    const std::shared_ptr<Pkcs11Module>& module, const Token& token, const SecretBytes& pin) {
  InitCrypto();  // the PIN check below draws a random MAC key
  const std::string quoted = "'" + token.label + "'";
  std::lock_guard<std::mutex> lock(module->login_mu_);
  auto it = module->logins_.find(token.slot);
  if (it != module->logins_.end()) {
    // The token is already logged in for this process; C_Login would not check the PIN.
    if (!it->second.login->PinMatches(pin)) {
      return UnauthenticatedError("wrong PIN for token " + quoted);
    }
  } else {
    if ((token.flags & CKF_USER_PIN_LOCKED) != 0) {
      return FailedPreconditionError(
          "the user PIN of token " + quoted +
          " is locked after too many wrong attempts: reset it with the security officer PIN "
          "(C_InitPIN, e.g. pkcs11-tool --login --login-type so --init-pin)");
    }
    if ((token.flags & CKF_USER_PIN_INITIALIZED) == 0) {
      return FailedPreconditionError("token " + quoted +
                                     " has no user PIN yet: set one (C_InitPIN; "
                                     "scripts/softhsm-setup.sh does it for SoftHSM2)");
    }
    CK_FUNCTION_LIST* api = module->api_;
    CK_SESSION_HANDLE anchor = CK_INVALID_HANDLE;
    CK_RV rv = api->C_OpenSession(token.slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr,
                                  &anchor);
    if (rv != CKR_OK) {
      return Pkcs11Status(rv, "C_OpenSession on token " + quoted);
    }
    // PKCS#11 takes a non-const pointer but only reads the PIN.
    auto* pin_chars = const_cast<CK_UTF8CHAR*>(pin.span().data());
    rv = api->C_Login(anchor, CKU_USER, pin_chars, pin.size());
    if (rv == CKR_USER_ALREADY_LOGGED_IN) {
      // Logged in by code outside this registry: log out and in again so that the PIN is
      // really checked rather than taken on trust.
      api->C_Logout(anchor);
      rv = api->C_Login(anchor, CKU_USER, pin_chars, pin.size());
    }
    if (rv != CKR_OK) {
      api->C_CloseSession(anchor);
      switch (rv) {
        case CKR_PIN_INCORRECT:
        case CKR_PIN_INVALID:
        case CKR_PIN_LEN_RANGE:
          return UnauthenticatedError("wrong PIN for token " + quoted);
        case CKR_PIN_LOCKED:
          return FailedPreconditionError(
              "the user PIN of token " + quoted +
              " is locked after too many wrong attempts: reset it with the security officer "
              "PIN (C_InitPIN, e.g. pkcs11-tool --login --login-type so --init-pin)");
        case CKR_PIN_EXPIRED:
          return FailedPreconditionError("the user PIN of token " + quoted +
                                         " has expired: set a new one with the token's tools");
        case CKR_USER_PIN_NOT_INITIALIZED:
          return FailedPreconditionError("token " + quoted +
                                         " has no user PIN yet: set one (C_InitPIN; "
                                         "scripts/softhsm-setup.sh does it for SoftHSM2)");
        case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
          return FailedPreconditionError(
              "the security officer is logged in to token " + quoted +
              " in this process: log it out before opening the KEK backend");
        default:
          return Pkcs11Status(rv, "C_Login to token " + quoted);
      }
    }
    LoginEntry entry;
    entry.login.reset(new Pkcs11TokenLogin(api, token.slot, token.label, anchor, pin));
    it = module->logins_.emplace(token.slot, std::move(entry)).first;
  }
  ++it->second.users;
  const CK_SLOT_ID slot = token.slot;
  return std::shared_ptr<Pkcs11TokenLogin>(
      it->second.login.get(), [module, slot](Pkcs11TokenLogin*) { module->ReleaseLogin(slot); });
}

void Pkcs11Module::ReleaseLogin(CK_SLOT_ID slot) {
  std::lock_guard<std::mutex> lock(login_mu_);
  auto it = logins_.find(slot);
  if (it != logins_.end() && --it->second.users == 0) {
    logins_.erase(it);  // ~Pkcs11TokenLogin: C_Logout, under the lock
  }
}

Pkcs11TokenLogin::Pkcs11TokenLogin(CK_FUNCTION_LIST* api, CK_SLOT_ID slot, std::string token_label,
                                   CK_SESSION_HANDLE anchor, const SecretBytes& pin)
    : api_(api),
      slot_(slot),
      token_label_(std::move(token_label)),
      anchor_(anchor),
      pin_mac_key_(SecretBytes::Random(kPinMacKeySize)) {
  pin_mac_ = HmacSha256(pin_mac_key_.span(), pin.span());
}

Pkcs11TokenLogin::~Pkcs11TokenLogin() {
  api_->C_Logout(anchor_);
  api_->C_CloseSession(anchor_);
  Zeroize(pin_mac_);
}

bool Pkcs11TokenLogin::PinMatches(const SecretBytes& pin) const {
  return HmacSha256Verify(pin_mac_key_.span(), pin.span(), pin_mac_);
}

}  // namespace custos::crypto::detail
