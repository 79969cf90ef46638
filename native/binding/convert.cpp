#include "binding/convert.h"

#include <cmath>

#include "core/common/error.h"

namespace camtrack::binding {
namespace {
[[noreturn]] void Bad(const char* key, const char* expected, const Napi::Value& v) {
  const char* received = v.IsUndefined() ? "undefined" : v.IsNull() ? "null" : v.IsNumber() ? "a number"
                         : v.IsString()  ? "a string"
                         : v.IsBoolean() ? "a boolean"
                                         : "an object";
  throw Error(ErrorCode::kInvalidArgument, "binding",
              std::string("Expected ") + expected + " for " + key + " in the native config but received " + received,
              "this is a bug in camtrack's config layer; please report it");
}
}  // namespace

double RequireNumber(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) Bad(key, "number", v);
  return v.As<Napi::Number>().DoubleValue();
}

int RequireInt(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) Bad(key, "integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != std::trunc(d) || std::abs(d) > 2147483647.0) Bad(key, "integer", v);
  return int(d);
}

bool RequireBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) Bad(key, "boolean", v);
  return v.As<Napi::Boolean>().Value();
}

std::string RequireString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) Bad(key, "string", v);
  return v.As<Napi::String>().Utf8Value();
}

std::vector<double> RequireNumbers(const Napi::Object& o, const char* key) {
  std::vector<double> out;
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) Bad(key, "array of numbers", v);
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) Bad(key, "array of numbers", v);
    out.push_back(e.As<Napi::Number>().DoubleValue());
  }
  return out;
}

std::vector<double> OptionalNumbers(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return {};
  return RequireNumbers(o, key);
}

Napi::Object RequireObject(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject() || v.IsArray()) Bad(key, "object", v);
  return v.As<Napi::Object>();
}

size_t RequireOneOf(const Napi::Object& o, const char* key, std::initializer_list<const char*> names) {
  const std::string v = RequireString(o, key);
  std::string accepted;
  size_t i = 0;
  for (const char* n : names) {
    if (v == n) return i;
    accepted += (i++ ? ", '" : "'") + std::string(n) + "'";
  }
  throw Error(ErrorCode::kInvalidArgument, "binding",
              std::string("Expected one of ") + accepted + " for " + key + " in the native config but received '" + v + "'",
              "this is a bug in camtrack's config layer; please report it");
}

}  // namespace camtrack::binding
