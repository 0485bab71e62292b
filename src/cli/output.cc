// Error printing and the exit-code table.
#include "cli/output.h"

#include <iostream>

namespace custos::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return 3;
    case StatusCode::kNotFound:
      return 4;
    case StatusCode::kAlreadyExists:
      return 5;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      return 6;
    case StatusCode::kFailedPrecondition:
      return 7;
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
      return 8;
    case StatusCode::kDataLoss:
      return 9;
    case StatusCode::kInternal:
    case StatusCode::kUnimplemented:
      return 1;
  }
  return 1;
}

int Fail(const Status& status) {
  std::cerr << "custos: " << status.ToString() << "\n";
  return ExitCodeFor(status);
}

}  // namespace custos::cli
