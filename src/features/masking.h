// Value masking for feature reads that policy allows only in masked form: applies a
// feature's catalog::MaskRule to single values (online reads) and to columns (training sets).
// Thread-safety: pure functions over values; safe from any thread.
//
// Exact semantics (null in gives null out for every rule; a list is masked element by
// element and stays a list of the masked type):
//   redact        string: ASCII letters become 'x' (lower case) or 'X' (upper case), ASCII
//                 digits 'n', every other byte (punctuation, spaces, UTF-8 sequences) is kept.
//   null          any type: the value becomes null.
//   show_last:N   string: all but the last N characters redacted as above. Characters are
//                 UTF-8 code points (a byte that is not 10xxxxxx starts one), so a
//                 multi-byte character is never split; N at least the length shows it all.
//   show_first:N  string: all but the first N characters redacted, likewise.
//   hash          string or int64: lowercase hex SHA-256 of the value's text (the string's
//                 bytes; the int64 in decimal, "-42"). Unkeyed, so guessable for small
//                 domains: policies that need unlinkability use pseudonyms (pseudonym.h).
//   range:W       int64 or double v: the text "[lo, hi)" with k = floor(v / W), lo = k * W,
//                 hi = (k + 1) * W, each printed as the shortest text that parses back
//                 (std::to_chars), "-0" printed as "0". For an int64 v and a whole W below
//                 2^63 the arithmetic is exact in integers, e.g. 150 -> "[100, 200)",
//                 -1 -> "[-100, 0)", INT64_MIN -> "[-9223372036854775900,
//                 -9223372036854775800)". Otherwise it is in doubles, e.g. range:0.5 on
//                 7.3 -> "[7, 7.5)". NaN, infinities, and bounds that are not finite give
//                 null. Beyond 2^53 * W doubles cannot tell k from k + 1, so lo may equal hi.
//   year          timestamp: January 1st 00:00:00 UTC of its (proleptic Gregorian) year,
//                 also before 1970 (1969-12-31T23:59:59Z -> 1969-01-01T00:00:00Z); null when
//                 that instant is below the int64 microsecond range (years before -290307).
// A value the rule does not fit (see catalog::CheckMaskFits, e.g. redact on an int64) is
// masked to null: fail closed rather than leak the raw value.
#pragma once

#include "catalog/mask_rule.h"
#include "catalog/value_type.h"
#include "common/status.h"
#include "features/offline_columns.h"

namespace custos::features {

// The type of masked values: redact, show_*, hash and range give string; null keeps the
// input type; year gives timestamp. is_list is kept.
catalog::ValueType MaskedType(const catalog::MaskRule& rule, catalog::ValueType type);

// Masks one value (semantics above). Never throws.
catalog::Value ApplyMask(const catalog::MaskRule& rule, const catalog::Value& value);

// Masks every cell of `in` into `out`, which is replaced by a column of
// MaskedType(rule, in.type) with as many cells (`out` may be `in`). Same semantics as
// ApplyMask, except that a rule that does not fit the column's element type is
// InvalidArgument (naming the rule and type) rather than a column of nulls, and a list cell
// that does not decode is DataLoss.
Status MaskColumn(const catalog::MaskRule& rule, const ColumnVector& in, ColumnVector& out);

}  // namespace custos::features
