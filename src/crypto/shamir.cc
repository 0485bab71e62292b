// Shamir sharing over libgfshare; share text encoding with a typo check.
#include "crypto/shamir.h"

extern "C" {
#include <libgfshare.h>
}

#include <sodium.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "common/bytes.h"
#include "crypto/hash.h"
#include "crypto/random.h"

namespace custos::crypto {
namespace {

constexpr std::string_view kSharePrefix = "custos-share-v1:";

void SodiumFill(unsigned char* buffer, unsigned int size) { randombytes_buf(buffer, size); }

// libgfshare takes its RNG through a global function pointer (Debian's build leaves it
// unset, and the library calls it even when freeing a context); point it at
// libsodium's CSPRNG exactly once.
void UseSodiumRandomForGfshare() {
  static std::once_flag once;
  std::call_once(once, [] {
    InitCrypto();
    gfshare_fill_rand = SodiumFill;
  });
}

struct GfshareCtxDeleter {
  void operator()(gfshare_ctx* ctx) const { gfshare_ctx_free(ctx); }
};
using GfshareCtx = std::unique_ptr<gfshare_ctx, GfshareCtxDeleter>;

std::array<uint8_t, 4> ShareCheck(common::ByteView body) {
  Sha256 h;
  h.Update(common::AsBytes("custos-share-v1")).Update(body);
  Digest d = h.Finish();
  return {d[0], d[1], d[2], d[3]};
}

}  // namespace

Result<std::vector<Share>> SplitSecret(const SecretBytes& secret, int count, int threshold,
                                       const std::array<uint8_t, 4>& tag) {
  if (threshold < 2 || threshold > count || count > 255) {
    return InvalidArgumentError("need 2 <= threshold <= shares <= 255, got threshold " +
                                std::to_string(threshold) + " of " + std::to_string(count) +
                                " shares");
  }
  if (secret.empty()) return InvalidArgumentError("cannot split an empty secret");
  UseSodiumRandomForGfshare();
  std::vector<uint8_t> xs(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) xs[i] = static_cast<uint8_t>(i + 1);
  GfshareCtx ctx(gfshare_ctx_init_enc(xs.data(), static_cast<unsigned>(count),
                                      static_cast<unsigned char>(threshold),
                                      static_cast<unsigned>(secret.size())));
  if (!ctx) return InternalError("libgfshare could not create a sharing context");
  SecretBytes secret_copy = secret.Clone();  // libgfshare takes a non-const pointer
  gfshare_ctx_enc_setsecret(ctx.get(), secret_copy.span().data());
  std::vector<Share> shares;
  for (int i = 0; i < count; ++i) {
    Share s;
    s.tag = tag;
    s.threshold = static_cast<uint8_t>(threshold);
    s.x = xs[i];
    s.y = SecretBytes(secret.size());
    gfshare_ctx_enc_getshare(ctx.get(), static_cast<unsigned char>(i), s.y.span().data());
    shares.push_back(std::move(s));
  }
  return shares;
}

Result<SecretBytes> CombineShares(const std::vector<Share>& shares) {
  if (shares.empty()) return InvalidArgumentError("no unseal shares given");
  // gfshare_ctx_free scrubs with the RNG hook too, so it must be set on this path.
  UseSodiumRandomForGfshare();
  const uint8_t threshold = shares[0].threshold;
  const size_t size = shares[0].y.size();
  std::vector<uint8_t> xs;
  for (size_t i = 0; i < shares.size(); ++i) {
    const Share& s = shares[i];
    if (s.tag != shares[0].tag || s.threshold != threshold || s.y.size() != size) {
      return InvalidArgumentError("share " + std::to_string(i + 1) +
                                  " comes from a different seal than share 1");
    }
    if (std::find(xs.begin(), xs.end(), s.x) != xs.end()) {
      return InvalidArgumentError("share " + std::to_string(i + 1) +
                                  " repeats an earlier share; give " + std::to_string(threshold) +
                                  " different shares");
    }
    xs.push_back(s.x);
  }
  if (xs.size() < threshold) {
    return InvalidArgumentError("need " + std::to_string(threshold) +
                                " different unseal shares, got " + std::to_string(xs.size()));
  }
  // Exactly `threshold` shares determine the polynomial; extra ones are not needed.
  xs.resize(threshold);
  GfshareCtx ctx(gfshare_ctx_init_dec(xs.data(), threshold, static_cast<unsigned>(size)));
  if (!ctx) return InternalError("libgfshare could not create a combining context");
  for (size_t i = 0; i < threshold; ++i) {
    SecretBytes y = shares[i].y.Clone();
    gfshare_ctx_dec_giveshare(ctx.get(), static_cast<unsigned char>(i), y.span().data());
  }
  SecretBytes secret(size);
  gfshare_ctx_dec_extract(ctx.get(), secret.span().data());
  return secret;
}

std::string EncodeShare(const Share& share) {
  common::Bytes body(share.tag.begin(), share.tag.end());
  body.push_back(share.threshold);
  body.push_back(share.x);
  body.insert(body.end(), share.y.span().begin(), share.y.span().end());
  std::array<uint8_t, 4> check = ShareCheck(body);
  body.insert(body.end(), check.begin(), check.end());
  std::string text(kSharePrefix);
  text += common::Base64UrlEncode(body);
  Zeroize(body);
  return text;
}

Result<Share> DecodeShare(std::string_view text, int position) {
  const std::string which = "unseal share " + std::to_string(position);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (!text.starts_with(kSharePrefix)) {
    return InvalidArgumentError(which + " does not start with '" + std::string(kSharePrefix) +
                                "': paste the whole line printed by 'custos init'");
  }
  Result<common::Bytes> body = common::Base64UrlDecode(text.substr(kSharePrefix.size()));
  if (!body.ok() || body->size() < 4 + 2 + 1 + 4) {
    return InvalidArgumentError(which + " is malformed (truncated or mistyped)");
  }
  common::Bytes& b = *body;
  const size_t check_at = b.size() - 4;
  std::array<uint8_t, 4> check = ShareCheck({b.data(), check_at});
  if (!ConstantTimeEquals(check, common::ByteView(b.data() + check_at, 4))) {
    Zeroize(b);
    return InvalidArgumentError(which + " has a typo: its checksum does not match");
  }
  Share s;
  std::copy_n(b.begin(), 4, s.tag.begin());
  s.threshold = b[4];
  s.x = b[5];
  s.y = SecretBytes::CopyOf({b.data() + 6, check_at - 6});
  Zeroize(b);
  if (s.x == 0 || s.threshold < 2) return InvalidArgumentError(which + " is malformed");
  return s;
}

}  // namespace custos::crypto
