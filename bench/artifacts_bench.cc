// The artifact vault's blob store (issue 9): encrypted upload from a local file into the
// BlobStore (read -> WriteBlob -> FinishUpload, which fdatasyncs), and encrypted download
// from it to a local file (CopyTo -> write, fdatasync at the end), in MB/s (10^6 bytes/s),
// median of --reps runs over one --size-mib file. Each run's phases are timed too (source
// reads, chunk appends, finish; decrypting reads, sink writes, final sync), so a miss shows
// where the time goes. scripts/bench-artifacts.sh runs it beside openssl speed and dd.
//
// Usage: custos_bench_artifacts [--size-mib 1024] [--reps 5] [--chunk-mib 4]
//                               [--dir /tmp] [--keep]
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "artifacts/blob_store.h"
#include "bench_util.h"
#include "common/bytes.h"
#include "crypto/hash.h"
#include "crypto/root_key.h"
#include "storage/data_dir.h"

namespace custos::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Args {
  uint64_t size_mib = 1024;
  int reps = 5;
  uint32_t chunk_mib = 4;
  std::string dir = "/tmp";
  bool keep = false;
};

[[noreturn]] void Usage(const char* problem) {
  std::fprintf(stderr,
               "custos_bench_artifacts: %s\nusage: custos_bench_artifacts [--size-mib N] "
               "[--reps N] [--chunk-mib N] [--dir DIR] [--keep]\n",
               problem);
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage(("missing value after " + flag).c_str());
      return argv[++i];
    };
    if (flag == "--size-mib") {
      args.size_mib = std::stoull(value());
    } else if (flag == "--reps") {
      args.reps = std::stoi(value());
    } else if (flag == "--chunk-mib") {
      args.chunk_mib = static_cast<uint32_t>(std::stoul(value()));
    } else if (flag == "--dir") {
      args.dir = value();
    } else if (flag == "--keep") {
      args.keep = true;
    } else {
      Usage(("unknown flag " + flag).c_str());
    }
  }
  if (args.size_mib == 0 || args.reps < 1 || args.chunk_mib == 0) Usage("sizes must be > 0");
  return args;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// CPU seconds (user + system, every thread) used by this process so far.
double CpuSeconds() {
  struct rusage u;
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Die(const char* what) {
  std::fprintf(stderr, "bench: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// A file of pseudo-random bytes (incompressible, so no layer can shortcut it), synced.
crypto::Digest MakeSource(const std::string& path, uint64_t bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("create source file");
  std::vector<uint64_t> block((4u << 20) / sizeof(uint64_t));
  SplitMix64 rng{42};
  crypto::Sha256 hash;
  for (uint64_t done = 0; done < bytes;) {
    for (uint64_t& w : block) w = rng.Next();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(block.size() * 8, bytes - done));
    if (::write(fd, block.data(), n) != static_cast<ssize_t>(n)) Die("write source file");
    hash.Update(common::ByteView(reinterpret_cast<const uint8_t*>(block.data()), n));
    done += n;
  }
  if (::fdatasync(fd) != 0) Die("fdatasync source file");
  ::close(fd);
  return hash.Finish();
}

struct UploadRun {
  double total = 0, reading = 0, appending = 0, cpu = 0;
  artifacts::BlobInfo info;
};

UploadRun Upload(artifacts::BlobStore& store, const std::string& source, uint32_t chunk) {
  UploadRun run;
  const double cpu_start = CpuSeconds();
  const auto start = Clock::now();
  int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Die("open source file");
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Clock::duration reading{};
  auto read = [&](std::span<uint8_t> buf) -> Result<size_t> {
    const auto t = Clock::now();
    ssize_t n = ::read(fd, buf.data(), buf.size());
    reading += Clock::now() - t;
    if (n < 0) return InternalError(std::string("read source: ") + std::strerror(errno));
    return static_cast<size_t>(n);
  };
  run.info = Must(store.WriteBlob(read, chunk), "WriteBlob");
  ::close(fd);
  run.total = Seconds(Clock::now() - start);
  run.reading = Seconds(reading);
  run.appending = run.total - run.reading;  // sealing, writing, hashing, final sync
  run.cpu = CpuSeconds() - cpu_start;
  return run;
}

struct DownloadRun {
  double total = 0, writing = 0, syncing = 0, cpu = 0;
};

DownloadRun Download(artifacts::BlobStore& store, const artifacts::BlobInfo& info,
                     const std::string& dest, crypto::Sha256* verify) {
  DownloadRun run;
  const double cpu_start = CpuSeconds();
  const auto start = Clock::now();
  auto reader = Must(store.OpenBlob(info), "OpenBlob");
  int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die("create download file");
  Clock::duration writing{};
  MustOk(reader->CopyTo([&](common::ByteView b) -> Status {
    if (verify != nullptr) verify->Update(b);
    const auto t = Clock::now();
    size_t done = 0;
    while (done < b.size()) {
      ssize_t n = ::write(fd, b.data() + done, b.size() - done);
      if (n < 0) return InternalError(std::string("write download: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    writing += Clock::now() - t;
    return Status::Ok();
  }),
         "CopyTo");
  const auto sync_start = Clock::now();
  if (::fdatasync(fd) != 0) Die("fdatasync download file");
  ::close(fd);
  const auto end = Clock::now();
  run.total = Seconds(end - start);
  run.syncing = Seconds(end - sync_start);
  run.writing = Seconds(writing);
  run.cpu = CpuSeconds() - cpu_start;
  return run;
}

int Main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  const uint64_t bytes = args.size_mib << 20;
  const uint32_t chunk = args.chunk_mib << 20;
  const double mb = static_cast<double>(bytes) / 1e6;

  std::string pattern = args.dir + "/custos-bench-artifacts-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) Die("mkdtemp in --dir");
  const std::string work = pattern;

  crypto::ShamirInit init = Must(crypto::InitShamir(3, 2), "InitShamir");
  auto data_dir =
      Must(storage::DataDir::Create(work + "/data", init.config, std::move(init.root_key), {}),
           "DataDir::Create");
  common::SystemClock clock;
  auto store = Must(artifacts::BlobStore::Open(work + "/artifacts", data_dir->keyring(), clock),
                    "BlobStore::Open");

  std::printf("== artifact blob store: %llu MiB file, %u MiB chunks, median of %d, in %s\n",
              static_cast<unsigned long long>(args.size_mib), args.chunk_mib, args.reps,
              work.c_str());
  const std::string source = work + "/source.bin";
  const std::string dest = work + "/download.bin";
  const crypto::Digest source_sha = MakeSource(source, bytes);

  // A warm-up round trip, untimed, that also checks both directions end to end.
  {
    UploadRun warm = Upload(*store, source, chunk);
    if (warm.info.sha256 != source_sha || warm.info.size != bytes) {
      std::fprintf(stderr, "bench: the upload's SHA-256/size do not match the source\n");
      return 1;
    }
    crypto::Sha256 verify;
    Download(*store, warm.info, dest, &verify);
    if (verify.Finish() != source_sha) {
      std::fprintf(stderr, "bench: the downloaded bytes do not match the source\n");
      return 1;
    }
    MustOk(store->ShredBlob(warm.info.blob_id), "ShredBlob");
  }

  std::vector<UploadRun> uploads;
  std::vector<DownloadRun> downloads;
  for (int rep = 0; rep < args.reps; ++rep) {
    UploadRun up = Upload(*store, source, chunk);
    // The blob just written is page-cache-warm, as the dd read figure is.
    ::unlink(dest.c_str());
    DownloadRun down = Download(*store, up.info, dest, nullptr);
    std::printf(
        "  run %d: upload %7.1f MB/s (%.2f s: source reads %.2f s, append+finish %.2f s)"
        "   download %7.1f MB/s (%.2f s: file writes %.2f s, final fdatasync %.2f s)\n",
        rep + 1, mb / up.total, up.total, up.reading, up.appending, mb / down.total, down.total,
        down.writing, down.syncing);
    std::fflush(stdout);
    MustOk(store->ShredBlob(up.info.blob_id), "ShredBlob");
    uploads.push_back(up);
    downloads.push_back(down);
  }

  // Diagnostic: the same upload without the final fdatasync (BlobStoreOptions::sync =
  // false) separates the CPU side (read, hash, seal, write to the page cache) from the disk.
  {
    artifacts::BlobStoreOptions no_sync;
    no_sync.sync = false;
    auto unsynced = Must(
        artifacts::BlobStore::Open(work + "/artifacts-nosync", data_dir->keyring(), clock, no_sync),
        "BlobStore::Open (no sync)");
    std::vector<double> rates;
    for (int rep = 0; rep < std::min(args.reps, 3); ++rep) {
      UploadRun up = Upload(*unsynced, source, chunk);
      rates.push_back(mb / up.total);
      MustOk(unsynced->ShredBlob(up.info.blob_id), "ShredBlob");
    }
    std::printf("  diagnostic: upload without fdatasync (CPU side) %.1f MB/s (median of %zu)\n",
                Median(rates), rates.size());
  }

  std::vector<double> up_rates;
  std::vector<double> down_rates;
  std::vector<double> up_cpu;
  std::vector<double> down_cpu;
  const double gib = static_cast<double>(bytes) / (1u << 30);
  for (const UploadRun& u : uploads) {
    up_rates.push_back(mb / u.total);
    up_cpu.push_back(u.cpu / gib);
  }
  for (const DownloadRun& d : downloads) {
    down_rates.push_back(mb / d.total);
    down_cpu.push_back(d.cpu / gib);
  }
  // CPU time is steadier than wall time on a shared machine: it says what the work costs,
  // whatever else ran; on 2 vCPUs the CPU-bound ceiling is about 2 * 1074 MB / cpu_s_per_gib.
  std::printf("  CPU (user+sys, all threads) per GiB: upload %.2f s, download %.2f s (medians)\n",
              Median(up_cpu), Median(down_cpu));
  const double up_median = Median(up_rates);
  const double down_median = Median(down_rates);
  std::printf("upload_mb_s %.1f\n", up_median);
  std::printf("download_mb_s %.1f\n", down_median);
  std::printf(
      "upload   (file -> WriteBlob -> FinishUpload incl. fdatasync): %.1f MB/s "
      "(min %.1f, max %.1f)\n",
      up_median, *std::min_element(up_rates.begin(), up_rates.end()),
      *std::max_element(up_rates.begin(), up_rates.end()));
  std::printf(
      "download (OpenBlob -> CopyTo -> file, fdatasync at end):    %.1f MB/s "
      "(min %.1f, max %.1f)\n",
      down_median, *std::min_element(down_rates.begin(), down_rates.end()),
      *std::max_element(down_rates.begin(), down_rates.end()));

  store.reset();
  data_dir.reset();
  if (!args.keep) {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return 0;
}

}  // namespace
}  // namespace custos::bench

int main(int argc, char** argv) { return custos::bench::Main(argc, argv); }
