// An injectable clock, so that expiry, rotation schedules and checkpoints can be
// tested without sleeping. Production code takes a `Clock&`; tests pass a FakeClock.
// Thread-safety: SystemClock is stateless; FakeClock is safe for concurrent use.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace custos::common {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// A clock that only moves when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : micros_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(std::chrono::microseconds(micros_.load())); }
  void Advance(std::chrono::microseconds by) { micros_ += by.count(); }
  void Set(TimePoint t) { micros_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> micros_;
};

int64_t ToUnixMicros(TimePoint t);
TimePoint FromUnixMicros(int64_t micros);
int64_t ToUnixSeconds(TimePoint t);
TimePoint FromUnixSeconds(int64_t seconds);

// RFC 3339 in UTC with a 'Z' suffix: "2026-11-22T20:59:00Z" (fraction shown when non-zero).
std::string FormatRfc3339(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)"; errors say which part is wrong.
Result<TimePoint> ParseRfc3339(std::string_view text);

}  // namespace custos::common
