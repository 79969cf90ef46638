#pragma once
// Reading already-validated config objects. src/config/ validates them against the schema and fills every default;
// this layer only converts, so every field is required and none has a fallback here: a missing or mistyped field is
// a bug in the TS layer and throws ERR_CAMTRACK_INVALID_ARGUMENT naming it ("Expected number for openTimeoutMs in
// the native config but received undefined").
#include <napi.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace camtrack::binding {

double RequireNumber(const Napi::Object& o, const char* key);
int RequireInt(const Napi::Object& o, const char* key);
bool RequireBool(const Napi::Object& o, const char* key);
std::string RequireString(const Napi::Object& o, const char* key);
std::vector<double> RequireNumbers(const Napi::Object& o, const char* key);
std::vector<double> OptionalNumbers(const Napi::Object& o, const char* key);  // empty when absent
Napi::Object RequireObject(const Napi::Object& o, const char* key);
// A string field that must be one of `names`; returns the index of the one it is.
size_t RequireOneOf(const Napi::Object& o, const char* key, std::initializer_list<const char*> names);

}  // namespace camtrack::binding
