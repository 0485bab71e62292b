// Service-account names in client certificates.
#include "identity/mtls.h"

namespace custos::identity {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

}  // namespace

Status ValidateServiceAccountId(std::string_view id) {
  if (id.empty()) return InvalidArgumentError("service account id is empty");
  if (id.size() > kMaxServiceAccountIdLength) {
    return InvalidArgumentError("service account id is " + std::to_string(id.size()) +
                                " characters, more than the " +
                                std::to_string(kMaxServiceAccountIdLength) + " allowed");
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IsIdChar(id[i])) {
      return InvalidArgumentError("service account id has a character not allowed at offset " +
                                  std::to_string(i) + ": use letters, digits and . _ : @ -");
    }
  }
  return Status::Ok();
}

std::string ServiceAccountUri(std::string_view id) {
  return std::string(kServiceAccountUriPrefix) + std::string(id);
}

Result<std::string> ParseServiceAccountUri(std::string_view uri) {
  if (!uri.starts_with(kServiceAccountUriPrefix)) {
    return InvalidArgumentError("URI is not a custos service account (expected prefix " +
                                std::string(kServiceAccountUriPrefix) + ")");
  }
  std::string_view id = uri.substr(kServiceAccountUriPrefix.size());
  CUSTOS_RETURN_IF_ERROR(ValidateServiceAccountId(id));
  return std::string(id);
}

}  // namespace custos::identity
