// Point-in-time join: sorted entity rows merged against decrypted column blocks (see
// point_in_time.h for the semantics and the plan).
#include "features/point_in_time.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>
#include <set>
#include <thread>

namespace custos::features {
namespace {

constexpr uint32_t kNoBlock = std::numeric_limits<uint32_t>::max();

// The first 8 bytes of an encoded key as a big-endian number (zero-padded): comparing two
// prefixes orders keys by their first 8 bytes.
inline uint64_t KeyPrefix(std::string_view key) {
  uint64_t v = 0;
  std::memcpy(&v, key.data(), key.size() < 8 ? key.size() : 8);
  return __builtin_bswap64(v);
}

// Entity rows sorted by (encoded key, ts) for one join-key set.
struct SortedEntities {
  std::vector<uint32_t> order;  // sorted position -> input row
  std::vector<uint64_t> prefix;
  std::vector<uint32_t> key_offset;
  std::vector<uint32_t> key_length;
  std::vector<int64_t> ts;
  std::string arena;  // encoded keys, input order
  size_t size() const { return order.size(); }

  std::string_view key(size_t s) const {
    return std::string_view(arena).substr(key_offset[s], key_length[s]);
  }
  // Sign of key(s) - k, with k's prefix precomputed.
  int Compare(size_t s, std::string_view k, uint64_t k_prefix) const {
    if (prefix[s] != k_prefix) return prefix[s] < k_prefix ? -1 : 1;
    if (key_length[s] <= 8 && k.size() <= 8) {
      return key_length[s] == k.size() ? 0 : (key_length[s] < k.size() ? -1 : 1);
    }
    int c = key(s).compare(k);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  bool SameKey(size_t a, size_t b) const {
    return prefix[a] == prefix[b] && key_length[a] == key_length[b] &&
           (key_length[a] <= 8 || key(a) == key(b));
  }
};

struct SortItem {
  uint64_t prefix;
  int64_t ts;
  uint32_t row;
  uint32_t length;
};

// Runs fn(t) for t in [0, threads) on threads, the last one on the caller.
template <typename Fn>
void RunThreads(int threads, Fn&& fn) {
  std::vector<std::jthread> workers;
  for (int t = 0; t + 1 < threads; ++t) workers.emplace_back([&fn, t] { fn(t); });
  fn(threads - 1);
}

Result<SortedEntities> SortEntities(const EntityRows& rows, const OfflineViewSchema& schema,
                                    int threads) {
  const size_t n = rows.size();
  if (n > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgumentError("too many entity rows (more than 4,294,967,295)");
  }
  std::vector<size_t> columns;
  for (const Column& key : schema.join_keys) {
    size_t found = rows.key_columns.size();
    for (size_t c = 0; c < rows.key_columns.size(); ++c) {
      if (rows.key_columns[c].name == key.name) found = c;
    }
    if (found == rows.key_columns.size()) {
      return InvalidArgumentError("entity rows lack join key '" + key.name + "' of view '" +
                                  schema.version_id + "'; add that column");
    }
    if (!(rows.key_columns[found].type == key.type)) {
      return InvalidArgumentError("entity rows give join key '" + key.name + "' as " +
                                  catalog::ValueTypeName(rows.key_columns[found].type) +
                                  " but view '" + schema.version_id + "' needs " +
                                  catalog::ValueTypeName(key.type));
    }
    columns.push_back(found);
  }
  SortedEntities out;
  std::vector<uint32_t> offset(n);
  std::vector<uint32_t> length(n);
  out.arena.reserve(n * 9 * columns.size());
  for (size_t i = 0; i < n; ++i) {
    offset[i] = static_cast<uint32_t>(out.arena.size());
    for (size_t c : columns) {
      CUSTOS_RETURN_IF_ERROR(AppendKeyCell(rows.keys[c], i, rows.key_columns[c].name, out.arena));
    }
    length[i] = static_cast<uint32_t>(out.arena.size() - offset[i]);
    if (out.arena.size() > std::numeric_limits<uint32_t>::max()) {
      return InvalidArgumentError("entity keys too large (over 4 GiB encoded)");
    }
  }
  std::vector<SortItem> items(n);
  bool short_keys = true;
  for (size_t i = 0; i < n; ++i) {
    std::string_view k = std::string_view(out.arena).substr(offset[i], length[i]);
    items[i] = {KeyPrefix(k), rows.ts[i], static_cast<uint32_t>(i), length[i]};
    short_keys = short_keys && length[i] <= 8;
  }
  const std::string& arena = out.arena;
  auto less = [&](const SortItem& a, const SortItem& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    if (short_keys) {
      if (a.length != b.length) return a.length < b.length;
    } else {
      int c = std::string_view(arena)
                  .substr(offset[a.row], a.length)
                  .compare(std::string_view(arena).substr(offset[b.row], b.length));
      if (c != 0) return c < 0;
    }
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.row < b.row;
  };
  if (threads >= 2 && n >= 65536) {
    const auto mid = items.begin() + static_cast<ptrdiff_t>(n / 2);
    RunThreads(2, [&](int t) {
      if (t == 0) {
        std::sort(items.begin(), mid, less);
      } else {
        std::sort(mid, items.end(), less);
      }
    });
    std::inplace_merge(items.begin(), mid, items.end(), less);
  } else {
    std::sort(items.begin(), items.end(), less);
  }
  out.order.resize(n);
  out.prefix.resize(n);
  out.key_offset.resize(n);
  out.key_length.resize(n);
  out.ts.resize(n);
  for (size_t s = 0; s < n; ++s) {
    const SortItem& it = items[s];
    out.order[s] = it.row;
    out.prefix[s] = it.prefix;
    out.key_offset[s] = offset[it.row];
    out.key_length[s] = it.length;
    out.ts[s] = it.ts;
  }
  return out;
}

// A signature of the join-key set, so views with the same keys share one sort.
std::string KeySignature(const OfflineViewSchema& schema) {
  std::string sig;
  for (const Column& c : schema.join_keys) {
    sig += c.name;
    sig.push_back('\0');
    sig += catalog::ValueTypeName(c.type);
    sig.push_back('\0');
  }
  return sig;
}

// Per sorted entity row: the best candidate so far.
struct Best {
  std::vector<int64_t> event_ts;
  std::vector<int64_t> created_ts;
  std::vector<uint32_t> block;
  std::vector<uint32_t> row;
};

struct ThreadRange {
  size_t lo = 0;
  size_t hi = 0;
};

std::vector<ThreadRange> SplitAtKeys(const SortedEntities& e, int threads) {
  std::vector<ThreadRange> ranges;
  const size_t n = e.size();
  size_t lo = 0;
  for (int t = 0; t < threads; ++t) {
    size_t hi = t + 1 == threads ? n : std::max(lo, n * (t + 1) / threads);
    while (hi > lo && hi < n && e.SameKey(hi, hi - 1)) ++hi;
    ranges.push_back({lo, hi});
    lo = hi;
  }
  return ranges;
}

// Phase 1 for one thread: merge entity rows [range) against every block meeting them.
Status ScanBlocks(const OfflineViewReader& reader, const SortedEntities& e, ThreadRange range,
                  int64_t ttl, bool created_filter, Best& best, size_t& scanned) {
  KeyRuns runs;
  std::vector<int64_t> ev;
  std::vector<int64_t> cr;
  const std::vector<OfflineBlockInfo>& blocks = reader.blocks();
  for (size_t b = 0; b < blocks.size(); ++b) {
    const OfflineBlockInfo& info = blocks[b];
    const uint64_t first_prefix = KeyPrefix(info.first_key);
    size_t count = range.hi - range.lo;
    size_t s = range.lo;
    while (count > 0) {  // first s with key(s) >= first_key
      size_t step = count / 2;
      if (e.Compare(s + step, info.first_key, first_prefix) < 0) {
        s += step + 1;
        count -= step + 1;
      } else {
        count = step;
      }
    }
    if (s >= range.hi || e.Compare(s, info.last_key, KeyPrefix(info.last_key)) > 0) continue;
    ++scanned;
    CUSTOS_RETURN_IF_ERROR(reader.VisitColumns(
        b, kKeyColumn, kCreatedTsColumn, [](uint32_t) { return true; },
        [&](uint32_t column, std::string_view plain) -> Status {
          if (column == kKeyColumn) return DecodeKeyBlock(plain, info.rows, runs);
          return DecodeInt64Block(plain, info.rows, column == kEventTsColumn ? ev : cr);
        }));
    const uint64_t block_id = info.block_id;
    for (size_t r = 0; r < runs.runs() && s < range.hi; ++r) {
      const std::string_view k = runs.key(r);
      const uint64_t kp = KeyPrefix(k);
      int c = e.Compare(s, k, kp);
      while (c < 0 && ++s < range.hi) c = e.Compare(s, k, kp);
      if (s >= range.hi) break;
      if (c > 0) continue;
      const uint32_t rs = runs.run_start[r];
      const uint32_t re = runs.run_start[r + 1];
      uint32_t p = rs;
      for (; s < range.hi && e.Compare(s, k, kp) == 0; ++s) {
        const int64_t t = e.ts[s];
        while (p < re && ev[p] <= t) ++p;
        const int64_t lower = ttl <= 0 ? std::numeric_limits<int64_t>::min()
                              : t < std::numeric_limits<int64_t>::min() + ttl
                                  ? std::numeric_limits<int64_t>::min()
                                  : t - ttl;
        uint32_t q = p;
        if (created_filter) {
          while (q > rs && ev[q - 1] >= lower && cr[q - 1] > t) --q;
        }
        if (q == rs || ev[q - 1] < lower) continue;
        const uint32_t row = q - 1;
        const int64_t cand_ev = ev[row];
        const int64_t cand_cr = cr[row];
        uint32_t& best_block = best.block[s];
        bool better = best_block == kNoBlock || cand_ev > best.event_ts[s] ||
                      (cand_ev == best.event_ts[s] &&
                       (cand_cr > best.created_ts[s] ||
                        (cand_cr == best.created_ts[s] && block_id > blocks[best_block].block_id)));
        if (better) {
          best_block = static_cast<uint32_t>(b);
          best.row[s] = row;
          best.event_ts[s] = cand_ev;
          best.created_ts[s] = cand_cr;
        }
      }
    }
  }
  return Status::Ok();
}

// Copies the winning rows of one decoded feature column into `dst` (input order); varlen
// bytes go to the thread's `arena`.
void Scatter(const ColumnVector& column, const SortedEntities& e, const Best& best,
             const std::vector<uint32_t>& grouped, uint32_t begin, uint32_t end, ColumnVector& dst,
             std::string& arena) {
  const bool varlen = IsVarlen(column.type);
  for (uint32_t g = begin; g < end; ++g) {
    const uint32_t s = grouped[g];
    const uint32_t row = best.row[s];
    const uint32_t i = e.order[s];
    if (column.valid[row] == 0) continue;  // stays null
    dst.valid[i] = 1;
    if (varlen) {
      dst.fixed[i] = arena.size();
      dst.lengths[i] = column.lengths[row];
      arena.append(column.BytesAt(row));
    } else {
      dst.fixed[i] = column.fixed[row];
    }
  }
}

// Phase 2 for one thread: decrypt each requested feature of every block that won a row in
// [range) and copy the winners into `out` (input order); varlen bytes go to `arenas`.
Status Materialize(const OfflineViewReader& reader, const SortedEntities& e, ThreadRange range,
                   const Best& best, const std::vector<size_t>& features,
                   std::vector<ColumnVector>& out, size_t out_first,
                   std::vector<std::string>& arenas, size_t& materialized, size_t& matched) {
  // Winners grouped by block (counting sort on the block index).
  const size_t blocks = reader.blocks().size();
  std::vector<uint32_t> per_block(blocks + 1, 0);
  for (size_t s = range.lo; s < range.hi; ++s) {
    if (best.block[s] != kNoBlock) ++per_block[best.block[s] + 1];
  }
  for (size_t b = 0; b < blocks; ++b) per_block[b + 1] += per_block[b];
  matched = per_block[blocks];
  std::vector<uint32_t> grouped(matched);
  {
    std::vector<uint32_t> fill(per_block.begin(), per_block.end() - 1);
    for (size_t s = range.lo; s < range.hi; ++s) {
      if (best.block[s] != kNoBlock) grouped[fill[best.block[s]]++] = static_cast<uint32_t>(s);
    }
  }
  ColumnVector column;
  // Output slot of each stored feature column (several when a feature is asked twice).
  std::vector<std::vector<size_t>> slots(reader.schema().features.size());
  uint32_t lo = std::numeric_limits<uint32_t>::max();
  uint32_t hi = 0;
  for (size_t j = 0; j < features.size(); ++j) {
    slots[features[j]].push_back(j);
    lo = std::min(lo, kFirstFeatureColumn + static_cast<uint32_t>(features[j]));
    hi = std::max(hi, kFirstFeatureColumn + static_cast<uint32_t>(features[j]));
  }
  if (features.empty()) return Status::Ok();
  auto wanted = [&](uint32_t c) { return !slots[c - kFirstFeatureColumn].empty(); };
  for (size_t b = 0; b < blocks; ++b) {
    const uint32_t begin = per_block[b];
    const uint32_t end = per_block[b + 1];
    if (begin == end) continue;
    ++materialized;
    const uint32_t rows = reader.blocks()[b].rows;
    CUSTOS_RETURN_IF_ERROR(
        reader.VisitColumns(b, lo, hi, wanted, [&](uint32_t c, std::string_view plain) -> Status {
          const size_t f = c - kFirstFeatureColumn;
          CUSTOS_RETURN_IF_ERROR(
              DecodeColumnBlock(plain, reader.schema().features[f].type, rows, column));
          for (size_t j : slots[f])
            Scatter(column, e, best, grouped, begin, end, out[out_first + j], arenas[j]);
          return Status::Ok();
        }));
  }
  return Status::Ok();
}

}  // namespace

Result<PitResult> PointInTimeJoin(OfflineStore& store, const EntityRows& rows,
                                  const std::vector<PitViewRequest>& views,
                                  const PitOptions& options) {
  const int threads = std::clamp(options.threads, 1, 64);
  const size_t n = rows.size();
  PitResult result;
  result.rows = n;
  for (const ColumnVector& k : rows.keys) {
    if (k.size() != n) {
      return InvalidArgumentError("entity rows are ragged: a key column has " +
                                  std::to_string(k.size()) + " rows, the timestamps " +
                                  std::to_string(n));
    }
  }
  // Resolve the requested features and the output names first, so that bad requests fail
  // before any decryption.
  std::set<std::string> names;
  for (const Column& c : rows.key_columns) names.insert(c.name);
  names.insert(rows.timestamp_column);
  for (const std::string& c : rows.extra_names) names.insert(c);
  std::vector<std::vector<size_t>> feature_index(views.size());
  for (size_t v = 0; v < views.size(); ++v) {
    const OfflineViewSchema& schema = views[v].schema;
    std::vector<std::string> wanted = views[v].features;
    if (wanted.empty()) {
      for (const Column& c : schema.features) wanted.push_back(c.name);
    }
    for (const std::string& name : wanted) {
      size_t found = schema.features.size();
      for (size_t f = 0; f < schema.features.size(); ++f) {
        if (schema.features[f].name == name) found = f;
      }
      if (found == schema.features.size()) {
        std::string known;
        for (const Column& c : schema.features) known += (known.empty() ? "" : ", ") + c.name;
        return InvalidArgumentError("unknown feature '" + name + "' in view '" + schema.version_id +
                                    "' (it has: " + known + ")");
      }
      feature_index[v].push_back(found);
      std::string out_name = options.full_feature_names ? schema.version_id + "__" + name : name;
      if (!names.insert(out_name).second) {
        return InvalidArgumentError("output column '" + out_name +
                                    "' would appear twice (an entity column or another view "
                                    "has it); request full feature names");
      }
      result.columns.push_back({out_name, schema.features[found].type});
    }
  }
  for (const Column& c : result.columns) {
    result.values.emplace_back(c.type);
    result.values.back().Resize(n);
  }

  std::map<std::string, SortedEntities> sorted;
  size_t out_first = 0;
  for (size_t v = 0; v < views.size(); ++v) {
    const PitViewRequest& request = views[v];
    const std::string sig = KeySignature(request.schema);
    auto it = sorted.find(sig);
    if (it == sorted.end()) {
      CUSTOS_ASSIGN_OR_RETURN(SortedEntities e, SortEntities(rows, request.schema, threads));
      it = sorted.emplace(sig, std::move(e)).first;
    }
    const SortedEntities& e = it->second;
    CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<OfflineViewReader> reader,
                            store.OpenView(request.schema));
    PitViewStats stats;
    stats.version_id = request.schema.version_id;
    stats.blocks_total = reader->blocks().size();
    const std::vector<size_t>& features = feature_index[v];

    Best best;
    best.event_ts.resize(n);
    best.created_ts.resize(n);
    best.block.assign(n, kNoBlock);
    best.row.resize(n);
    const int used_threads = n < 1024 ? 1 : threads;
    const std::vector<ThreadRange> ranges = SplitAtKeys(e, used_threads);
    std::vector<Status> status(used_threads);
    std::vector<size_t> scanned(used_threads, 0);
    std::vector<size_t> materialized(used_threads, 0);
    std::vector<size_t> matched(used_threads, 0);
    std::vector<std::vector<std::string>> arenas(used_threads,
                                                 std::vector<std::string>(features.size()));
    RunThreads(used_threads, [&](int t) {
      status[t] = ScanBlocks(*reader, e, ranges[t], request.ttl_micros,
                             options.require_created_before_ts, best, scanned[t]);
      if (!status[t].ok()) return;
      status[t] = Materialize(*reader, e, ranges[t], best, features, result.values, out_first,
                              arenas[t], materialized[t], matched[t]);
    });
    for (const Status& s : status) CUSTOS_RETURN_IF_ERROR(s);
    // Join the threads' arenas: thread t's offsets move by the bytes of threads before it.
    for (size_t j = 0; j < features.size(); ++j) {
      ColumnVector& dst = result.values[out_first + j];
      if (!IsVarlen(dst.type)) continue;
      dst.arena = std::move(arenas[0][j]);
      for (int t = 1; t < used_threads; ++t) {
        const uint64_t base = dst.arena.size();
        dst.arena.append(arenas[t][j]);
        for (size_t s = ranges[t].lo; s < ranges[t].hi; ++s) {
          const uint32_t i = e.order[s];
          if (dst.valid[i] != 0) dst.fixed[i] += base;
        }
      }
    }
    for (int t = 0; t < used_threads; ++t) {
      stats.blocks_scanned += scanned[t];
      stats.blocks_materialized += materialized[t];
      stats.rows_matched += matched[t];
    }
    result.views.push_back(std::move(stats));
    out_first += features.size();
  }
  return result;
}

}  // namespace custos::features
