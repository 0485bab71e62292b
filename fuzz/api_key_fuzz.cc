// libFuzzer target for identity::ParseApiKey (the text a client presents to be exchanged
// for a token): arbitrary bytes must be refused cleanly, an accepted text must be exactly
// one canonical key (re-rendering it gives the input back), and no message may repeat the
// presented secret.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "identity/api_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using custos::identity::kApiKeyPrefix;
  using custos::identity::kApiKeyTextLength;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = custos::identity::ParseApiKey(text);
  if (!parsed.ok()) {
    // A secret-shaped tail (43 base64url characters) must not appear in the refusal. No
    // message template has such a run, so a hit can only be an echo.
    if (size >= 43) {
      const std::string_view tail = text.substr(size - 43);
      bool secret_shaped = true;
      for (char c : tail) {
        secret_shaped = secret_shaped && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                                          (c >= '0' && c <= '9') || c == '-' || c == '_');
      }
      if (secret_shaped && parsed.status().message().find(tail) != std::string::npos) {
        std::abort();
      }
    }
    return 0;
  }
  // Accepted: the text is the one rendering of (key id, secret).
  const std::string rendered = std::string(kApiKeyPrefix) + parsed->key_id.substr(3) + "_" +
                               custos::common::Base64UrlEncode(parsed->secret.span());
  if (rendered != text || parsed->secret.size() != 32) std::abort();
  return 0;
}
