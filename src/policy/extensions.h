// The Cedar extension types: parsing and printing of ipaddr, decimal, datetime and
// duration values, and the operations their methods perform.
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "policy/value.h"

namespace custos::policy {

// `ip("...")`: IPv4 dotted quad or IPv6 text form, optionally with `/prefix`. IPv4 embedded
// in IPv6 (e.g. "::ffff:1.2.3.4"), leading zeros in IPv4 octets or prefixes, and strings
// longer than 43 bytes are rejected, as Cedar does.
Result<IpAddr> ParseIpAddr(std::string_view text);
// `decimal("...")`: -?[0-9]+.[0-9]{1,4}, range of a signed 64-bit count of 10^-4 units.
Result<Decimal> ParseDecimal(std::string_view text);
// `datetime("...")`: YYYY-MM-DD, optionally Thh:mm:ss, optional .SSS, then Z or (+|-)hhmm.
Result<Datetime> ParseDatetime(std::string_view text);
// `duration("...")`: -?(Nd)?(Nh)?(Nm)?(Ns)?(Nms)? with at least one component.
Result<Duration> ParseDuration(std::string_view text);

// "10.0.0.1/24", "::1/128".
std::string FormatIpAddr(const IpAddr& ip);
// "1.5000" style with 4 fractional digits.
std::string FormatDecimal(Decimal d);

bool IpIsLoopback(const IpAddr& ip);
bool IpIsMulticast(const IpAddr& ip);
// True if the range of `child` lies within the range of `parent` (same family only).
bool IpIsInRange(const IpAddr& child, const IpAddr& parent);

// datetime methods; nullopt on overflow.
std::optional<Datetime> DatetimeOffset(Datetime dt, Duration d);
std::optional<Duration> DatetimeDurationSince(Datetime a, Datetime b);
std::optional<Datetime> DatetimeToDate(Datetime dt);
Duration DatetimeToTime(Datetime dt);

}  // namespace custos::policy
