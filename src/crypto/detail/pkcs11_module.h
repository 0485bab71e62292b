// Pkcs11Module: a PKCS#11 module (shared library) loaded with dlopen and initialized once per
// process, plus the per-token user login that all of the process' sessions share.
//
// PKCS#11 keeps its state per process, not per caller: C_Initialize/C_Finalize act on the whole
// library, and a C_Login (or C_Logout, or closing the last session) changes the login state of
// every session the process has on that token. Two backends that each initialized, logged in
// and finalized on their own would log each other out. So this file keeps one process-wide
// table of loaded modules (the only mutable global in crypto/, forced by the standard) and
// reference-counts both the module and each token login.
//
// Thread-safety: every member function is safe for concurrent use; the module is initialized
// with CKF_OS_LOCKING_OK so the library itself may be called from any thread. Sessions are not
// covered: a CK_SESSION_HANDLE must be used by one thread at a time.
#pragma once

#include <p11-kit/pkcs11.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/hash.h"
#include "crypto/secret.h"

namespace custos::crypto::detail {

class Pkcs11TokenLogin;

class Pkcs11Module {
 public:
  // Loads and initializes the module at `path`, or returns the instance this process already
  // has for that file. Errors: NotFound when the file is missing, InvalidArgument when it is not
  // a loadable PKCS#11 module, FailedPrecondition when C_Initialize fails.
  static Result<std::shared_ptr<Pkcs11Module>> Load(const std::string& path);

  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;
  ~Pkcs11Module();  // C_Finalize (when this process initialized it) and dlclose

  const std::string& path() const { return path_; }
  CK_FUNCTION_LIST* api() const { return api_; }

  struct Token {
    CK_SLOT_ID slot = 0;
    std::string label;  // trailing space padding removed
    CK_FLAGS flags = 0;
  };
  // The initialized tokens present, in slot order (uninitialized slots are left out).
  Result<std::vector<Token>> ListTokens() const;

  // Logs the process in as the user of `token` of `module` with `pin`, or joins the login
  // another caller already holds (after checking that `pin` is the PIN that login used). The
  // login lasts while any returned reference lives (and keeps `module` loaded): it holds one
  // session open so that the token does not log the process out when the callers' own sessions
  // close. Errors: Unauthenticated for a wrong PIN, FailedPrecondition for a locked, expired or
  // unset PIN.
  static Result<std::shared_ptr<Pkcs11TokenLogin>> Login(
      const std::shared_ptr<Pkcs11Module>& module, const Token& token, const SecretBytes& pin);

 private:
  struct LoginEntry {
    std::unique_ptr<Pkcs11TokenLogin> login;
    size_t users = 0;
  };

  Pkcs11Module(std::string path, void* handle, CK_FUNCTION_LIST* api, bool owns_initialize);
  // Drops one user of the login on `slot`; the last one logs out, under login_mu_ so that a
  // concurrent Login never sees a half-finished logout.
  void ReleaseLogin(CK_SLOT_ID slot);

  const std::string path_;
  void* const handle_;  // from dlopen
  CK_FUNCTION_LIST* const api_;
  const bool owns_initialize_;  // false when something else in the process initialized it

  std::mutex login_mu_;
  std::map<CK_SLOT_ID, LoginEntry> logins_;  // guarded by login_mu_
};

// One user login on one token, shared by every caller in the process (see Login above).
// Thread-safety: immutable after construction.
class Pkcs11TokenLogin {
 public:
  Pkcs11TokenLogin(const Pkcs11TokenLogin&) = delete;
  Pkcs11TokenLogin& operator=(const Pkcs11TokenLogin&) = delete;
  ~Pkcs11TokenLogin();  // C_Logout and close the anchor session

  CK_SLOT_ID slot() const { return slot_; }
  const std::string& token_label() const { return token_label_; }

 private:
  friend class Pkcs11Module;
  Pkcs11TokenLogin(CK_FUNCTION_LIST* api, CK_SLOT_ID slot, std::string token_label,
                   CK_SESSION_HANDLE anchor, const SecretBytes& pin);
  bool PinMatches(const SecretBytes& pin) const;

  CK_FUNCTION_LIST* const api_;
  const CK_SLOT_ID slot_;
  const std::string token_label_;
  const CK_SESSION_HANDLE anchor_;
  // A keyed digest of the PIN, so that a second caller's PIN can be checked without a second
  // C_Login (which the token would answer with CKR_USER_ALREADY_LOGGED_IN) and without keeping
  // the PIN itself in memory.
  SecretBytes pin_mac_key_;
  Digest pin_mac_{};
};

}  // namespace custos::crypto::detail
