// JsonWriter: appends JSON text straight to a string, without building a document first.
// For answers on the hot path (online reads), where building and freeing a nlohmann tree
// cost more than the read itself. Strings are escaped as RFC 8259 requires; bytes that are
// not valid UTF-8 become U+FFFD (a feature value must never make an answer unencodable).
// Doubles use the shortest text that reads back to the same value, with ".0" when that
// text would look like an integer, so a JSON reader keeps them floating point; NaN and
// infinities are written as null (JSON has no such numbers).
// Thread-safety: one writer per thread; it only appends to the string it was given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace custos::common {

// Appends `text` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view text);
// Appends the shortest round-trip text of `value` ("1.0", "0.1", "1e+300"), or null.
void AppendJsonDouble(std::string& out, double value);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // An object member's name; the next value is its value.
  void Key(std::string_view name);

  void String(std::string_view text);
  void Int(int64_t value);
  void Double(double value);
  void Bool(bool value);
  void Null();

 private:
  void Open(char bracket);
  void Close(char bracket);
  // Writes the comma that separates this value from the one before it at this level.
  void BeforeValue();

  std::string& out_;
  // Per nesting level (up to 64): whether a value was written at that level yet.
  uint64_t has_value_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace custos::common
