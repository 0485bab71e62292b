// Lexer and recursive-descent parser for Cedar policies. Expressions go straight into
// each policy's contiguous node pool; literal-only subtrees (negative numbers, constant
// sets and records, extension constructors of valid literal strings) are folded at parse
// time so that requests do not rebuild them.
#include "policy/parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "policy/extensions.h"

namespace custos::policy {

namespace {

enum class Tok : uint8_t {
  kEof,
  kIdent,
  kInt,
  kString,
  kSlot,  // ?name
  kAt,
  kDot,
  kComma,
  kSemi,
  kColon,
  kColonColon,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kEqEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kOrOr,
  kAndAnd,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kBang,
  kAssign,
  kError,
};

struct Token {
  Tok kind = Tok::kEof;
  std::string_view text;  // raw text (for strings: including quotes)
  SourceLoc loc;
};

bool IsIdentStart(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

// Decodes one UTF-8 sequence at s[i]; returns its length (1 for invalid bytes).
size_t Utf8Decode(std::string_view s, size_t i, uint32_t* cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  if (len == 1) {
    *cp = c;
    return 1;
  }
  uint32_t v = c & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) v = (v << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  *cp = v;
  return len;
}

bool IsUnicodeSpace(uint32_t cp) {
  return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Token Next() {
    SkipSpace();
    Token t;
    t.loc = {line_, static_cast<uint32_t>(pos_ - line_start_ + 1)};
    if (pos_ >= src_.size()) {
      t.kind = Tok::kEof;
      return t;
    }
    size_t start = pos_;
    char c = src_[pos_];
    auto two = [&](char next) { return pos_ + 1 < src_.size() && src_[pos_ + 1] == next; };
    auto emit = [&](Tok k, size_t len) {
      pos_ += len;
      t.kind = k;
      t.text = src_.substr(start, len);
      return t;
    };
    if (IsIdentStart(c)) {
      size_t e = pos_ + 1;
      while (e < src_.size() && IsIdentChar(src_[e])) ++e;
      return emit(Tok::kIdent, e - pos_);
    }
    if (c >= '0' && c <= '9') {
      size_t e = pos_ + 1;
      while (e < src_.size() && src_[e] >= '0' && src_[e] <= '9') ++e;
      return emit(Tok::kInt, e - pos_);
    }
    if (c == '"') {
      size_t e = pos_ + 1;
      while (e < src_.size() && src_[e] != '"') {
        if (src_[e] == '\\' && e + 1 < src_.size()) ++e;
        if (src_[e] == '\n') {
          ++line_;
          line_start_ = e + 1;
        }
        ++e;
      }
      if (e >= src_.size()) return emit(Tok::kError, src_.size() - pos_);
      return emit(Tok::kString, e + 1 - pos_);
    }
    if (c == '?') {
      size_t e = pos_ + 1;
      if (e < src_.size() && IsIdentStart(src_[e])) {
        while (e < src_.size() && IsIdentChar(src_[e])) ++e;
        return emit(Tok::kSlot, e - pos_);
      }
      return emit(Tok::kError, 1);
    }
    switch (c) {
      case '@':
        return emit(Tok::kAt, 1);
      case '.':
        return emit(Tok::kDot, 1);
      case ',':
        return emit(Tok::kComma, 1);
      case ';':
        return emit(Tok::kSemi, 1);
      case ':':
        return two(':') ? emit(Tok::kColonColon, 2) : emit(Tok::kColon, 1);
      case '(':
        return emit(Tok::kLParen, 1);
      case ')':
        return emit(Tok::kRParen, 1);
      case '{':
        return emit(Tok::kLBrace, 1);
      case '}':
        return emit(Tok::kRBrace, 1);
      case '[':
        return emit(Tok::kLBracket, 1);
      case ']':
        return emit(Tok::kRBracket, 1);
      case '=':
        return two('=') ? emit(Tok::kEqEq, 2) : emit(Tok::kAssign, 1);
      case '!':
        return two('=') ? emit(Tok::kNe, 2) : emit(Tok::kBang, 1);
      case '<':
        return two('=') ? emit(Tok::kLe, 2) : emit(Tok::kLt, 1);
      case '>':
        return two('=') ? emit(Tok::kGe, 2) : emit(Tok::kGt, 1);
      case '|':
        return two('|') ? emit(Tok::kOrOr, 2) : emit(Tok::kError, 1);
      case '&':
        return two('&') ? emit(Tok::kAndAnd, 2) : emit(Tok::kError, 1);
      case '+':
        return emit(Tok::kPlus, 1);
      case '-':
        return emit(Tok::kMinus, 1);
      case '*':
        return emit(Tok::kStar, 1);
      case '/':
        return emit(Tok::kSlash, 1);
      case '%':
        return emit(Tok::kPercent, 1);
      default: {
        uint32_t cp;
        size_t len = Utf8Decode(src_, pos_, &cp);
        return emit(Tok::kError, len);
      }
    }
  }

 private:
  void SkipSpace() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '\n') {
        ++pos_;
        ++line_;
        line_start_ = pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else if (static_cast<unsigned char>(c) >= 0x80) {
        uint32_t cp;
        size_t len = Utf8Decode(src_, pos_, &cp);
        if (!IsUnicodeSpace(cp)) return;
        pos_ += len;
      } else {
        return;
      }
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
};

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Unescapes the body of a string literal (Rust-style escapes, as Cedar uses). With
// `pattern`, `\*` becomes a literal star and unescaped `*` a wildcard.
// Returns an error description, or empty on success.
std::string Unescape(std::string_view body, bool pattern, std::string* out, Pattern* pat) {
  std::string lit;
  auto flush = [&] {
    if (pat && !lit.empty()) {
      pat->push_back(PatternElem{false, lit});
      lit.clear();
    }
  };
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '*' && pattern) {
      flush();
      if (pat->empty() || !pat->back().wildcard) pat->push_back(PatternElem{true, {}});
      continue;
    }
    if (c != '\\') {
      lit.push_back(c);
      continue;
    }
    if (++i >= body.size()) return "string ends with a backslash";
    char e = body[i];
    switch (e) {
      case 'n':
        lit.push_back('\n');
        break;
      case 'r':
        lit.push_back('\r');
        break;
      case 't':
        lit.push_back('\t');
        break;
      case '0':
        lit.push_back('\0');
        break;
      case '\\':
        lit.push_back('\\');
        break;
      case '"':
        lit.push_back('"');
        break;
      case '\'':
        lit.push_back('\'');
        break;
      case '*':
        if (!pattern) return "invalid escape `\\*` (only allowed in `like` patterns)";
        lit.push_back('*');
        break;
      case 'x': {
        if (i + 2 >= body.size()) return "incomplete `\\x` escape";
        int hi = -1, lo = -1;
        char a = body[i + 1], b = body[i + 2];
        auto hex = [](char ch) {
          if (ch >= '0' && ch <= '9') return ch - '0';
          if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
          if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
          return -1;
        };
        hi = hex(a);
        lo = hex(b);
        if (hi < 0 || lo < 0) return "invalid `\\x` escape";
        if (hi > 7) return "`\\x` escape must be at most \\x7F";
        lit.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      case 'u': {
        if (i + 1 >= body.size() || body[i + 1] != '{') return "expected `{` after `\\u`";
        size_t j = i + 2;
        uint32_t cp = 0;
        size_t digits = 0;
        while (j < body.size() && body[j] != '}') {
          char h = body[j];
          int v = (h >= '0' && h <= '9')   ? h - '0'
                  : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                  : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                           : -1;
          if (v < 0) return "invalid hex digit in `\\u{...}` escape";
          cp = cp * 16 + static_cast<uint32_t>(v);
          if (++digits > 6) return "`\\u{...}` escape has more than 6 hex digits";
          ++j;
        }
        if (j >= body.size()) return "unterminated `\\u{...}` escape";
        if (digits == 0) return "empty `\\u{}` escape";
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          return "`\\u{...}` escape is not a Unicode scalar value";
        }
        AppendUtf8(cp, &lit);
        i = j;
        break;
      }
      default:
        return std::string("invalid escape `\\") + e + "`";
    }
  }
  if (pat) {
    flush();
  } else {
    *out = std::move(lit);
  }
  return "";
}

bool IsReserved(std::string_view id) {
  return id == "true" || id == "false" || id == "if" || id == "then" || id == "else" ||
         id == "in" || id == "is" || id == "like" || id == "has" || id == "__cedar";
}

struct ExtFnInfo {
  std::string_view name;
  ExtFn fn;
  bool constructor;
  int arity;
};

constexpr ExtFnInfo kExtFns[] = {
    {"ip", ExtFn::kIp, true, 1},
    {"decimal", ExtFn::kDecimal, true, 1},
    {"datetime", ExtFn::kDatetime, true, 1},
    {"duration", ExtFn::kDuration, true, 1},
    {"isIpv4", ExtFn::kIsIpv4, false, 1},
    {"isIpv6", ExtFn::kIsIpv6, false, 1},
    {"isLoopback", ExtFn::kIsLoopback, false, 1},
    {"isMulticast", ExtFn::kIsMulticast, false, 1},
    {"isInRange", ExtFn::kIsInRange, false, 2},
    {"lessThan", ExtFn::kLessThan, false, 2},
    {"lessThanOrEqual", ExtFn::kLessThanOrEqual, false, 2},
    {"greaterThan", ExtFn::kGreaterThan, false, 2},
    {"greaterThanOrEqual", ExtFn::kGreaterThanOrEqual, false, 2},
    {"offset", ExtFn::kOffset, false, 2},
    {"durationSince", ExtFn::kDurationSince, false, 2},
    {"toDate", ExtFn::kToDate, false, 1},
    {"toTime", ExtFn::kToTime, false, 1},
    {"toDays", ExtFn::kToDays, false, 1},
    {"toHours", ExtFn::kToHours, false, 1},
    {"toMinutes", ExtFn::kToMinutes, false, 1},
    {"toSeconds", ExtFn::kToSeconds, false, 1},
    {"toMilliseconds", ExtFn::kToMilliseconds, false, 1},
};

const ExtFnInfo* FindExtFn(std::string_view name) {
  for (const auto& info : kExtFns) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

// An expression under construction: its node index and the depth of its subtree.
struct Ex {
  uint32_t node = 0;
  int depth = 1;
};

class Parser {
 public:
  Parser(std::string_view src, const ParseOptions& options) : lex_(src), options_(options) {
    Advance();
  }

  Result<std::vector<Policy>> ParseAll() {
    std::vector<Policy> out;
    std::set<std::string, std::less<>> ids;
    while (tok_.kind != Tok::kEof) {
      Policy p;
      p.id = options_.id_prefix + std::to_string(out.size());
      CUSTOS_RETURN_IF_ERROR(ParseOne(&p));
      if (options_.use_id_annotation) {
        if (auto id = p.FindAnnotation("id")) p.id = std::string(*id);
      }
      if (!ids.insert(p.id).second) {
        return Error(p.loc, "duplicate policy id `" + p.id + "`");
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  Status ParseSingle(Policy* p) {
    CUSTOS_RETURN_IF_ERROR(ParseOne(p));
    if (tok_.kind != Tok::kEof) return Expected("end of input after the policy");
    return Status::Ok();
  }

 private:
  // ---- token helpers ----
  void Advance() { tok_ = lex_.Next(); }
  bool IsIdent(std::string_view word) const {
    return tok_.kind == Tok::kIdent && tok_.text == word;
  }

  Status Error(SourceLoc loc, const std::string& msg) const {
    return InvalidArgumentError(options_.filename + ":" + std::to_string(loc.line) + ":" +
                                std::to_string(loc.column) + ": " + msg);
  }
  Status Expected(std::string_view what) const {
    std::string found = tok_.kind == Tok::kEof ? "end of input"
                        : tok_.kind == Tok::kError
                            ? "invalid character `" + std::string(tok_.text) + "`"
                            : "`" + std::string(tok_.text) + "`";
    return Error(tok_.loc, "expected " + std::string(what) + ", found " + found);
  }
  Status Expect(Tok kind, std::string_view what) {
    if (tok_.kind != kind) return Expected(what);
    Advance();
    return Status::Ok();
  }

  Result<std::string> StringLiteral(const Token& t) {
    std::string out;
    std::string err = Unescape(t.text.substr(1, t.text.size() - 2), false, &out, nullptr);
    if (!err.empty()) return Error(t.loc, err);
    return out;
  }

  // ---- policies ----
  Status ParseOne(Policy* p) {
    pool_ = &p->pool;
    p->filename = options_.filename;
    std::set<std::string, std::less<>> keys;
    while (tok_.kind == Tok::kAt) {
      Annotation a;
      a.loc = tok_.loc;
      Advance();
      if (tok_.kind != Tok::kIdent) return Expected("annotation name after '@'");
      if (IsReserved(tok_.text)) {
        return Error(tok_.loc,
                     "`" + std::string(tok_.text) + "` is reserved; pick another annotation name");
      }
      a.key = std::string(tok_.text);
      Advance();
      if (tok_.kind == Tok::kLParen) {
        Advance();
        if (tok_.kind != Tok::kString) return Expected("string literal as annotation value");
        CUSTOS_ASSIGN_OR_RETURN(a.value, StringLiteral(tok_));
        Advance();
        CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' after annotation value"));
      }
      if (!keys.insert(a.key).second) {
        return Error(a.loc, "duplicate annotation `@" + a.key + "`");
      }
      p->annotations.push_back(std::move(a));
    }
    p->loc = tok_.loc;
    if (IsIdent("permit")) {
      p->effect = Effect::kPermit;
    } else if (IsIdent("forbid")) {
      p->effect = Effect::kForbid;
    } else {
      return Expected("`permit` or `forbid`");
    }
    Advance();
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kLParen, "'(' after the effect"));
    CUSTOS_RETURN_IF_ERROR(ParseScope(Var::kPrincipal, &p->principal));
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kComma, "',' after the principal constraint"));
    CUSTOS_RETURN_IF_ERROR(ParseScope(Var::kAction, &p->action));
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kComma, "',' after the action constraint"));
    CUSTOS_RETURN_IF_ERROR(ParseScope(Var::kResource, &p->resource));
    if (tok_.kind == Tok::kComma) Advance();  // Cedar tolerates a trailing comma
    CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRParen, "')' after the resource constraint"));
    while (IsIdent("when") || IsIdent("unless")) {
      Condition c;
      c.is_when = tok_.text == "when";
      c.loc = tok_.loc;
      Advance();
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{' after `when`/`unless`"));
      if (tok_.kind == Tok::kRBrace)
        return Error(tok_.loc, "empty condition body; write an expression");
      depth_ = 0;
      CUSTOS_ASSIGN_OR_RETURN(Ex e, ParseExpr());
      c.expr = e.node;
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRBrace, "'}' after the condition"));
      p->conditions.push_back(c);
    }
    if (tok_.kind != Tok::kSemi) return Expected("`when`, `unless` or ';' to end the policy");
    Advance();
    return Status::Ok();
  }

  Result<std::string> ParsePathAfterFirst(std::string first) {
    // Called with the first identifier consumed; reads `::Ident` while the next is an ident.
    std::string path = std::move(first);
    while (tok_.kind == Tok::kColonColon) {
      Lexer save_lex = lex_;
      Token save_tok = tok_;
      Advance();
      if (tok_.kind != Tok::kIdent) {
        lex_ = save_lex;
        tok_ = save_tok;
        break;
      }
      if (IsReserved(tok_.text)) {
        return Error(tok_.loc, "`" + std::string(tok_.text) + "` is a reserved identifier");
      }
      path += "::";
      path += tok_.text;
      Advance();
    }
    return path;
  }

  // Entity literal `Path::"id"`.
  Result<EntityUid> ParseEntityLiteral(std::string_view what) {
    if (tok_.kind != Tok::kIdent) return Expected(what);
    if (IsReserved(tok_.text)) {
      return Error(tok_.loc, "`" + std::string(tok_.text) + "` is a reserved identifier");
    }
    std::string first(tok_.text);
    Advance();
    CUSTOS_ASSIGN_OR_RETURN(std::string path, ParsePathAfterFirst(std::move(first)));
    if (tok_.kind != Tok::kColonColon) return Expected("'::\"id\"' to complete the entity");
    Advance();
    if (tok_.kind != Tok::kString) return Expected("entity id string after '::'");
    CUSTOS_ASSIGN_OR_RETURN(std::string id, StringLiteral(tok_));
    Advance();
    return EntityUid(path, id);
  }

  static bool IsActionType(std::string_view type) {
    return type == "Action" || (type.size() > 8 && type.substr(type.size() - 8) == "::Action");
  }

  Result<EntityRef> ParseEntityOrSlot(Var var) {
    EntityRef ref;
    if (tok_.kind == Tok::kSlot) {
      if (var == Var::kPrincipal && tok_.text == "?principal") {
        ref.is_slot = true;
        ref.slot = SlotId::kPrincipal;
      } else if (var == Var::kResource && tok_.text == "?resource") {
        ref.is_slot = true;
        ref.slot = SlotId::kResource;
      } else {
        return Error(tok_.loc, "slot `" + std::string(tok_.text) + "` is not allowed here; use " +
                                   (var == Var::kPrincipal ? "?principal" : "?resource"));
      }
      Advance();
      return ref;
    }
    CUSTOS_ASSIGN_OR_RETURN(ref.uid, ParseEntityLiteral("an entity like `Type::\"id\"`"));
    return ref;
  }

  Status ParseScope(Var var, ScopeConstraint* sc) {
    std::string_view name = VarName(var);
    sc->loc = tok_.loc;
    if (!IsIdent(name)) return Expected("`" + std::string(name) + "`");
    Advance();
    if (tok_.kind == Tok::kEqEq) {
      Advance();
      sc->op = ScopeConstraint::Op::kEq;
      CUSTOS_ASSIGN_OR_RETURN(sc->entity, ParseEntityOrSlot(var));
    } else if (IsIdent("in")) {
      Advance();
      sc->op = ScopeConstraint::Op::kIn;
      if (var == Var::kAction && tok_.kind == Tok::kLBracket) {
        Advance();
        sc->op = ScopeConstraint::Op::kInSet;
        while (tok_.kind != Tok::kRBracket) {
          SourceLoc loc = tok_.loc;
          CUSTOS_ASSIGN_OR_RETURN(EntityUid uid, ParseEntityLiteral("an action entity"));
          if (!IsActionType(uid.type())) {
            return Error(
                loc, "expected an action entity (type `Action`), found `" + uid.ToString() + "`");
          }
          sc->entities.push_back(std::move(uid));
          if (tok_.kind == Tok::kComma) {
            Advance();
          } else if (tok_.kind != Tok::kRBracket) {
            return Expected("',' or ']' in the action list");
          }
        }
        Advance();
        return Status::Ok();
      }
      CUSTOS_ASSIGN_OR_RETURN(sc->entity, ParseEntityOrSlot(var));
    } else if (IsIdent("is")) {
      if (var == Var::kAction) return Error(tok_.loc, "`is` is not allowed on the action");
      Advance();
      if (tok_.kind != Tok::kIdent || IsReserved(tok_.text))
        return Expected("an entity type after `is`");
      std::string first(tok_.text);
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(sc->entity_type, ParsePathAfterFirst(std::move(first)));
      sc->op = ScopeConstraint::Op::kIs;
      if (IsIdent("in")) {
        Advance();
        sc->op = ScopeConstraint::Op::kIsIn;
        CUSTOS_ASSIGN_OR_RETURN(sc->entity, ParseEntityOrSlot(var));
      }
    } else if (tok_.kind == Tok::kAssign) {
      return Error(tok_.loc, "`=` is not an operator here; use `==`");
    } else {
      return Status::Ok();
    }
    if (var == Var::kAction && !sc->entity.is_slot && !IsActionType(sc->entity.uid.type())) {
      return Error(sc->loc, "expected an action entity (type `Action`), found `" +
                                sc->entity.uid.ToString() + "`");
    }
    return Status::Ok();
  }

  // ---- expressions ----
  Result<Ex> Add(ExprNode n, std::initializer_list<Ex> kids) {
    int depth = 1;
    for (const Ex& k : kids) depth = std::max(depth, k.depth + 1);
    if (depth > options_.max_depth) {
      return Error(
          n.loc, "expression nested too deeply (limit " + std::to_string(options_.max_depth) + ")");
    }
    pool_->nodes.push_back(n);
    return Ex{static_cast<uint32_t>(pool_->nodes.size() - 1), depth};
  }
  Result<Ex> Binary(ExprKind kind, Ex a, Ex b, SourceLoc loc) {
    ExprNode n;
    n.kind = kind;
    n.a = a.node;
    n.b = b.node;
    n.loc = loc;
    return Add(n, {a, b});
  }
  Result<Ex> Unary(ExprKind kind, Ex a, SourceLoc loc) {
    ExprNode n;
    n.kind = kind;
    n.a = a.node;
    n.loc = loc;
    return Add(n, {a});
  }
  Result<Ex> Literal(Value v, SourceLoc loc) {
    ExprNode n;
    n.kind = ExprKind::kLiteral;
    n.data = static_cast<uint32_t>(pool_->literals.size());
    n.loc = loc;
    pool_->literals.push_back(std::move(v));
    return Add(n, {});
  }
  bool IsLiteral(Ex e) const { return pool_->nodes[e.node].kind == ExprKind::kLiteral; }
  const Value& LiteralOf(Ex e) const { return pool_->literals[pool_->nodes[e.node].data]; }
  // A list node (set, record values, extension call arguments).
  Result<Ex> List(ExprNode n, const std::vector<Ex>& items) {
    n.first = static_cast<uint32_t>(pool_->children.size());
    n.count = static_cast<uint32_t>(items.size());
    int depth = 1;
    for (const Ex& e : items) {
      pool_->children.push_back(e.node);
      depth = std::max(depth, e.depth + 1);
    }
    if (depth > options_.max_depth) {
      return Error(n.loc, "expression nested too deeply");
    }
    pool_->nodes.push_back(n);
    return Ex{static_cast<uint32_t>(pool_->nodes.size() - 1), depth};
  }

  // Guards the recursion of the parser itself (parentheses, brackets, unary chains).
  struct DepthGuard {
    explicit DepthGuard(int* d) : d_(d) { ++*d_; }
    ~DepthGuard() { --*d_; }
    int* d_;
  };

  Result<Ex> ParseExpr() {
    DepthGuard guard(&depth_);
    if (depth_ > options_.max_nesting) {
      return Error(tok_.loc, "expression nested too deeply (limit " +
                                 std::to_string(options_.max_nesting) + ")");
    }
    if (IsIdent("if")) {
      SourceLoc loc = tok_.loc;
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex c, ParseExpr());
      if (!IsIdent("then")) return Expected("`then`");
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex t, ParseExpr());
      if (!IsIdent("else")) return Expected("`else`");
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex e, ParseExpr());
      ExprNode n;
      n.kind = ExprKind::kIf;
      n.a = c.node;
      n.b = t.node;
      n.c = e.node;
      n.loc = loc;
      return Add(n, {c, t, e});
    }
    return ParseOr();
  }

  Result<Ex> ParseOr() {
    CUSTOS_ASSIGN_OR_RETURN(Ex lhs, ParseAnd());
    while (tok_.kind == Tok::kOrOr) {
      SourceLoc loc = tok_.loc;
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex rhs, ParseAnd());
      CUSTOS_ASSIGN_OR_RETURN(lhs, Binary(ExprKind::kOr, lhs, rhs, loc));
    }
    return lhs;
  }

  Result<Ex> ParseAnd() {
    CUSTOS_ASSIGN_OR_RETURN(Ex lhs, ParseRelation());
    while (tok_.kind == Tok::kAndAnd) {
      SourceLoc loc = tok_.loc;
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex rhs, ParseRelation());
      CUSTOS_ASSIGN_OR_RETURN(lhs, Binary(ExprKind::kAnd, lhs, rhs, loc));
    }
    return lhs;
  }

  std::optional<ExprKind> RelOp() const {
    switch (tok_.kind) {
      case Tok::kEqEq:
        return ExprKind::kEq;
      case Tok::kNe:
        return ExprKind::kNe;
      case Tok::kLt:
        return ExprKind::kLt;
      case Tok::kLe:
        return ExprKind::kLe;
      case Tok::kGt:
        return ExprKind::kGt;
      case Tok::kGe:
        return ExprKind::kGe;
      case Tok::kIdent:
        if (tok_.text == "in") return ExprKind::kIn;
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  uint32_t AddString(std::string s) {
    pool_->strings.push_back(std::move(s));
    return static_cast<uint32_t>(pool_->strings.size() - 1);
  }

  Result<Ex> HasNode(Ex target, std::string attr, SourceLoc loc) {
    ExprNode n;
    n.kind = ExprKind::kHas;
    n.a = target.node;
    n.data = AddString(std::move(attr));
    n.loc = loc;
    return Add(n, {target});
  }

  Result<Ex> GetAttrNode(Ex target, std::string attr, SourceLoc loc) {
    ExprNode n;
    n.kind = ExprKind::kGetAttr;
    n.a = target.node;
    n.data = AddString(std::move(attr));
    n.loc = loc;
    return Add(n, {target});
  }

  Result<Ex> ParseRelation() {
    CUSTOS_ASSIGN_OR_RETURN(Ex lhs, ParseAdd());
    SourceLoc loc = tok_.loc;
    if (auto op = RelOp()) {
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex rhs, ParseAdd());
      if (RelOp() || IsIdent("has") || IsIdent("like") || IsIdent("is")) {
        return Error(tok_.loc, "comparison operators cannot be chained; add parentheses");
      }
      return Binary(*op, lhs, rhs, loc);
    }
    if (tok_.kind == Tok::kAssign) {
      return Error(tok_.loc, "`=` is not an operator; use `==`");
    }
    if (IsIdent("has")) {
      Advance();
      std::vector<std::string> path;
      if (tok_.kind == Tok::kString) {
        CUSTOS_ASSIGN_OR_RETURN(std::string s, StringLiteral(tok_));
        path.push_back(std::move(s));
        Advance();
      } else if (tok_.kind == Tok::kIdent) {
        if (tok_.text == "true" || tok_.text == "false") {
          return Expected("an attribute name or string after `has`");
        }
        path.emplace_back(tok_.text);
        Advance();
        while (tok_.kind == Tok::kDot) {
          Advance();
          if (tok_.kind != Tok::kIdent) return Expected("an attribute name after '.'");
          path.emplace_back(tok_.text);
          Advance();
        }
      } else {
        return Expected("an attribute name or string after `has`");
      }
      // `e has a.b.c` means `e has a && e.a has b && e.a.b has c`.
      CUSTOS_ASSIGN_OR_RETURN(Ex result, HasNode(lhs, path[0], loc));
      Ex prefix = lhs;
      for (size_t i = 1; i < path.size(); ++i) {
        CUSTOS_ASSIGN_OR_RETURN(prefix, GetAttrNode(prefix, path[i - 1], loc));
        CUSTOS_ASSIGN_OR_RETURN(Ex has, HasNode(prefix, path[i], loc));
        CUSTOS_ASSIGN_OR_RETURN(result, Binary(ExprKind::kAnd, result, has, loc));
      }
      if (RelOp()) return Error(tok_.loc, "unexpected operator after `has`; add parentheses");
      return result;
    }
    if (IsIdent("like")) {
      Advance();
      if (tok_.kind != Tok::kString) return Expected("a string pattern after `like`");
      Pattern pat;
      std::string unused;
      std::string err = Unescape(tok_.text.substr(1, tok_.text.size() - 2), true, &unused, &pat);
      if (!err.empty()) return Error(tok_.loc, err);
      Advance();
      ExprNode n;
      n.kind = ExprKind::kLike;
      n.a = lhs.node;
      n.data = static_cast<uint32_t>(pool_->patterns.size());
      n.loc = loc;
      pool_->patterns.push_back(std::move(pat));
      return Add(n, {lhs});
    }
    if (IsIdent("is")) {
      Advance();
      if (tok_.kind != Tok::kIdent || IsReserved(tok_.text)) {
        return Expected("an entity type after `is`");
      }
      std::string first(tok_.text);
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(std::string type, ParsePathAfterFirst(std::move(first)));
      ExprNode n;
      n.kind = ExprKind::kIs;
      n.a = lhs.node;
      n.data = AddString(std::move(type));
      n.loc = loc;
      if (IsIdent("in")) {
        Advance();
        CUSTOS_ASSIGN_OR_RETURN(Ex rhs, ParseAdd());
        n.b = rhs.node;
        return Add(n, {lhs, rhs});
      }
      return Add(n, {lhs});
    }
    return lhs;
  }

  Result<Ex> ParseAdd() {
    CUSTOS_ASSIGN_OR_RETURN(Ex lhs, ParseMult());
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      ExprKind kind = tok_.kind == Tok::kPlus ? ExprKind::kAdd : ExprKind::kSub;
      SourceLoc loc = tok_.loc;
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex rhs, ParseMult());
      CUSTOS_ASSIGN_OR_RETURN(lhs, Binary(kind, lhs, rhs, loc));
    }
    return lhs;
  }

  Result<Ex> ParseMult() {
    CUSTOS_ASSIGN_OR_RETURN(Ex lhs, ParseUnary());
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) {
      if (tok_.kind != Tok::kStar) {
        return Error(tok_.loc, "Cedar has no division or remainder operator");
      }
      SourceLoc loc = tok_.loc;
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(Ex rhs, ParseUnary());
      CUSTOS_ASSIGN_OR_RETURN(lhs, Binary(ExprKind::kMul, lhs, rhs, loc));
    }
    return lhs;
  }

  Result<Ex> ParseUnary() {
    if (tok_.kind != Tok::kBang && tok_.kind != Tok::kMinus) return ParseMember();
    Tok op = tok_.kind;
    SourceLoc loc = tok_.loc;
    int count = 0;
    while (tok_.kind == op) {
      ++count;
      Advance();
    }
    if (count > 4) {
      return Error(
          loc, "too many `" + std::string(op == Tok::kBang ? "!" : "-") + "` in a row (at most 4)");
    }
    if (op == Tok::kMinus && tok_.kind == Tok::kInt) {
      // `-N` is a negative literal (so that i64::MIN is writable); the rest are negations.
      Token num = tok_;
      CUSTOS_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(num));
      Lexer save_lex = lex_;
      Advance();
      bool has_access =
          tok_.kind == Tok::kDot || tok_.kind == Tok::kLBracket || tok_.kind == Tok::kLParen;
      lex_ = save_lex;
      tok_ = num;
      if (!has_access) {
        Advance();
        const uint64_t min_mag = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1;
        if (n > min_mag)
          return Error(num.loc, "integer literal `" + std::string(num.text) + "` is out of range");
        int64_t v = n == min_mag ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(n);
        CUSTOS_ASSIGN_OR_RETURN(Ex e, Literal(Value(v), loc));
        for (int i = 1; i < count; ++i) {
          CUSTOS_ASSIGN_OR_RETURN(e, Unary(ExprKind::kNeg, e, loc));
        }
        return e;
      }
    }
    CUSTOS_ASSIGN_OR_RETURN(Ex e, ParseMember());
    for (int i = 0; i < count; ++i) {
      CUSTOS_ASSIGN_OR_RETURN(e, Unary(op == Tok::kBang ? ExprKind::kNot : ExprKind::kNeg, e, loc));
    }
    return e;
  }

  Result<uint64_t> ParseUnsigned(const Token& t) {
    uint64_t v = 0;
    for (char c : t.text) {
      uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) {
        return Error(t.loc, "integer literal `" + std::string(t.text) + "` is out of range");
      }
      v = v * 10 + d;
    }
    return v;
  }

  Result<std::vector<Ex>> ParseArgs(Tok close, std::string_view what) {
    std::vector<Ex> args;
    while (tok_.kind != close) {
      CUSTOS_ASSIGN_OR_RETURN(Ex e, ParseExpr());
      args.push_back(e);
      if (tok_.kind == Tok::kComma) {
        Advance();
      } else if (tok_.kind != close) {
        return Expected(what);
      }
    }
    Advance();
    return args;
  }

  // Folds an extension constructor applied to a literal string that parses; leaves
  // invalid ones as calls, so they error at evaluation as in Cedar.
  std::optional<Value> FoldConstructor(ExtFn fn, const Value& arg) {
    if (!arg.is(ValueKind::kString)) return std::nullopt;
    const std::string& s = arg.AsString();
    switch (fn) {
      case ExtFn::kIp: {
        auto r = ParseIpAddr(s);
        if (r.ok()) return Value(*r);
        break;
      }
      case ExtFn::kDecimal: {
        auto r = ParseDecimal(s);
        if (r.ok()) return Value(*r);
        break;
      }
      case ExtFn::kDatetime: {
        auto r = ParseDatetime(s);
        if (r.ok()) return Value(*r);
        break;
      }
      case ExtFn::kDuration: {
        auto r = ParseDuration(s);
        if (r.ok()) return Value(*r);
        break;
      }
      default:
        break;
    }
    return std::nullopt;
  }

  Result<Ex> ExtCall(const ExtFnInfo& info, std::vector<Ex> args, SourceLoc loc) {
    // A wrong number of arguments is an evaluation error in Cedar, not a parse error.
    if (info.constructor && args.size() == 1 && IsLiteral(args[0])) {
      if (auto v = FoldConstructor(info.fn, LiteralOf(args[0]))) return Literal(*v, loc);
    }
    ExprNode n;
    n.kind = ExprKind::kExtCall;
    n.fn = info.fn;
    n.loc = loc;
    return List(n, args);
  }

  Result<Ex> Method(Ex target, std::string_view name, std::vector<Ex> args, SourceLoc loc) {
    struct Builtin {
      std::string_view name;
      ExprKind kind;
      size_t args;
    };
    static constexpr Builtin kBuiltins[] = {
        {"contains", ExprKind::kContains, 1},       {"containsAll", ExprKind::kContainsAll, 1},
        {"containsAny", ExprKind::kContainsAny, 1}, {"isEmpty", ExprKind::kIsEmpty, 0},
        {"getTag", ExprKind::kGetTag, 1},           {"hasTag", ExprKind::kHasTag, 1},
    };
    for (const auto& b : kBuiltins) {
      if (b.name != name) continue;
      if (args.size() != b.args) {
        return Error(loc, "`" + std::string(name) + "` takes " + std::to_string(b.args) +
                              " argument(s), got " + std::to_string(args.size()));
      }
      if (b.args == 0) return Unary(b.kind, target, loc);
      return Binary(b.kind, target, args[0], loc);
    }
    const ExtFnInfo* info = FindExtFn(name);
    if (info == nullptr) {
      return Error(
          loc, "`" + std::string(name) +
                   "` is not a method; known methods are contains, "
                   "containsAll, containsAny, isEmpty, getTag, hasTag and the extension methods");
    }
    if (info->constructor) {
      return Error(loc, "`" + std::string(name) + "` is a function, not a method; write `" +
                            std::string(name) + "(...)`");
    }
    args.insert(args.begin(), target);
    return ExtCall(*info, std::move(args), loc);
  }

  Result<Ex> ParseMember() {
    CUSTOS_ASSIGN_OR_RETURN(Ex e, ParsePrimary());
    while (true) {
      if (tok_.kind == Tok::kDot) {
        Advance();
        if (tok_.kind != Tok::kIdent) return Expected("an attribute or method name after '.'");
        std::string name(tok_.text);
        SourceLoc loc = tok_.loc;
        Advance();
        if (tok_.kind == Tok::kLParen) {
          Advance();
          CUSTOS_ASSIGN_OR_RETURN(std::vector<Ex> args,
                                  ParseArgs(Tok::kRParen, "',' or ')' in the argument list"));
          CUSTOS_ASSIGN_OR_RETURN(e, Method(e, name, std::move(args), loc));
        } else {
          CUSTOS_ASSIGN_OR_RETURN(e, GetAttrNode(e, std::move(name), loc));
        }
      } else if (tok_.kind == Tok::kLBracket) {
        SourceLoc loc = tok_.loc;
        Advance();
        if (tok_.kind != Tok::kString) return Expected("a string literal inside '[ ]'");
        CUSTOS_ASSIGN_OR_RETURN(std::string attr, StringLiteral(tok_));
        Advance();
        CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']'"));
        CUSTOS_ASSIGN_OR_RETURN(e, GetAttrNode(e, std::move(attr), loc));
      } else if (tok_.kind == Tok::kLParen) {
        return Error(tok_.loc, "this expression cannot be called like a function");
      } else {
        return e;
      }
    }
  }

  Result<Ex> ParsePrimary() {
    Token t = tok_;
    switch (t.kind) {
      case Tok::kInt: {
        Advance();
        CUSTOS_ASSIGN_OR_RETURN(uint64_t n, ParseUnsigned(t));
        if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Error(t.loc, "integer literal `" + std::string(t.text) + "` is out of range");
        }
        return Literal(Value(static_cast<int64_t>(n)), t.loc);
      }
      case Tok::kString: {
        Advance();
        CUSTOS_ASSIGN_OR_RETURN(std::string s, StringLiteral(t));
        return Literal(Value::String(s), t.loc);
      }
      case Tok::kSlot:
        return Error(t.loc, "template slots are only allowed in the policy scope");
      case Tok::kLParen: {
        Advance();
        CUSTOS_ASSIGN_OR_RETURN(Ex e, ParseExpr());
        CUSTOS_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
        return e;
      }
      case Tok::kLBracket: {
        Advance();
        CUSTOS_ASSIGN_OR_RETURN(std::vector<Ex> items,
                                ParseArgs(Tok::kRBracket, "',' or ']' in the set"));
        bool all_literal =
            std::all_of(items.begin(), items.end(), [&](Ex e) { return IsLiteral(e); });
        if (all_literal) {
          std::vector<Value> values;
          values.reserve(items.size());
          for (Ex e : items) values.push_back(LiteralOf(e));
          return Literal(Value::Set(std::move(values)), t.loc);
        }
        ExprNode n;
        n.kind = ExprKind::kSet;
        n.loc = t.loc;
        return List(n, items);
      }
      case Tok::kLBrace:
        return ParseRecord();
      case Tok::kIdent:
        break;
      default:
        return Expected("an expression");
    }
    // Identifiers: literals, variables, entity references, function calls.
    if (t.text == "true" || t.text == "false") {
      Advance();
      return Literal(Value(t.text == "true"), t.loc);
    }
    static constexpr std::pair<std::string_view, Var> kVars[] = {{"principal", Var::kPrincipal},
                                                                 {"action", Var::kAction},
                                                                 {"resource", Var::kResource},
                                                                 {"context", Var::kContext}};
    Advance();
    if (tok_.kind != Tok::kColonColon && tok_.kind != Tok::kLParen) {
      for (const auto& [name, var] : kVars) {
        if (t.text == name) {
          ExprNode n;
          n.kind = ExprKind::kVar;
          n.var = var;
          n.loc = t.loc;
          return Add(n, {});
        }
      }
      if (IsReserved(t.text)) {
        return Error(t.loc, "unexpected keyword `" + std::string(t.text) + "`");
      }
      return Error(t.loc, "unknown variable `" + std::string(t.text) +
                              "`; variables are principal, action, resource and context");
    }
    if (IsReserved(t.text))
      return Error(t.loc, "`" + std::string(t.text) + "` is a reserved identifier");
    CUSTOS_ASSIGN_OR_RETURN(std::string path, ParsePathAfterFirst(std::string(t.text)));
    if (tok_.kind == Tok::kLParen) {
      SourceLoc loc = tok_.loc;
      Advance();
      CUSTOS_ASSIGN_OR_RETURN(std::vector<Ex> args,
                              ParseArgs(Tok::kRParen, "',' or ')' in the argument list"));
      const ExtFnInfo* info = FindExtFn(path);
      if (info == nullptr) {
        return Error(t.loc, "unknown function `" + path +
                                "`; functions are ip, decimal, datetime and duration");
      }
      if (!info->constructor) {
        return Error(t.loc, "`" + path + "` is a method; write `x." + path + "(...)`");
      }
      (void)loc;
      return ExtCall(*info, std::move(args), t.loc);
    }
    if (tok_.kind != Tok::kColonColon) return Expected("'::' and an entity id");
    Advance();
    if (tok_.kind == Tok::kLBrace) {
      return Error(tok_.loc,
                   "entity references with `{...}` are not supported; write Type::\"id\"");
    }
    if (tok_.kind != Tok::kString) return Expected("entity id string after '::'");
    CUSTOS_ASSIGN_OR_RETURN(std::string id, StringLiteral(tok_));
    Advance();
    return Literal(Value(EntityUid(path, id)), t.loc);
  }

  Result<Ex> ParseRecord() {
    SourceLoc loc = tok_.loc;
    Advance();  // '{'
    std::vector<std::string> keys;
    std::vector<Ex> values;
    std::set<std::string, std::less<>> seen;
    while (tok_.kind != Tok::kRBrace) {
      std::string key;
      SourceLoc key_loc = tok_.loc;
      if (tok_.kind == Tok::kString) {
        CUSTOS_ASSIGN_OR_RETURN(key, StringLiteral(tok_));
      } else if (tok_.kind == Tok::kIdent && tok_.text != "true" && tok_.text != "false") {
        key = std::string(tok_.text);
      } else {
        return Expected("a record key (identifier or string)");
      }
      Advance();
      CUSTOS_RETURN_IF_ERROR(Expect(Tok::kColon, "':' after the record key"));
      CUSTOS_ASSIGN_OR_RETURN(Ex v, ParseExpr());
      if (!seen.insert(key).second) {
        return Error(key_loc, "duplicate key `" + key + "` in record literal");
      }
      keys.push_back(std::move(key));
      values.push_back(v);
      if (tok_.kind == Tok::kComma) {
        Advance();
      } else if (tok_.kind != Tok::kRBrace) {
        return Expected("',' or '}' in the record");
      }
    }
    Advance();
    bool all_literal =
        std::all_of(values.begin(), values.end(), [&](Ex e) { return IsLiteral(e); });
    if (all_literal) {
      std::vector<std::pair<std::string, Value>> fields;
      for (size_t i = 0; i < keys.size(); ++i) fields.emplace_back(keys[i], LiteralOf(values[i]));
      return Literal(Value::Record(std::move(fields)), loc);
    }
    ExprNode n;
    n.kind = ExprKind::kRecord;
    n.loc = loc;
    n.data = static_cast<uint32_t>(pool_->strings.size());
    for (auto& k : keys) pool_->strings.push_back(std::move(k));
    return List(n, values);
  }

  Lexer lex_;
  Token tok_;
  const ParseOptions& options_;
  ExprPool* pool_ = nullptr;
  int depth_ = 0;
};

}  // namespace

std::string_view VarName(Var var) {
  switch (var) {
    case Var::kPrincipal:
      return "principal";
    case Var::kAction:
      return "action";
    case Var::kResource:
      return "resource";
    case Var::kContext:
      return "context";
  }
  return "?";
}

std::string_view ExtFnName(ExtFn fn) {
  for (const auto& info : kExtFns) {
    if (info.fn == fn) return info.name;
  }
  return "?";
}

bool ExtFnFromName(std::string_view name, ExtFn* fn) {
  const ExtFnInfo* info = FindExtFn(name);
  if (info == nullptr) return false;
  *fn = info->fn;
  return true;
}

bool ExtFnIsConstructor(ExtFn fn) {
  for (const auto& info : kExtFns) {
    if (info.fn == fn) return info.constructor;
  }
  return false;
}

int ExtFnArity(ExtFn fn) {
  for (const auto& info : kExtFns) {
    if (info.fn == fn) return info.arity;
  }
  return 0;
}

std::optional<std::string_view> Policy::FindAnnotation(std::string_view key) const {
  for (const auto& a : annotations) {
    if (a.key == key) return std::string_view(a.value);
  }
  return std::nullopt;
}

Result<std::vector<Policy>> ParsePolicies(std::string_view text, const ParseOptions& options) {
  Parser parser(text, options);
  return parser.ParseAll();
}

Result<Policy> ParsePolicy(std::string_view text, std::string_view id,
                           const ParseOptions& options) {
  Parser parser(text, options);
  Policy p;
  p.id = std::string(id);
  CUSTOS_RETURN_IF_ERROR(parser.ParseSingle(&p));
  return p;
}

Result<Policy> LinkTemplate(const Policy& templ, std::string_view link_id,
                            const EntityUid* principal, const EntityUid* resource) {
  bool wants_p = templ.principal.entity.is_slot;
  bool wants_r = templ.resource.entity.is_slot;
  if (!wants_p && !wants_r) {
    return InvalidArgumentError("policy `" + templ.id + "` is not a template (it has no slots)");
  }
  if (wants_p != (principal != nullptr)) {
    return InvalidArgumentError(
        "template `" + templ.id +
        "`: " + (wants_p ? "a value for ?principal is required" : "it has no ?principal slot"));
  }
  if (wants_r != (resource != nullptr)) {
    return InvalidArgumentError(
        "template `" + templ.id +
        "`: " + (wants_r ? "a value for ?resource is required" : "it has no ?resource slot"));
  }
  Policy p = templ;
  p.id = std::string(link_id);
  p.template_id = templ.id;
  if (wants_p) {
    p.principal.entity.is_slot = false;
    p.principal.entity.uid = *principal;
  }
  if (wants_r) {
    p.resource.entity.is_slot = false;
    p.resource.entity.uid = *resource;
  }
  return p;
}

}  // namespace custos::policy
