#pragma once
// Reading already-validated config objects (src/config.ts validates and normalises; this layer only converts).
// A missing or mistyped field here is a bug in the TS layer and throws ERR_CAMTRACK_INVALID_ARGUMENT naming it.
#include <napi.h>

#include <string>
#include <vector>

namespace camtrack::binding {

double GetNumber(const Napi::Object& o, const char* key, double fallback);
double RequireNumber(const Napi::Object& o, const char* key);
bool GetBool(const Napi::Object& o, const char* key, bool fallback);
std::string GetString(const Napi::Object& o, const char* key, const std::string& fallback);
std::string RequireString(const Napi::Object& o, const char* key);
std::vector<double> GetNumbers(const Napi::Object& o, const char* key);
Napi::Object GetObject(const Napi::Object& o, const char* key);  // empty object when absent

}  // namespace camtrack::binding
