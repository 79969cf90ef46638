// bench_json.h: the one JSON writer of the native benchmark executables (bench/native/*.cpp). Each prints ONE JSON
// object on stdout; the drivers (bench/decode.mjs, bench/jpeg.mjs, bench/native.mjs) parse it and stamp the report
// (src/bench/report.ts). Numbers that are not finite are written as null. Not thread-safe; one writer per object.
//
//   camtrack::bench::Json j;
//   j.Begin().Key("fps").Num(12.5, 2).Key("cases").BeginArray().Str("a").End().End();
//   std::puts(j.str().c_str());
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace camtrack::bench {

class Json {
 public:
  Json& Begin() { return Open('{'); }
  Json& BeginArray() { return Open('['); }
  Json& End() {
    const bool object = stack_.back().object;
    stack_.pop_back();
    s_ += object ? '}' : ']';
    return *this;
  }
  Json& Key(const std::string& k) {
    Comma();
    Quote(k);
    s_ += ':';
    after_key_ = true;
    return *this;
  }
  Json& Str(const std::string& v) {
    Value();
    Quote(v);
    return *this;
  }
  Json& Num(double v, int digits = 3) {
    Value();
    if (!std::isfinite(v)) {
      s_ += "null";
    } else {
      char b[64];
      std::snprintf(b, sizeof b, "%.*f", digits, v);
      s_ += b;
    }
    return *this;
  }
  Json& Int(int64_t v) {
    Value();
    s_ += std::to_string(v);
    return *this;
  }
  Json& Bool(bool v) {
    Value();
    s_ += v ? "true" : "false";
    return *this;
  }
  Json& Null() {
    Value();
    s_ += "null";
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  struct Level {
    bool object;
    bool first = true;
  };
  Json& Open(char c) {
    Value();
    s_ += c;
    stack_.push_back({c == '{'});
    return *this;
  }
  void Comma() {
    if (stack_.empty()) return;
    if (!stack_.back().first) s_ += ',';
    stack_.back().first = false;
  }
  // A value: after a key it follows the colon; in an array it takes a comma.
  void Value() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    Comma();
  }
  void Quote(const std::string& v) {
    s_ += '"';
    for (const unsigned char c : v) {
      if (c == '"' || c == '\\') {
        s_ += '\\';
        s_ += char(c);
      } else if (c < 0x20) {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", c);
        s_ += b;
      } else {
        s_ += char(c);
      }
    }
    s_ += '"';
  }
  std::string s_;
  std::vector<Level> stack_;
  bool after_key_ = false;
};

}  // namespace camtrack::bench
