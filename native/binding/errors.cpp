#include "binding/errors.h"

namespace camtrack::binding {

std::string JsErrorCode(ErrorCode code) { return std::string("ERR_CAMTRACK_") + ErrorCodeName(code); }

Napi::Value MakeJsError(Napi::Env env, ErrorCode code, const std::string& stage, const std::string& message,
                        const std::string& hint, long long native_code) {
  auto* data = env.GetInstanceData<AddonData>();
  Napi::Object err;
  const std::string js_code = JsErrorCode(code);
  if (data && !data->error_class.IsEmpty()) {
    err = data->error_class.New({Napi::String::New(env, message), Napi::String::New(env, js_code)});
  } else {
    err = Napi::Error::New(env, message).Value();
    err.Set("code", js_code);
  }
  err.Set("stage", stage);
  if (!hint.empty()) err.Set("hint", hint);
  if (native_code != 0) err.Set("nativeCode", Napi::Number::New(env, double(native_code)));
  return err;
}

void ThrowJs(Napi::Env env, const Error& e) {
  throw Napi::Error(env, MakeJsError(env, e.code(), e.stage(), e.what(), e.hint(), e.native_code()));
}

}  // namespace camtrack::binding
