#pragma once
// Positional arguments of the binding's entry points (module functions and NativePipeline methods). Each reader
// checks one argument and throws Error(kInvalidArgument, "binding") naming it when it is missing, of the wrong type
// or out of range; Guard() (errors.h) turns that into a CamtrackError with code ERR_CAMTRACK_INVALID_ARGUMENT, so a
// wrong call from JS is an exception there, never a crash here. Message shape (STYLE.md):
//   Expected an integer in [0, 2147483647] for workerIndex but received -1 of type number
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace camtrack::binding {

int ArgInt(const Napi::CallbackInfo& info, size_t index, const char* name, int min, int max);
// An integer JS number in [min, max] (up to 2^53 - 1: kMaxSafeInteger).
constexpr int64_t kMaxSafeInteger = 9007199254740991;
int64_t ArgInteger(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max);
// A Uint8Array (a Buffer is one).
Napi::Uint8Array ArgUint8Array(const Napi::CallbackInfo& info, size_t index, const char* name);
bool ArgBool(const Napi::CallbackInfo& info, size_t index, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t index, const char* name);
// Absent or undefined: `fallback`; else it must be a string.
std::string ArgOptionalString(const Napi::CallbackInfo& info, size_t index, const char* name, const char* fallback);
Napi::Function ArgFunction(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t index, const char* name);
Napi::Array ArgArray(const Napi::CallbackInfo& info, size_t index, const char* name);
// A Float32Array value (an element of an array argument), `name` as it should be reported ("inputs[0]").
Napi::Float32Array ArgFloat32Array(const Napi::Value& value, const std::string& name);

}  // namespace camtrack::binding
