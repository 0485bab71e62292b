// Readable names for PKCS#11 return values (CK_RV), so that every error custos reports from a
// token names the exact code ("CKR_PIN_INCORRECT (0xa0)") instead of a bare number.
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace custos::crypto::detail {

// The symbolic name of `rv` as the PKCS#11 standard spells it ("CKR_PIN_LOCKED"), or
// "CKR_VENDOR_DEFINED" / "CKR_UNKNOWN" for values the standard does not name.
// `rv` is a CK_RV (unsigned long) kept as such so that this header needs no pkcs11.h.
std::string_view Pkcs11RvName(unsigned long rv);

// Name and hex value: "CKR_PIN_INCORRECT (0xa0)".
std::string DescribePkcs11Rv(unsigned long rv);

// A Status for a failed PKCS#11 call: "<context>: CKR_DEVICE_REMOVED (0x32)", with a code chosen
// by what the caller can do about it (Unavailable for a token that went away or ran out of
// memory, FailedPrecondition for a token or session in the wrong state or lacking a mechanism,
// Internal for everything that means custos called the library wrongly). PIN and
// authentication codes are mapped by the caller, which knows the token's name.
Status Pkcs11Status(unsigned long rv, std::string_view context);

}  // namespace custos::crypto::detail
