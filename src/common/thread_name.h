// Names the calling thread (shown by top -H, perf and gdb), so that a profile of a busy
// server says which of its threads does the work. Linux keeps at most 15 characters.
// Thread-safety: affects only the calling thread.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace custos::common {

inline void SetCurrentThreadName(std::string_view name) {
  std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

}  // namespace custos::common
