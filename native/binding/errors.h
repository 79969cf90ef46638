#pragma once
// Error translation: camtrack::Error → an instance of the CamtrackError class that src/errors.ts hands to the addon
// at init (setErrorClass), with code ERR_CAMTRACK_<NAME>, stage, nativeCode and hint.
#include <napi.h>

#include <string>

#include "core/common/error.h"

namespace camtrack::binding {

struct AddonData {
  Napi::FunctionReference error_class;
};

// The JS-side code for a camtrack::ErrorCode: "ERR_CAMTRACK_" + its name (errors and per-stream stats use the same).
std::string JsErrorCode(ErrorCode code);

// Builds the JS error object (does not throw).
Napi::Value MakeJsError(Napi::Env env, ErrorCode code, const std::string& stage, const std::string& message,
                        const std::string& hint, long long native_code);
// Throws a JS exception from a camtrack::Error (use in binding entry points).
[[noreturn]] void ThrowJs(Napi::Env env, const Error& e);

// Wraps an entry point body: camtrack::Error → CamtrackError; std::exception → ERR_CAMTRACK_INTERNAL.
template <typename F>
auto Guard(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    ThrowJs(env, e);
  } catch (const std::exception& e) {
    ThrowJs(env, Error(ErrorCode::kInternal, "binding", e.what(), "please report this as a bug"));
  }
}

}  // namespace camtrack::binding
