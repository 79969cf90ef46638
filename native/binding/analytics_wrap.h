#pragma once
// NativeAnalytics (JS class) — a thin ObjectWrap over one core analytics::AnalyticsEngine, for users who bring their
// own tracks (src/analytics.ts validates the options; this layer only converts: analytics_convert.h).
//
//   new NativeAnalytics(config)
//   update(tracks: Float64Array (n*6: trackId, classId, x1, y1, x2, y2), tsMs: number, inferred: boolean) → frame
//   reset()
//
// Ownership: the wrap owns its engine, its scratch track vector and frame (reused between calls). Thread-safety: the
// JS thread that created it, like every ObjectWrap.
#include <napi.h>

#include <memory>
#include <vector>

#include "core/analytics/analytics_engine.h"

namespace camtrack::binding {

class AnalyticsWrap : public Napi::ObjectWrap<AnalyticsWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit AnalyticsWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);

  std::unique_ptr<analytics::AnalyticsEngine> engine_;
  std::vector<track::TrackedObject> tracks_;
  analytics::AnalyticsFrame frame_;
};

}  // namespace camtrack::binding
