#include "binding/args.h"

#include <cmath>

#include "core/common/error.h"

namespace camtrack::binding {
namespace {

// "-1 of type number", "'x' of type string", "undefined", "an object".
std::string Describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    std::string s = std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15 ? std::to_string(int64_t(d))
                                                                                   : std::to_string(d);
    return s + " of type number";
  }
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 40) + "…";
    return "'" + s + "' of type string";
  }
  if (v.IsBoolean()) return std::string(v.As<Napi::Boolean>().Value() ? "true" : "false") + " of type boolean";
  if (v.IsFunction()) return "a function";
  if (v.IsArray()) return "an array";
  if (v.IsTypedArray()) return "a typed array";
  return "an object";
}

[[noreturn]] void Bad(const std::string& expected, const std::string& name, const Napi::Value& v) {
  throw Error(ErrorCode::kInvalidArgument, "binding",
              "Expected " + expected + " for " + name + " but received " + Describe(v),
              "the addon's functions are called by the camtrack package itself; use its public API");
}

Napi::Value At(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

}  // namespace

int ArgInt(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max) {
  const Napi::Value v = At(info, index);
  const std::string expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!v.IsNumber()) Bad(expected, name, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::trunc(d)) || d < double(min) || d > double(max)) Bad(expected, name, v);
  return int(d);
}

int64_t ArgInteger(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max) {
  const Napi::Value v = At(info, index);
  const std::string expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!v.IsNumber()) Bad(expected, name, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::trunc(d)) || d < double(min) || d > double(max)) Bad(expected, name, v);
  return int64_t(d);
}

Napi::Uint8Array ArgUint8Array(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = At(info, index);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    Bad("a Uint8Array or Buffer", name, v);
  return v.As<Napi::Uint8Array>();
}

bool ArgBool(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = At(info, index);
  if (!v.IsBoolean()) Bad("a boolean", name, v);
  return v.As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = At(info, index);
  if (!v.IsString()) Bad("a string", name, v);
  return v.As<Napi::String>().Utf8Value();
}

std::string ArgOptionalString(const Napi::CallbackInfo& info, size_t index, const char* name, const char* fallback) {
  const Napi::Value v = At(info, index);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) Bad("a string or undefined", name, v);
  return v.As<Napi::String>().Utf8Value();
}

Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = At(info, index);
  if (!v.IsFunction()) Bad("a function", name, v);
  return v.As<Napi::Function>();
}

Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = At(info, index);
  if (!v.IsObject() || v.IsArray() || v.IsFunction()) Bad("an object", name, v);
  return v.As<Napi::Object>();
}

Napi::Array ArgArray(const Napi::CallbackInfo& info, size_t index, const char* name) {
  const Napi::Value v = At(info, index);
  if (!v.IsArray()) Bad("an array", name, v);
  return v.As<Napi::Array>();
}

Napi::Float32Array ArgFloat32Array(const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    Bad("a Float32Array", name, v);
  return v.As<Napi::Float32Array>();
}

}  // namespace camtrack::binding
