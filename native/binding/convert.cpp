#include "binding/convert.h"

#include "core/common/error.h"

namespace camtrack::binding {
namespace {
[[noreturn]] void Bad(const char* key, const char* expected) {
  throw Error(ErrorCode::kInvalidArgument, "binding",
              std::string("Expected ") + expected + " for " + key + " in the native config",
              "this is a bug in camtrack's config layer; please report it");
}
}  // namespace

double GetNumber(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) Bad(key, "number");
  return v.As<Napi::Number>().DoubleValue();
}

double RequireNumber(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) Bad(key, "number");
  return v.As<Napi::Number>().DoubleValue();
}

bool GetBool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) Bad(key, "boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string GetString(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) Bad(key, "string");
  return v.As<Napi::String>().Utf8Value();
}

std::string RequireString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) Bad(key, "string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<double> GetNumbers(const Napi::Object& o, const char* key) {
  std::vector<double> out;
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return out;
  if (!v.IsArray()) Bad(key, "array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) Bad(key, "array of numbers");
    out.push_back(e.As<Napi::Number>().DoubleValue());
  }
  return out;
}

Napi::Object GetObject(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsObject()) return v.As<Napi::Object>();
  return Napi::Object::New(o.Env());
}

}  // namespace camtrack::binding
