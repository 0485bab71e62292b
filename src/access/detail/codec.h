// Storage encoding of the access records (JSON, sealed by the keyspace) and their keys.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "access/records.h"
#include "common/status.h"

namespace custos::access::detail {

std::string PurposeKey(std::string_view id);
std::string RequestKey(std::string_view id);
std::string GrantKey(std::string_view id);
std::string GrantUseKey(std::string_view id);
// Prefixes for scans: "purpose", "request", "grant", "grant-use".
std::string KindPrefix(std::string_view kind);

std::string EncodePurpose(const Purpose& p);
std::string EncodeRequest(const AccessRequest& r);
std::string EncodeGrant(const Grant& g);
// DataLoss naming `key` when the stored text does not decode.
Result<Purpose> DecodePurpose(std::string_view key, std::string_view text);
Result<AccessRequest> DecodeRequest(std::string_view key, std::string_view text);
Result<Grant> DecodeGrant(std::string_view key, std::string_view text);

}  // namespace custos::access::detail
