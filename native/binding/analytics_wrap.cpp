#include "binding/analytics_wrap.h"

#include <cmath>
#include <string>

#include "binding/analytics_convert.h"
#include "binding/errors.h"

namespace camtrack::binding {

Napi::Function AnalyticsWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeAnalytics",
                     {
                         InstanceMethod<&AnalyticsWrap::Update>("update"),
                         InstanceMethod<&AnalyticsWrap::Reset>("reset"),
                     });
}

AnalyticsWrap::AnalyticsWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AnalyticsWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&] {
    if (info.Length() < 1 || !info[0].IsObject()) {
      throw Error(ErrorCode::kInvalidArgument, "binding", "NativeAnalytics expects a config object",
                  "use the Analytics class of the camtrack package");
    }
    engine_ = std::make_unique<analytics::AnalyticsEngine>(ReadAnalyticsConfig(info[0].As<Napi::Object>()));
    tracks_.reserve(256);
    frame_.Reserve(engine_->config().lines.size(), engine_->config().zones.size(), 256);
  });
}

Napi::Value AnalyticsWrap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 3 || !info[0].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array || !info[1].IsNumber() ||
        !info[2].IsBoolean()) {
      throw Error(ErrorCode::kInvalidArgument, "analytics",
                  "NativeAnalytics.update expects (Float64Array n*6, tsMs, inferred)",
                  "use the Analytics class of the camtrack package");
    }
    const Napi::Float64Array a = info[0].As<Napi::Float64Array>();
    if (a.ElementLength() % 6 != 0) {
      throw Error(ErrorCode::kInvalidArgument, "analytics", "tracks must hold n*6 numbers");
    }
    const double ts = info[1].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(ts)) throw Error(ErrorCode::kInvalidArgument, "analytics", "tsMs must be a finite number");
    tracks_.clear();
    const double* p = a.Data();
    for (size_t i = 0; i + 6 <= a.ElementLength(); i += 6) {
      track::TrackedObject t;
      // Ids/classes were checked to be integers in range by src/analytics.ts.
      t.track_id = int64_t(p[i]);
      t.class_id = int32_t(p[i + 1]);
      t.box = Box{float(p[i + 2]), float(p[i + 3]), float(p[i + 4]), float(p[i + 5])};
      tracks_.push_back(t);
    }
    engine_->Update(tracks_.data(), tracks_.size(), int64_t(std::llround(ts)), info[2].As<Napi::Boolean>().Value(),
                    &frame_);
    return AnalyticsFrameToJs(env, frame_);
  });
}

Napi::Value AnalyticsWrap::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    engine_->Reset();
    return env.Undefined();
  });
}

}  // namespace camtrack::binding
