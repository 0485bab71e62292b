// mTLS identities: how a service account is named in a client certificate, and what a
// verified client certificate yields. The CA that issues and verifies them is ca.h.
//
// A custos client certificate carries exactly one SAN URI
// `custos://service-account/<id>` (the identity) and a subject CN (informational), and
// the clientAuth extended key usage.
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace custos::identity {

inline constexpr std::string_view kServiceAccountUriPrefix = "custos://service-account/";
inline constexpr size_t kMaxServiceAccountIdLength = 128;

// InvalidArgument unless `id` is 1..128 characters of [A-Za-z0-9._:@-] (so it is safe in a
// URI path and a certificate subject without escaping).
Status ValidateServiceAccountId(std::string_view id);
// "custos://service-account/<id>". Precondition: ValidateServiceAccountId(id) is OK.
std::string ServiceAccountUri(std::string_view id);
// The id in a service-account URI; InvalidArgument naming the problem otherwise.
Result<std::string> ParseServiceAccountUri(std::string_view uri);

// What VerifyClientCertificate returns for a certificate it accepts.
struct ClientIdentity {
  std::string service_account_id;  // from the SAN URI
  std::string serial_hex;          // lower-case hex, no leading zeros
  std::string common_name;
  common::TimePoint not_after;
};

}  // namespace custos::identity
