// Periodic and on-demand signed checkpoints (see checkpointer.h).
#include "audit/checkpointer.h"

#include "audit/checkpoint.h"
#include "audit/hash_store.h"
#include "common/thread_name.h"

namespace custos::audit {

Checkpointer::Checkpointer(storage::Kv& kv, NoteSigner signer, CheckpointerOptions options,
                           TreeFn tree, std::optional<std::string> latest)
    : kv_(kv),
      signer_(std::move(signer)),
      options_(std::move(options)),
      tree_(std::move(tree)),
      latest_(std::move(latest)) {
  if (latest_) {
    auto parsed = ParseNote(*latest_);
    if (parsed.ok()) {
      auto checkpoint = ParseCheckpointText(parsed->text);
      if (checkpoint.ok()) latest_size_ = checkpoint->size;
    }
  }
}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] {
    common::SetCurrentThreadName("audit-checkpoint");
    Run();
  });
}

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  (void)CheckpointNow();  // best effort: a final checkpoint of what is durable
}

void Checkpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    // A failure here (e.g. the disk is full) is retried at the next tick; appends are
    // not blocked by checkpoints.
    (void)CheckpointNow();
    lock.lock();
  }
}

Result<std::string> Checkpointer::CheckpointNow() {
  std::lock_guard<std::mutex> lock(mu_);
  auto [size, root] = tree_();
  if (latest_ && size <= latest_size_) {
    latest_confirmed_at_ = std::chrono::system_clock::now();
    return *latest_;
  }
  Checkpoint checkpoint{options_.origin, size, root, {}};
  CUSTOS_ASSIGN_OR_RETURN(std::string note,
                          SignCheckpoint(checkpoint, std::span<const NoteSigner>(&signer_, 1)));
  CUSTOS_RETURN_IF_ERROR(kv_.Put(storage::Keyspace::kAudit, CheckpointKey(size), note,
                                 storage::WriteOptions{.sync = options_.sync}));
  latest_ = note;
  latest_size_ = size;
  latest_confirmed_at_ = std::chrono::system_clock::now();
  return note;
}

Result<std::string> Checkpointer::Latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!latest_) return NotFoundError("the audit log has no checkpoint yet");
  return *latest_;
}

std::chrono::system_clock::time_point Checkpointer::latest_confirmed_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_confirmed_at_;
}

uint64_t Checkpointer::latest_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_size_;
}

}  // namespace custos::audit
