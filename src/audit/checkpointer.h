// The checkpointer: signs a C2SP tlog-checkpoint for the log's durable tree and stores it
// under `c <size>`. A background thread issues one at least every `interval` while the
// log grows; CheckpointNow issues one on demand.
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "audit/merkle.h"
#include "audit/note.h"
#include "common/status.h"
#include "storage/kv.h"

namespace custos::audit {

struct CheckpointerOptions {
  // The checkpoint's origin line (the log's identity). Required.
  std::string origin;
  // Longest time between the log growing and a checkpoint covering it. Default 1 s.
  std::chrono::milliseconds interval{1000};
  // Write checkpoints with fsync. Default true.
  bool sync = true;
};

class Checkpointer {
 public:
  // The durable tree (size, root) the checkpointer signs; must be safe from any thread.
  using TreeFn = std::function<std::pair<uint64_t, Hash>()>;

  // `latest` is the newest stored checkpoint note, if any.
  Checkpointer(storage::Kv& kv, NoteSigner signer, CheckpointerOptions options, TreeFn tree,
               std::optional<std::string> latest);
  ~Checkpointer();  // Stop()

  // Starts the background thread (idempotent).
  void Start();
  // Stops the background thread after a last checkpoint of what is durable.
  void Stop();

  // Signs and stores a checkpoint of the current tree unless the newest one already
  // covers it; returns the newest signed checkpoint note.
  Result<std::string> CheckpointNow();
  // The newest signed checkpoint note; NotFound before the first one.
  Result<std::string> Latest() const;
  // The size of the newest checkpoint (0 before the first one).
  uint64_t latest_size() const;
  // When this process last signed a checkpoint, or found the newest one still covering
  // the whole log (the start, for a log whose checkpoint was loaded): how fresh it is.
  std::chrono::system_clock::time_point latest_confirmed_at() const;

 private:
  void Run();

  storage::Kv& kv_;
  const NoteSigner signer_;
  const CheckpointerOptions options_;
  const TreeFn tree_;
  mutable std::mutex mu_;  // serializes signing and guards the fields below
  std::optional<std::string> latest_;
  uint64_t latest_size_ = 0;
  std::chrono::system_clock::time_point latest_confirmed_at_ = std::chrono::system_clock::now();
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace custos::audit
