// The audit salt of a data directory: 256 random bits made on first use and kept sealed in
// the `audit` keyspace under its own data key, so that HMACs in events stay correlatable
// across restarts (the same value always gives the same MAC) and unreadable without the
// root key.
// Thread-safety: a free function; do not race two first uses on one store.
#pragma once

#include "audit/event.h"
#include "common/status.h"
#include "crypto/keyring.h"
#include "storage/kv.h"

namespace custos::audit {

// The keyring owner of the salt's data key. Shredding it makes every stored MAC
// uncorrelatable with new events.
inline constexpr std::string_view kAuditSaltOwner = "audit:salt";

// Loads the salt, creating and storing it (durably) on first use. DataLoss when the stored
// salt does not authenticate or has the wrong size.
Result<AuditSalt> LoadOrCreateAuditSalt(storage::Kv& kv, crypto::Keyring& keyring);

}  // namespace custos::audit
