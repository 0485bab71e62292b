// Printing results and errors consistently across commands, and exit codes.
// Thread-safety: call from one thread.
#pragma once

#include <string>

#include "common/status.h"

namespace custos::cli {

// Exit codes, stable for scripts: 0 success, 2 usage error (CLI11), and one per
// failure class below.
int ExitCodeFor(const Status& status);

// Prints "custos: <CODE>: <message>" to stderr and returns the exit code.
int Fail(const Status& status);

}  // namespace custos::cli
