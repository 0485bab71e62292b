// Pkcs11KekBackend: KEK generation, AES-GCM wrap/unwrap and destruction inside a PKCS#11
// token, over a small pool of sessions (a session serves one operation at a time).
#include "crypto/pkcs11_kek_backend.h"

#include <p11-kit/pkcs11.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "crypto/detail/pkcs11_module.h"
#include "crypto/detail/pkcs11_rv.h"
#include "crypto/random.h"

namespace custos::crypto {
namespace {

using detail::Pkcs11RvName;
using detail::Pkcs11Status;

constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;
constexpr CK_ULONG kKekSize = 32;             // AES-256
constexpr size_t kMaxTokenLabel = 32;         // CK_TOKEN_INFO.label
constexpr CK_RV kAeadDecryptFailed = 0x35UL;  // CKR_AEAD_DECRYPT_FAILED (PKCS#11 3.0)

// Return values with which a token reports that GCM input did not authenticate.
// (PKCS#11 leaves the code to the token: v2.40 tokens use CKR_ENCRYPTED_DATA_INVALID, v3.0
// added CKR_AEAD_DECRYPT_FAILED, and SoftHSM2 2.6 says CKR_GENERAL_ERROR; see
// IsAmbiguousDecryptFailure.)
bool IsAuthenticationFailure(CK_RV rv) {
  return rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
         rv == kAeadDecryptFailed;
}

// Codes that some tokens (SoftHSM2 among them) return both for a failed GCM tag check and for
// a real malfunction. Unwrap tells the two apart with a probe round trip under the same key.
bool IsAmbiguousDecryptFailure(CK_RV rv) {
  return rv == CKR_GENERAL_ERROR || rv == CKR_FUNCTION_FAILED;
}

bool IsStaleHandle(CK_RV rv) {
  return rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID;
}

// After these the session is known to be idle and healthy, so it may serve the next call.
// Anything else (CKR_BUFFER_TOO_SMALL leaves the operation active, a device error may leave
// the session dead) retires the session instead.
bool SessionStillUsable(CK_RV rv) {
  return rv == CKR_OK || IsAuthenticationFailure(rv) || IsStaleHandle(rv) ||
         rv == CKR_ATTRIBUTE_SENSITIVE;
}

// Sessions opened on demand up to a limit; callers beyond it wait for one to come back.
// Thread-safety: safe for concurrent use.
class SessionPool {
 public:
  SessionPool(CK_FUNCTION_LIST* api, CK_SLOT_ID slot, size_t max_sessions, std::string token_label)
      : api_(api), slot_(slot), max_sessions_(max_sessions), token_label_(std::move(token_label)) {}

  // Every lease must have been returned by now (the backend's calls have all finished).
  ~SessionPool() {
    for (CK_SESSION_HANDLE session : idle_) api_->C_CloseSession(session);
  }

  Result<CK_SESSION_HANDLE> Acquire() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !idle_.empty() || open_ < max_sessions_; });
      if (!idle_.empty()) {
        CK_SESSION_HANDLE session = idle_.back();
        idle_.pop_back();
        return session;
      }
      ++open_;  // reserve the slot; open outside the lock, the token may be slow
    }
    CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    CK_RV rv =
        api_->C_OpenSession(slot_, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session);
    if (rv != CKR_OK) {
      std::lock_guard<std::mutex> lock(mu_);
      --open_;
      cv_.notify_one();
      return Pkcs11Status(rv, "C_OpenSession on token '" + token_label_ + "'");
    }
    return session;
  }

  void Release(CK_SESSION_HANDLE session, bool usable) {
    if (!usable) api_->C_CloseSession(session);
    std::lock_guard<std::mutex> lock(mu_);
    if (usable) {
      idle_.push_back(session);
    } else {
      --open_;
    }
    cv_.notify_one();
  }

 private:
  CK_FUNCTION_LIST* const api_;
  const CK_SLOT_ID slot_;
  const size_t max_sessions_;
  const std::string token_label_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CK_SESSION_HANDLE> idle_;  // guarded by mu_
  size_t open_ = 0;                      // guarded by mu_; idle plus lent out
};

// A session borrowed for one call; goes back to the pool (or is closed) when it ends.
class SessionLease {
 public:
  SessionLease(SessionPool& pool, CK_SESSION_HANDLE session) : pool_(pool), session_(session) {}
  ~SessionLease() { pool_.Release(session_, usable_); }
  SessionLease(const SessionLease&) = delete;
  SessionLease& operator=(const SessionLease&) = delete;

  CK_SESSION_HANDLE get() const { return session_; }
  // Records the outcome of a call on the session; an unexpected one retires it.
  CK_RV Track(CK_RV rv) {
    if (!SessionStillUsable(rv)) usable_ = false;
    return rv;
  }
  // After a later call proved the session healthy despite an earlier ambiguous code.
  void MarkUsable() { usable_ = true; }

 private:
  SessionPool& pool_;
  const CK_SESSION_HANDLE session_;
  bool usable_ = true;
};

CK_ATTRIBUTE Attribute(CK_ATTRIBUTE_TYPE type, void* value, CK_ULONG size) {
  CK_ATTRIBUTE attribute;
  attribute.type = type;
  attribute.pValue = value;
  attribute.ulValueLen = size;
  return attribute;
}

CK_GCM_PARAMS GcmParams(const uint8_t* iv, common::ByteView associated_data) {
  CK_GCM_PARAMS params;
  std::memset(&params, 0, sizeof params);
  // The API takes non-const pointers but only reads the IV and AAD.
  params.pIv = const_cast<CK_BYTE*>(iv);
  params.ulIvLen = kIvSize;
  params.ulIvBits = kIvSize * 8;
  params.pAAD = associated_data.empty() ? nullptr : const_cast<CK_BYTE*>(associated_data.data());
  params.ulAADLen = associated_data.size();
  params.ulTagBits = kTagSize * 8;
  return params;
}

}  // namespace

struct Pkcs11KekBackend::Impl {
  // Declared in the order of acquisition, so destruction closes the sessions, then logs out,
  // then finalizes and unloads the module.
  std::shared_ptr<detail::Pkcs11Module> module;
  std::shared_ptr<detail::Pkcs11TokenLogin> login;
  std::unique_ptr<SessionPool> pool;
  CK_FUNCTION_LIST* api = nullptr;
  std::string token_label;
  std::string key_label_prefix;

  // Serializes CreateKek and DestroyKek, whose look-up-then-act would otherwise race.
  std::mutex admin_mu;

  // Object handles found by label. A handle can go stale when another process destroys the
  // key; calls that see CKR_KEY_HANDLE_INVALID drop it and look the label up again.
  std::mutex handles_mu;
  std::map<uint32_t, CK_OBJECT_HANDLE> handles;  // guarded by handles_mu

  std::string Quoted() const { return "'" + token_label + "'"; }
  std::string Label(uint32_t version) const { return key_label_prefix + std::to_string(version); }

  Status KekNotFound(uint32_t version) const {
    return NotFoundError("KEK version " + std::to_string(version) + " not found in token " +
                         Quoted() + " (no secret key labelled '" + Label(version) +
                         "'): it was destroyed or never created");
  }

  void Forget(uint32_t version) {
    std::lock_guard<std::mutex> lock(handles_mu);
    handles.erase(version);
  }

  // The handle of KEK `version`, or nullopt when the token has no key with its label.
  Result<std::optional<CK_OBJECT_HANDLE>> FindKey(SessionLease& session, uint32_t version) {
    {
      std::lock_guard<std::mutex> lock(handles_mu);
      auto it = handles.find(version);
      if (it != handles.end()) return std::optional<CK_OBJECT_HANDLE>(it->second);
    }
    const std::string label = Label(version);
    CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
    CK_ATTRIBUTE query[] = {
        Attribute(CKA_CLASS, &key_class, sizeof key_class),
        Attribute(CKA_LABEL, const_cast<char*>(label.data()), label.size()),
    };
    CK_RV rv = session.Track(api->C_FindObjectsInit(session.get(), query, std::size(query)));
    if (rv != CKR_OK) {
      return Pkcs11Status(rv, "C_FindObjectsInit for '" + label + "' on token " + Quoted());
    }
    CK_OBJECT_HANDLE found[2];
    CK_ULONG count = 0;
    rv = session.Track(api->C_FindObjects(session.get(), found, std::size(found), &count));
    CK_RV final_rv = session.Track(api->C_FindObjectsFinal(session.get()));
    if (rv == CKR_OK) rv = final_rv;
    if (rv != CKR_OK) {
      return Pkcs11Status(rv, "C_FindObjects for '" + label + "' on token " + Quoted());
    }
    if (count == 0) return std::optional<CK_OBJECT_HANDLE>();
    if (count > 1) {
      return FailedPreconditionError(
          "token " + Quoted() + " holds more than one secret key labelled '" + label +
          "': custos cannot tell which is KEK version " + std::to_string(version) +
          "; remove the one custos did not create");
    }
    std::lock_guard<std::mutex> lock(handles_mu);
    handles[version] = found[0];
    return std::optional<CK_OBJECT_HANDLE>(found[0]);
  }

  Result<CK_OBJECT_HANDLE> KeyOrNotFound(SessionLease& session, uint32_t version) {
    CUSTOS_ASSIGN_OR_RETURN(std::optional<CK_OBJECT_HANDLE> key, FindKey(session, version));
    if (!key.has_value()) return KekNotFound(version);
    return *key;
  }

  // Seals and opens a random block under `key`; CKR_OK when the round trip gives it back.
  CK_RV ProbeRoundTrip(SessionLease& session, CK_OBJECT_HANDLE key) {
    uint8_t iv[kIvSize];
    RandomFill(iv);
    SecretBytes probe = SecretBytes::Random(16);
    CK_GCM_PARAMS params = GcmParams(iv, {});
    CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
    uint8_t sealed[16 + kTagSize];
    CK_ULONG sealed_len = sizeof sealed;
    CK_RV rv = session.Track(api->C_EncryptInit(session.get(), &mechanism, key));
    if (rv == CKR_OK) {
      rv = session.Track(
          api->C_Encrypt(session.get(), probe.span().data(), probe.size(), sealed, &sealed_len));
    }
    if (rv != CKR_OK) return rv;
    SecretBytes opened(sizeof sealed);
    CK_ULONG opened_len = opened.size();
    rv = session.Track(api->C_DecryptInit(session.get(), &mechanism, key));
    if (rv == CKR_OK) {
      rv = session.Track(
          api->C_Decrypt(session.get(), sealed, sealed_len, opened.span().data(), &opened_len));
    }
    if (rv != CKR_OK) return rv;
    const bool same = opened_len == probe.size() &&
                      ConstantTimeEquals(opened.span().first(opened_len), probe.span());
    return same ? CKR_OK : CKR_GENERAL_ERROR;
  }

  // Runs `op(key handle)` (a PKCS#11 call returning CK_RV) on KEK `version`, looking the label
  // up again once if the cached handle went stale. NotFound when the KEK does not exist.
  template <typename Op>
  Result<CK_RV> WithKey(SessionLease& session, uint32_t version, Op op) {
    for (int attempt = 0;; ++attempt) {
      CUSTOS_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, KeyOrNotFound(session, version));
      CK_RV rv = session.Track(op(key));
      if (IsStaleHandle(rv) && attempt == 0) {
        Forget(version);
        continue;
      }
      if (IsStaleHandle(rv)) return KekNotFound(version);
      return rv;
    }
  }
};

Pkcs11KekBackend::Pkcs11KekBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pkcs11KekBackend::~Pkcs11KekBackend() = default;

const std::string& Pkcs11KekBackend::token_label() const { return impl_->token_label; }
std::string Pkcs11KekBackend::KeyLabel(uint32_t version) const { return impl_->Label(version); }

Result<std::unique_ptr<Pkcs11KekBackend>> Pkcs11KekBackend::Open(const Pkcs11Options& options) {
  if (options.token_label.empty()) {
    return InvalidArgumentError(
        "PKCS#11 token label is empty: pass the label of the token that holds the KEKs");
  }
  if (options.token_label.size() > kMaxTokenLabel) {
    return InvalidArgumentError("PKCS#11 token label '" + options.token_label + "' is " +
                                std::to_string(options.token_label.size()) +
                                " bytes; token labels are at most 32");
  }
  if (options.pin.empty()) {
    return InvalidArgumentError("PIN for token '" + options.token_label +
                                "' is empty: pass the token's user PIN");
  }
  if (options.key_label_prefix.empty()) {
    return InvalidArgumentError(
        "PKCS#11 key label prefix is empty: KEK labels need a prefix "
        "such as 'custos-kek-v'");
  }
  if (options.max_sessions == 0) {
    return InvalidArgumentError("PKCS#11 max_sessions is 0: at least one session is needed");
  }
  InitCrypto();

  auto impl = std::make_unique<Impl>();
  CUSTOS_ASSIGN_OR_RETURN(impl->module, detail::Pkcs11Module::Load(options.module_path));
  impl->api = impl->module->api();
  CUSTOS_ASSIGN_OR_RETURN(std::vector<detail::Pkcs11Module::Token> tokens,
                          impl->module->ListTokens());
  auto token = std::find_if(tokens.begin(), tokens.end(),
                            [&](const auto& t) { return t.label == options.token_label; });
  if (token == tokens.end()) {
    std::string present;
    for (const auto& t : tokens) {
      if (!present.empty()) present += ", ";
      present += "'" + t.label + "'";
    }
    if (present.empty()) present = "none";
    return NotFoundError("no PKCS#11 token labelled '" + options.token_label + "' in module " +
                         options.module_path + "; tokens present: " + present +
                         " (initialize one with scripts/softhsm-setup.sh or "
                         "softhsm2-util --init-token)");
  }
  impl->token_label = token->label;
  impl->key_label_prefix = options.key_label_prefix;

  // Fail at open, not at the first wrap, when the token lacks what the backend needs.
  for (CK_MECHANISM_TYPE mechanism : {CKM_AES_KEY_GEN, CKM_AES_GCM}) {
    CK_MECHANISM_INFO info;
    std::memset(&info, 0, sizeof info);
    CK_RV rv = impl->api->C_GetMechanismInfo(token->slot, mechanism, &info);
    if (rv == CKR_MECHANISM_INVALID) {
      return FailedPreconditionError(
          std::string("token '") + token->label + "' does not support " +
          (mechanism == CKM_AES_GCM ? "CKM_AES_GCM" : "CKM_AES_KEY_GEN") +
          ", which the PKCS#11 KEK backend needs (AES-256 keys, AES-GCM wrapping)");
    }
    if (rv != CKR_OK) {
      return Pkcs11Status(rv, "C_GetMechanismInfo on token '" + token->label + "'");
    }
  }

  CUSTOS_ASSIGN_OR_RETURN(impl->login,
                          detail::Pkcs11Module::Login(impl->module, *token, options.pin));
  impl->pool =
      std::make_unique<SessionPool>(impl->api, token->slot, options.max_sessions, token->label);
  return std::unique_ptr<Pkcs11KekBackend>(new Pkcs11KekBackend(std::move(impl)));
}

Status Pkcs11KekBackend::CreateKek(uint32_t version) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> admin(d.admin_mu);
  CUSTOS_ASSIGN_OR_RETURN(CK_SESSION_HANDLE handle, d.pool->Acquire());
  SessionLease session(*d.pool, handle);
  CUSTOS_ASSIGN_OR_RETURN(std::optional<CK_OBJECT_HANDLE> existing, d.FindKey(session, version));
  const std::string label = d.Label(version);
  if (existing.has_value()) {
    return AlreadyExistsError("KEK version " + std::to_string(version) +
                              " already exists in token " + d.Quoted() + " (secret key labelled '" +
                              label + "')");
  }
  CK_OBJECT_CLASS key_class = CKO_SECRET_KEY;
  CK_KEY_TYPE key_type = CKK_AES;
  CK_ULONG value_len = kKekSize;
  CK_BBOOL yes = CK_TRUE;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE key_template[] = {
      Attribute(CKA_CLASS, &key_class, sizeof key_class),
      Attribute(CKA_KEY_TYPE, &key_type, sizeof key_type),
      Attribute(CKA_VALUE_LEN, &value_len, sizeof value_len),
      Attribute(CKA_LABEL, const_cast<char*>(label.data()), label.size()),
      Attribute(CKA_TOKEN, &yes, sizeof yes),      // persists in the token
      Attribute(CKA_PRIVATE, &yes, sizeof yes),    // invisible without login
      Attribute(CKA_SENSITIVE, &yes, sizeof yes),  // value never readable
      Attribute(CKA_EXTRACTABLE, &no, sizeof no),  // cannot be wrapped out either
      Attribute(CKA_ENCRYPT, &yes, sizeof yes),
      Attribute(CKA_DECRYPT, &yes, sizeof yes),
      Attribute(CKA_WRAP, &no, sizeof no),
      Attribute(CKA_UNWRAP, &no, sizeof no),
      Attribute(CKA_DERIVE, &no, sizeof no),
  };
  CK_MECHANISM mechanism;
  std::memset(&mechanism, 0, sizeof mechanism);
  mechanism.mechanism = CKM_AES_KEY_GEN;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_RV rv = session.Track(
      d.api->C_GenerateKey(session.get(), &mechanism, key_template, std::size(key_template), &key));
  if (rv != CKR_OK) {
    return Pkcs11Status(rv, "C_GenerateKey for KEK version " + std::to_string(version) + " ('" +
                                label + "') on token " + d.Quoted());
  }
  std::lock_guard<std::mutex> lock(d.handles_mu);
  d.handles[version] = key;
  return Status::Ok();
}

Result<common::Bytes> Pkcs11KekBackend::Wrap(uint32_t version, const SecretBytes& dek,
                                             common::ByteView associated_data) {
  if (dek.empty()) {
    return InvalidArgumentError("cannot wrap an empty DEK under KEK version " +
                                std::to_string(version));
  }
  Impl& d = *impl_;
  CUSTOS_ASSIGN_OR_RETURN(CK_SESSION_HANDLE handle, d.pool->Acquire());
  SessionLease session(*d.pool, handle);

  common::Bytes out(kIvSize + dek.size() + kTagSize);
  RandomFill(std::span<uint8_t>(out.data(), kIvSize));
  CK_GCM_PARAMS params = GcmParams(out.data(), associated_data);
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  CK_ULONG sealed_len = 0;
  CUSTOS_ASSIGN_OR_RETURN(CK_RV rv, d.WithKey(session, version, [&](CK_OBJECT_HANDLE key) {
    CK_RV init = d.api->C_EncryptInit(session.get(), &mechanism, key);
    if (init != CKR_OK) return init;
    sealed_len = out.size() - kIvSize;
    // Only reads the DEK, despite the non-const pointer.
    return d.api->C_Encrypt(session.get(), const_cast<CK_BYTE*>(dek.span().data()), dek.size(),
                            out.data() + kIvSize, &sealed_len);
  }));
  if (rv != CKR_OK) {
    return Pkcs11Status(rv, "AES-GCM wrap under KEK version " + std::to_string(version) +
                                " in token " + d.Quoted());
  }
  if (sealed_len != dek.size() + kTagSize) {
    return InternalError("token " + d.Quoted() + " returned " + std::to_string(sealed_len) +
                         " bytes of AES-GCM output for a " + std::to_string(dek.size()) +
                         "-byte DEK; expected " + std::to_string(dek.size() + kTagSize));
  }
  return out;
}

Result<SecretBytes> Pkcs11KekBackend::Unwrap(uint32_t version, common::ByteView wrapped,
                                             common::ByteView associated_data) {
  Impl& d = *impl_;
  CUSTOS_ASSIGN_OR_RETURN(CK_SESSION_HANDLE handle, d.pool->Acquire());
  SessionLease session(*d.pool, handle);
  if (wrapped.size() <= kIvSize + kTagSize) {
    // Looked up first so that a destroyed KEK reads as NotFound whatever the input.
    CUSTOS_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, d.KeyOrNotFound(session, version));
    (void)key;
    return DataLossError("wrapped DEK under KEK version " + std::to_string(version) + " is " +
                         std::to_string(wrapped.size()) + " bytes, not more than the " +
                         std::to_string(kIvSize + kTagSize) +
                         " bytes of IV and tag: the stored record is truncated or corrupt");
  }
  const common::ByteView sealed = wrapped.subspan(kIvSize);
  CK_GCM_PARAMS params = GcmParams(wrapped.data(), associated_data);
  CK_MECHANISM mechanism{CKM_AES_GCM, &params, sizeof params};
  // Sized for the whole input, since some tokens ask for room for the tag as well.
  SecretBytes plain(sealed.size());
  CK_ULONG plain_len = 0;
  CUSTOS_ASSIGN_OR_RETURN(CK_RV rv, d.WithKey(session, version, [&](CK_OBJECT_HANDLE key) {
    CK_RV init = d.api->C_DecryptInit(session.get(), &mechanism, key);
    if (init != CKR_OK) return init;
    plain_len = plain.size();
    return d.api->C_Decrypt(session.get(), const_cast<CK_BYTE*>(sealed.data()), sealed.size(),
                            plain.span().data(), &plain_len);
  }));
  bool authentication_failed = IsAuthenticationFailure(rv);
  if (IsAmbiguousDecryptFailure(rv)) {
    // Either the tag did not verify or the token broke. If a fresh wrap and unwrap under the
    // same key and session succeeds, the token is fine and the input is at fault.
    CUSTOS_ASSIGN_OR_RETURN(CK_RV probe, d.WithKey(session, version, [&](CK_OBJECT_HANDLE key) {
      return d.ProbeRoundTrip(session, key);
    }));
    if (probe == CKR_OK) {
      session.MarkUsable();
      authentication_failed = true;
    }
  }
  if (authentication_failed) {
    return DataLossError("wrapped DEK does not authenticate under KEK version " +
                         std::to_string(version) + " in token " + d.Quoted() + " (" +
                         std::string(Pkcs11RvName(rv)) +
                         "): the wrapped bytes or the associated data (owner id, KEK version) "
                         "were altered, or it was wrapped under another KEK");
  }
  if (rv != CKR_OK) {
    return Pkcs11Status(rv, "AES-GCM unwrap under KEK version " + std::to_string(version) +
                                " in token " + d.Quoted());
  }
  if (plain_len != sealed.size() - kTagSize) {
    return InternalError("token " + d.Quoted() + " returned " + std::to_string(plain_len) +
                         " bytes of AES-GCM plaintext for " + std::to_string(sealed.size()) +
                         " bytes of ciphertext and tag");
  }
  return SecretBytes::CopyOf(plain.span().first(plain_len));
}

Status Pkcs11KekBackend::DestroyKek(uint32_t version) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> admin(d.admin_mu);
  CUSTOS_ASSIGN_OR_RETURN(CK_SESSION_HANDLE handle, d.pool->Acquire());
  SessionLease session(*d.pool, handle);
  CUSTOS_ASSIGN_OR_RETURN(CK_RV rv, d.WithKey(session, version, [&](CK_OBJECT_HANDLE key) {
    return d.api->C_DestroyObject(session.get(), key);
  }));
  d.Forget(version);
  if (rv != CKR_OK) {
    return Pkcs11Status(rv, "C_DestroyObject of KEK version " + std::to_string(version) + " ('" +
                                d.Label(version) + "') in token " + d.Quoted());
  }
  return Status::Ok();
}

Result<Pkcs11KekInfo> Pkcs11KekBackend::DescribeKek(uint32_t version) {
  Impl& d = *impl_;
  CUSTOS_ASSIGN_OR_RETURN(CK_SESSION_HANDLE handle, d.pool->Acquire());
  SessionLease session(*d.pool, handle);
  CK_BBOOL token = CK_FALSE, is_private = CK_FALSE, sensitive = CK_FALSE, extractable = CK_TRUE,
           always_sensitive = CK_FALSE, never_extractable = CK_FALSE;
  CK_ULONG value_len = 0;
  char label[256] = {};
  CK_ATTRIBUTE attributes[] = {
      Attribute(CKA_TOKEN, &token, sizeof token),
      Attribute(CKA_PRIVATE, &is_private, sizeof is_private),
      Attribute(CKA_SENSITIVE, &sensitive, sizeof sensitive),
      Attribute(CKA_EXTRACTABLE, &extractable, sizeof extractable),
      Attribute(CKA_ALWAYS_SENSITIVE, &always_sensitive, sizeof always_sensitive),
      Attribute(CKA_NEVER_EXTRACTABLE, &never_extractable, sizeof never_extractable),
      Attribute(CKA_VALUE_LEN, &value_len, sizeof value_len),
      Attribute(CKA_LABEL, label, sizeof label),
  };
  CUSTOS_ASSIGN_OR_RETURN(CK_RV rv, d.WithKey(session, version, [&](CK_OBJECT_HANDLE key) {
    return d.api->C_GetAttributeValue(session.get(), key, attributes, std::size(attributes));
  }));
  if (rv != CKR_OK) {
    return Pkcs11Status(rv, "C_GetAttributeValue of KEK version " + std::to_string(version) +
                                " in token " + d.Quoted());
  }
  Pkcs11KekInfo info;
  info.label.assign(label, attributes[7].ulValueLen);
  info.value_len = value_len;
  info.token_object = token == CK_TRUE;
  info.private_object = is_private == CK_TRUE;
  info.sensitive = sensitive == CK_TRUE;
  info.extractable = extractable == CK_TRUE;
  info.always_sensitive = always_sensitive == CK_TRUE;
  info.never_extractable = never_extractable == CK_TRUE;

  // Ask for the key bytes themselves; a correct token refuses. Whatever comes back is wiped.
  SecretBytes value(64);
  CK_ATTRIBUTE value_attribute = Attribute(CKA_VALUE, value.span().data(), value.size());
  CUSTOS_ASSIGN_OR_RETURN(rv, d.WithKey(session, version, [&](CK_OBJECT_HANDLE key) {
    return d.api->C_GetAttributeValue(session.get(), key, &value_attribute, 1);
  }));
  info.value_read_result = std::string(Pkcs11RvName(rv));
  return info;
}

}  // namespace custos::crypto
