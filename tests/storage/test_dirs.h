// Storage test helpers: temporary directories and a raw-byte search over files.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../testing/temp_dir.h"

namespace custos::storage::testing {

using custos::testing::TempDir;

// Every regular file under `dir`, concatenated per file; returns the names of the
// files whose raw bytes contain `needle`.
std::vector<std::string> FilesContaining(const std::string& dir, std::string_view needle);

}  // namespace custos::storage::testing
