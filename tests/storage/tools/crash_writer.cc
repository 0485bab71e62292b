// Crash-test writer: opens a data directory and writes encrypted batches forever,
// printing each batch number after the batch is durably acknowledged. The crash
// test SIGKILLs it at random moments and checks every printed batch survived.
// Usage: custos_crash_writer DIR SHARES_FILE OWNER FIRST_BATCH
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "storage/data_dir.h"
#include "storage/encrypted_keyspace.h"

int main(int argc, char** argv) {
  using namespace custos;
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s DIR SHARES_FILE OWNER FIRST_BATCH\n", argv[0]);
    return 2;
  }
  storage::UnsealMaterial material;
  std::ifstream shares(argv[2]);
  for (std::string line; std::getline(shares, line);) {
    if (!line.empty()) material.shares.push_back(line);
  }
  auto dir = storage::DataDir::Open(argv[1], material);
  if (!dir.ok()) {
    std::fprintf(stderr, "open: %s\n", dir.status().ToString().c_str());
    return 1;
  }
  auto space = storage::EncryptedKeyspace::Open((*dir)->kv(), storage::Keyspace::kOffline,
                                                (*dir)->keyring(), argv[3]);
  if (!space.ok()) {
    std::fprintf(stderr, "keyspace: %s\n", space.status().ToString().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (long batch_no = std::stol(argv[4]);; ++batch_no) {
    storage::WriteBatch batch;
    for (int r = 0; r < 16; ++r) {
      std::string key = "b" + std::to_string(batch_no) + "/r" + std::to_string(r);
      space->PutTo(batch, key,
                   "batch " + std::to_string(batch_no) + " record " + std::to_string(r));
    }
    Status s = (*dir)->kv().Write(batch, storage::WriteOptions{.sync = true});
    if (!s.ok()) {
      std::fprintf(stderr, "write: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("%ld\n", batch_no);
    std::fflush(stdout);
  }
}
