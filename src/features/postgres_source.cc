// PostgreSQL sources over libpq: connection setup (UTC, ISO dates), single-row streaming,
// array-literal parsing, and error messages that never carry the DSN.
#include "features/postgres_source.h"

#include <libpq-fe.h>

#include <functional>
#include <memory>
#include <unordered_map>

namespace custos::features {
namespace {

using source_detail::SourceRowBuilder;
using source_detail::TextDialect;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

// libpq messages end with newlines and may span lines; messages here are one line.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const bool blank = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (!blank) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != ' ') {
      out.push_back(' ');
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Replaces every occurrence of each secret in `text` by "<redacted>".
std::string Redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 10)) {
      text.replace(at, secret.size(), "<redacted>");
    }
  }
  return text;
}

// A connection ready for queries, or an error that names `dsn_origin` but never the DSN.
Result<ConnPtr> Connect(const std::string& dsn, std::string_view context,
                        std::string_view dsn_origin) {
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &parse_error);
  if (parsed == nullptr) {
    // The parser's message quotes the DSN's text, which may hold a password: not shown.
    if (parse_error != nullptr) PQfreemem(parse_error);
    return InvalidArgumentError(std::string(context) + ": the DSN " + std::string(dsn_origin) +
                                " is not a valid libpq connection string (keyword=value pairs "
                                "or a postgresql:// URI); its text is not shown because it may "
                                "hold a password");
  }
  std::vector<std::string> secrets = {dsn};
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && std::string_view(o->keyword) == "password") {
      secrets.emplace_back(o->val);
    }
  }
  PQconninfoFree(parsed);
  ConnPtr conn(PQconnectdb(dsn.c_str()));
  if (conn == nullptr) {
    return ResourceExhaustedError(std::string(context) + ": libpq could not allocate a connection");
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return UnavailableError(std::string(context) + ": cannot connect to PostgreSQL with the DSN " +
                            std::string(dsn_origin) + " (not shown): " +
                            Redact(OneLine(PQerrorMessage(conn.get())), secrets) +
                            "; check that the server runs and that the DSN is right");
  }
  // Server notices (e.g. from a source query's functions) must not reach stderr.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  // Timestamps must come back in one zone and one shape whatever the server's defaults;
  // extra_float_digits=3 makes doubles round-trip exactly on every server version.
  ResultPtr set(PQexec(conn.get(),
                       "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'; "
                       "SET extra_float_digits TO 3"));
  if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
    return UnavailableError(std::string(context) + ": cannot set up the PostgreSQL session: " +
                            Redact(OneLine(PQerrorMessage(conn.get())), secrets));
  }
  return conn;
}

Status QueryError(const PGresult* result, PGconn* conn, std::string_view context) {
  const char* primary =
      result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string message = std::string(context) + ": PostgreSQL error: ";
  if (primary == nullptr) {
    message += OneLine(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
    if (result == nullptr || std::string_view(PQresultErrorMessage(result)).empty()) {
      message += OneLine(PQerrorMessage(conn));
    }
    return UnavailableError(message);
  }
  message += primary;
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
  const char* position = PQresultErrorField(result, PG_DIAG_STATEMENT_POSITION);
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  if (detail != nullptr) message += std::string(" (detail: ") + OneLine(detail) + ")";
  if (hint != nullptr) message += std::string(" (hint: ") + OneLine(hint) + ")";
  if (position != nullptr) message += std::string(" at character ") + position + " of the query";
  const std::string_view state = sqlstate == nullptr ? "" : sqlstate;
  if (!state.empty()) message += " [SQLSTATE " + std::string(state) + "]";
  if (state.starts_with("08") || state.starts_with("53") || state.starts_with("57")) {
    return UnavailableError(message);
  }
  if (state == "42501") return PermissionDeniedError(message);
  return InvalidArgumentError(message);
}

// Runs `sql` in single-row mode: on_columns once with the first result (which describes
// the columns, also for an empty result), then on_row for every row as it arrives.
Status StreamQuery(PGconn* conn, const std::string& sql, std::string_view context,
                   const std::function<Status(const PGresult*)>& on_columns,
                   const std::function<Status(const PGresult*)>& on_row) {
  if (PQsendQuery(conn, sql.c_str()) == 0) return QueryError(nullptr, conn, context);
  if (PQsetSingleRowMode(conn) == 0) {
    return InternalError(std::string(context) + ": libpq refused single-row mode");
  }
  bool described = false;
  bool ended = false;  // the first result set is complete
  Status status;
  // A failure of ours stops the server's work too; the rest is drained so the connection
  // ends cleanly.
  auto fail = [&](Status s) {
    status = std::move(s);
    if (PGcancel* cancel = PQgetCancel(conn); cancel != nullptr) {
      char error[256];
      (void)PQcancel(cancel, error, sizeof(error));
      PQfreeCancel(cancel);
    }
  };
  while (true) {
    ResultPtr result(PQgetResult(conn));
    if (result == nullptr) break;
    if (!status.ok()) continue;  // draining after a failure
    const ExecStatusType kind = PQresultStatus(result.get());
    if (kind == PGRES_SINGLE_TUPLE || kind == PGRES_TUPLES_OK) {
      if (ended) {
        fail(InvalidArgumentError(std::string(context) +
                                  ": the query returned more than one result set; a source "
                                  "query must be a single SELECT statement"));
        continue;
      }
      if (!described) {
        described = true;
        if (Status s = on_columns(result.get()); !s.ok()) {
          fail(std::move(s));
          continue;
        }
      }
      if (kind == PGRES_TUPLES_OK) {
        ended = true;
      } else if (Status s = on_row(result.get()); !s.ok()) {
        fail(std::move(s));
      }
    } else if (kind == PGRES_COMMAND_OK || kind == PGRES_EMPTY_QUERY) {
      fail(InvalidArgumentError(std::string(context) +
                                ": a statement of the query returned no rows description; a "
                                "source query must be a single SELECT statement"));
    } else {
      // The server ended the statement with an error; nothing to cancel.
      status = QueryError(result.get(), conn, context);
    }
  }
  return status;
}

std::string ColumnList(const PGresult* result) {
  std::string out;
  for (int i = 0; i < PQnfields(result); ++i) {
    if (i > 0) out += ", ";
    out += PQfname(result, i);
  }
  return out;
}

Status DuplicateResultColumn(std::string_view context, std::string_view name) {
  std::string message(context);
  message.append(": the result has two columns named '").append(name);
  message.append("' (after field_mapping); alias one of them in the query");
  return InvalidArgumentError(std::move(message));
}

// "SELECT * FROM schema.table" with each part quoted as an identifier.
Result<std::string> SelectFromTable(PGconn* conn, const std::string& table,
                                    std::string_view context) {
  std::string sql = "SELECT * FROM ";
  size_t start = 0;
  while (true) {
    size_t dot = table.find('.', start);
    std::string part =
        table.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) {
      return InvalidArgumentError(std::string(context) + ": table '" + table +
                                  "' has an empty name part; write table or schema.table");
    }
    char* quoted = PQescapeIdentifier(conn, part.data(), part.size());
    if (quoted == nullptr) {
      return InvalidArgumentError(std::string(context) + ": table '" + table +
                                  "' cannot be quoted: " + OneLine(PQerrorMessage(conn)));
    }
    sql += quoted;
    PQfreemem(quoted);
    if (dot == std::string::npos) break;
    sql += '.';
    start = dot + 1;
  }
  return sql;
}

}  // namespace

Result<std::vector<std::optional<std::string>>> ParsePostgresArray(std::string_view text) {
  auto fail = [&](size_t at, std::string_view what) {
    return InvalidArgumentError("malformed array literal at byte " + std::to_string(at + 1) + ": " +
                                std::string(what) + " in '" + source_detail::Excerpt(text) + "'");
  };
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  size_t pos = 0;
  const size_t n = text.size();
  while (pos < n && blank(text[pos])) ++pos;
  if (pos < n && text[pos] == '[') {  // dimension decoration such as [0:1]=
    size_t eq = text.find('=', pos);
    if (eq == std::string_view::npos) return fail(pos, "dimension decoration without '='");
    pos = eq + 1;
  }
  if (pos >= n || text[pos] != '{') return fail(pos, "expected '{'");
  ++pos;
  std::vector<std::optional<std::string>> out;
  while (pos < n && blank(text[pos])) ++pos;
  if (pos < n && text[pos] == '}') {
    ++pos;
  } else {
    while (true) {
      while (pos < n && blank(text[pos])) ++pos;
      if (pos >= n) return fail(pos, "unterminated array, expected '}'");
      std::string element;
      bool quoted_or_escaped = false;
      if (text[pos] == '{') return fail(pos, "nested arrays are not supported (lists are flat)");
      if (text[pos] == '"') {
        quoted_or_escaped = true;
        ++pos;
        while (true) {
          if (pos >= n) return fail(pos, "unterminated quoted element");
          char c = text[pos++];
          if (c == '"') break;
          if (c == '\\') {
            if (pos >= n) return fail(pos, "backslash at the end");
            c = text[pos++];
          }
          element.push_back(c);
        }
      } else {
        size_t trailing_blank = 0;  // blanks at the end are not part of an unquoted element
        while (pos < n && text[pos] != ',' && text[pos] != '}') {
          char c = text[pos++];
          if (c == '"' || c == '{') return fail(pos - 1, "unexpected quote or brace");
          if (c == '\\') {
            if (pos >= n) return fail(pos, "backslash at the end");
            c = text[pos++];
            quoted_or_escaped = true;
            trailing_blank = 0;
          } else if (blank(c)) {
            ++trailing_blank;
          } else {
            trailing_blank = 0;
          }
          element.push_back(c);
        }
        element.resize(element.size() - trailing_blank);
        if (element.empty()) return fail(pos, "empty element");
      }
      if (!quoted_or_escaped && element.size() == 4) {
        std::string lower = element;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "null") {
          out.emplace_back(std::nullopt);
        } else {
          out.emplace_back(std::move(element));
        }
      } else {
        out.emplace_back(std::move(element));
      }
      while (pos < n && blank(text[pos])) ++pos;
      if (pos >= n) return fail(pos, "unterminated array, expected '}'");
      if (text[pos] == ',') {
        ++pos;
        continue;
      }
      if (text[pos] == '}') {
        ++pos;
        break;
      }
      return fail(pos, "expected ',' or '}'");
    }
  }
  while (pos < n && blank(text[pos])) ++pos;
  if (pos != n) return fail(pos, "text after the closing '}'");
  return out;
}

Result<SourceReadResult> ReadPostgresSource(const catalog::DataSource& source,
                                            const std::string& dsn, const SourceColumns& columns,
                                            const SourceReadOptions& options) {
  const std::string context = "source '" + source.name + "'";
  if (source.kind != catalog::SourceKind::kPostgres) {
    return InvalidArgumentError(context + " is a " +
                                std::string(catalog::SourceKindName(source.kind)) +
                                " source; read it with ReadSourceFile");
  }
  if (source.table.empty() == source.query.empty()) {
    return InvalidArgumentError(context + ": give exactly one of table and query");
  }
  CUSTOS_RETURN_IF_ERROR(source_detail::ValidateColumns(columns));
  const std::string origin =
      source.dsn_env.empty() ? "given" : "from environment variable " + source.dsn_env;
  CUSTOS_ASSIGN_OR_RETURN(ConnPtr conn, Connect(dsn, context, origin));
  std::string sql = source.query;
  if (!source.table.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(sql, SelectFromTable(conn.get(), source.table, context));
  }

  SourceRowBuilder builder(columns, options);
  std::vector<int> field_of_slot(builder.num_slots(), -1);
  uint64_t row = 0;
  size_t bytes = 0;
  auto on_columns = [&](const PGresult* result) -> Status {
    std::unordered_map<std::string, int> mapped;
    for (int i = 0; i < PQnfields(result); ++i) {
      std::string name = PQfname(result, i);
      auto renamed = source.field_mapping.find(name);
      if (renamed != source.field_mapping.end()) name = renamed->second;
      if (!mapped.emplace(name, i).second) {
        return DuplicateResultColumn(context, name);
      }
    }
    for (size_t s = 0; s < builder.num_slots(); ++s) {
      auto it = mapped.find(builder.SlotName(s));
      if (it == mapped.end()) {
        return InvalidArgumentError(
            context + ": missing column '" + builder.SlotName(s) +
            "' (the result has: " + ColumnList(result) +
            "; field_mapping: " + source_detail::FieldMappingText(source.field_mapping) +
            "); select the column or map a result column to it with field_mapping");
      }
      field_of_slot[s] = it->second;
    }
    return Status::Ok();
  };
  auto on_row = [&](const PGresult* result) -> Status {
    ++row;
    for (int i = 0; i < PQnfields(result); ++i)
      bytes += static_cast<size_t>(PQgetlength(result, 0, i));
    if (bytes > options.max_input_bytes) {
      return ResourceExhaustedError(
          context + ": the result exceeds " + std::to_string(options.max_input_bytes) +
          " bytes (SourceReadOptions::max_input_bytes) at row " + std::to_string(row) +
          "; ingest it in parts (a query with a time range) or raise the limit");
    }
    builder.BeginRow();
    Status status;
    size_t s = 0;
    int64_t event_ts = 0;
    int64_t created_ts = builder.default_created_ts();
    for (; s < builder.num_slots(); ++s) {
      const int field = field_of_slot[s];
      const bool is_null = PQgetisnull(result, 0, field) != 0;
      const std::string_view text(PQgetvalue(result, 0, field),
                                  static_cast<size_t>(PQgetlength(result, 0, field)));
      const std::string& name = builder.SlotName(s);
      if (s < builder.num_keys()) {
        if (is_null) {
          status = InvalidArgumentError("join key '" + name +
                                        "' is NULL; every row needs its join keys");
        } else {
          status =
              source_detail::AppendTextCell(builder.key(s), text, name, TextDialect::kPostgres);
          if (!status.ok()) status = InvalidArgumentError("join key " + status.message());
        }
      } else if (s < builder.event_slot()) {
        ColumnVector& out = builder.feature(s - builder.num_keys());
        if (is_null) {
          out.AppendNull();
        } else {
          status = source_detail::AppendTextCell(out, text, name, TextDialect::kPostgres);
        }
      } else if (s == builder.event_slot()) {
        if (is_null) {
          status =
              InvalidArgumentError("event timestamp '" + name + "' is NULL; every row needs one");
        } else {
          Result<int64_t> ts =
              source_detail::ParseTimestampText(text, name, TextDialect::kPostgres);
          if (ts.ok()) {
            event_ts = *ts;
          } else {
            status = InvalidArgumentError("malformed event timestamp: " + ts.status().message());
          }
        }
      } else if (!is_null) {
        Result<int64_t> ts = source_detail::ParseTimestampText(text, name, TextDialect::kPostgres);
        if (ts.ok()) {
          created_ts = *ts;
        } else {
          status = InvalidArgumentError("malformed created timestamp: " + ts.status().message());
        }
      }
      if (!status.ok()) break;
    }
    if (!status.ok()) {
      builder.Reject(row,
                     source.name + " row " + std::to_string(row) + ", column " +
                         PQfname(result, field_of_slot[s]),
                     status.message());
    } else {
      builder.Commit(event_ts, created_ts);
    }
    return Status::Ok();
  };
  CUSTOS_RETURN_IF_ERROR(StreamQuery(conn.get(), sql, context, on_columns, on_row));
  return builder.Finish();
}

Result<EntityRows> ReadEntityRowsPostgres(const std::string& dsn, const std::string& query,
                                          const EntityRowsSpec& spec) {
  const std::string context = "entity rows query";
  for (const Column& c : spec.join_keys) {
    if (c.type.is_list) {
      return InvalidArgumentError("join key '" + c.name + "' is a list; join keys are scalar");
    }
  }
  CUSTOS_ASSIGN_OR_RETURN(ConnPtr conn, Connect(dsn, context, "given"));
  EntityRows rows = MakeEntityRows(spec);
  std::vector<int> key_field(spec.join_keys.size(), -1);
  int ts_field = -1;
  std::vector<int> extra_field;
  uint64_t row = 0;
  auto on_columns = [&](const PGresult* result) -> Status {
    std::unordered_map<std::string, int> index;
    for (int i = 0; i < PQnfields(result); ++i) {
      if (!index.emplace(PQfname(result, i), i).second) {
        return InvalidArgumentError(context + ": the result has two columns named '" +
                                    std::string(PQfname(result, i)) +
                                    "'; alias one of them in the query");
      }
    }
    auto find = [&](const std::string& name, std::string_view role) -> Result<int> {
      auto it = index.find(name);
      if (it == index.end()) {
        return InvalidArgumentError(context + ": missing column '" + name + "' (" +
                                    std::string(role) + "; the result has: " + ColumnList(result) +
                                    "); select it in the query");
      }
      return it->second;
    };
    for (size_t k = 0; k < spec.join_keys.size(); ++k) {
      CUSTOS_ASSIGN_OR_RETURN(key_field[k], find(spec.join_keys[k].name, "join key"));
    }
    CUSTOS_ASSIGN_OR_RETURN(ts_field, find(spec.timestamp_column, "entity timestamp"));
    if (spec.keep_other_columns) {
      std::vector<bool> used(static_cast<size_t>(PQnfields(result)), false);
      for (int f : key_field) used[static_cast<size_t>(f)] = true;
      used[static_cast<size_t>(ts_field)] = true;
      for (int i = 0; i < PQnfields(result); ++i) {
        if (used[static_cast<size_t>(i)]) continue;
        extra_field.push_back(i);
        rows.extra_names.emplace_back(PQfname(result, i));
        rows.extras.emplace_back(catalog::ValueType{catalog::ScalarType::kString, false});
      }
    }
    return Status::Ok();
  };
  auto on_row = [&](const PGresult* result) -> Status {
    ++row;
    auto where = [&](int field) {
      return "query row " + std::to_string(row) + ", column " + PQfname(result, field) + ": ";
    };
    auto text_of = [&](int field) {
      return std::string_view(PQgetvalue(result, 0, field),
                              static_cast<size_t>(PQgetlength(result, 0, field)));
    };
    for (size_t k = 0; k < key_field.size(); ++k) {
      const std::string& name = spec.join_keys[k].name;
      if (PQgetisnull(result, 0, key_field[k]) != 0) {
        return InvalidArgumentError(where(key_field[k]) + "join key '" + name +
                                    "' is NULL; every entity row needs it");
      }
      Status s = source_detail::AppendTextCell(rows.keys[k], text_of(key_field[k]), name,
                                               TextDialect::kPostgres);
      if (!s.ok()) return InvalidArgumentError(where(key_field[k]) + "join key " + s.message());
    }
    if (PQgetisnull(result, 0, ts_field) != 0) {
      return InvalidArgumentError(where(ts_field) + "timestamp column '" + spec.timestamp_column +
                                  "' is NULL; every entity row needs a timestamp");
    }
    Result<int64_t> ts = source_detail::ParseTimestampText(text_of(ts_field), spec.timestamp_column,
                                                           TextDialect::kPostgres);
    if (!ts.ok()) {
      return InvalidArgumentError(where(ts_field) +
                                  "malformed timestamp: " + ts.status().message());
    }
    rows.ts.push_back(*ts);
    for (size_t e = 0; e < extra_field.size(); ++e) {
      if (PQgetisnull(result, 0, extra_field[e]) != 0) {
        rows.extras[e].AppendNull();
      } else {
        rows.extras[e].AppendBytes(text_of(extra_field[e]));
      }
    }
    return Status::Ok();
  };
  CUSTOS_RETURN_IF_ERROR(StreamQuery(conn.get(), query, context, on_columns, on_row));
  return rows;
}

}  // namespace custos::features
