// The SHA-256 of a local file, streamed (constant memory): how lineage names a source
// snapshot when it is recorded and re-checks it when verified.
// Thread-safety: a free function.
#pragma once

#include <string>

#include "common/status.h"

namespace custos::lineage::detail {

// Lowercase hex. NotFound when the file cannot be opened, DataLoss when reading fails.
Result<std::string> FileSha256(const std::string& path);

}  // namespace custos::lineage::detail
