// NativePipeline#configureStream() and the conversion of a stream's live configuration (configure.h).
#include "binding/configure.h"

#include <climits>
#include <cmath>
#include <string>

#include "binding/analytics_convert.h"
#include "binding/args.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/pipeline_wrap.h"
#include "binding/track_convert.h"

namespace camtrack::binding {
namespace {

[[noreturn]] void BadField(const char* key, const std::string& expected, const Napi::Value& v) {
  const char* received = v.IsUndefined() ? "undefined" : v.IsNull() ? "null" : v.IsNumber() ? "a number"
                         : v.IsString()  ? "a string"
                         : v.IsArray()   ? "an array"
                                         : "an object";
  throw Error(ErrorCode::kInvalidArgument, "binding",
              "Expected " + expected + " for " + key + " in the native config but received " + received,
              "this is a bug in camtrack's config layer; please report it");
}

// `key`: an array of polygons, each a flat array of x, y numbers ([[x0, y0, x1, y1, …], …]).
std::vector<postprocess::Polygon> RequirePolygons(const Napi::Object& o, const char* key) {
  const char* expected = "an array of flat [x0, y0, x1, y1, ...] number arrays";
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) BadField(key, expected, v);
  Napi::Array a = v.As<Napi::Array>();
  std::vector<postprocess::Polygon> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value p = a.Get(i);
    if (!p.IsArray()) BadField(key, expected, p);
    Napi::Array xy = p.As<Napi::Array>();
    if (xy.Length() % 2 != 0) BadField(key, expected, p);
    out[i].resize(xy.Length() / 2);
    for (uint32_t j = 0; j < xy.Length(); ++j) {
      Napi::Value n = xy.Get(j);
      if (!n.IsNumber()) BadField(key, expected, n);
      float& dst = j % 2 == 0 ? out[i][j / 2].x : out[i][j / 2].y;
      dst = float(n.As<Napi::Number>().DoubleValue());
    }
  }
  return out;
}

int32_t ClassId(double v, const char* key, const Napi::Env& env) {
  if (v != std::trunc(v) || v < 0 || v > 2147483647.0) BadField(key, "non-negative integer class ids", Napi::Number::New(env, v));
  return int32_t(v);
}

postprocess::DetectionFilterConfig ReadDetection(const Napi::Object& d) {
  postprocess::DetectionFilterConfig c;
  c.score_threshold = float(RequireNumber(d, "scoreThreshold"));
  const std::vector<double> pairs = RequireNumbers(d, "classThresholds");
  if (pairs.size() % 2 != 0) BadField("classThresholds", "flat [classId, threshold, ...] pairs", d.Get("classThresholds"));
  for (size_t i = 0; i < pairs.size(); i += 2)
    c.class_thresholds.emplace_back(ClassId(pairs[i], "classThresholds", d.Env()), float(pairs[i + 1]));
  for (double id : RequireNumbers(d, "classes")) c.classes.push_back(ClassId(id, "classes", d.Env()));
  c.min_area_px = RequireNumber(d, "minAreaPx");
  c.min_area_fraction = RequireNumber(d, "minAreaFraction");
  c.max_area_px = RequireNumber(d, "maxAreaPx");
  c.max_area_fraction = RequireNumber(d, "maxAreaFraction");
  c.include = RequirePolygons(d, "include");
  c.exclude = RequirePolygons(d, "exclude");
  return c;
}

}  // namespace

pipeline::LiveConfig ReadLiveConfig(const Napi::Object& o) {
  pipeline::LiveConfig c;
  c.fps_limit = RequireNumber(o, "fpsLimit");
  Napi::Object tr = RequireObject(o, "tracker");
  c.tracking = RequireString(tr, "type") != "none";
  if (c.tracking) {
    double frame_rate = 0;  // the pipeline converts trackBufferSeconds with the stream's real fps instead
    c.tracker = ReadTrackerConfig(tr, &c.track_buffer_seconds, &frame_rate);
  }
  c.detection = ReadDetection(RequireObject(o, "detection"));
  // analytics: null (none) or its native config (analytics_convert.h); its JSON is the key that tells a change.
  const Napi::Value a = o.Get("analytics");
  if (!a.IsNull()) {
    if (!a.IsObject()) BadField("analytics", "null or an object", a);
    c.analytics = std::make_shared<const analytics::AnalyticsConfig>(ReadAnalyticsConfig(a.As<Napi::Object>()));
    const Napi::Object json = o.Env().Global().Get("JSON").As<Napi::Object>();
    c.analytics_key = json.Get("stringify").As<Napi::Function>().Call(json, {a}).ToString().Utf8Value();
  }
  c.interval = RequireInt(RequireObject(o, "inference"), "interval");
  Napi::Object m = RequireObject(o, "motion");
  c.motion.enabled = RequireBool(m, "enabled");
  c.motion.threshold = RequireNumber(m, "threshold");
  c.motion.min_area = RequireNumber(m, "minArea");
  c.motion.masks = RequirePolygons(m, "masks");
  c.motion.max_skip_seconds = RequireNumber(m, "maxSkipSeconds");
  return c;
}

// configureStream(handle, config): the stream's new live config, complete (ReadLiveConfig), from its next frame.
Napi::Value PipelineWrap::ConfigureStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    Napi::Object config = ArgObject(info, 1, "config");
    if (closed_) throw Error(ErrorCode::kInvalidState, "pipeline", "pipeline is closed");
    pipeline_->ConfigureStream(handle, ReadLiveConfig(config));
    return env.Undefined();
  });
}

namespace {

uint64_t RequireCount(const Napi::Object& o, const char* key) {
  const double v = RequireNumber(o, key);
  if (!(v >= 0) || v > 9007199254740991.0 || std::floor(v) != v) BadField(key, "an integer >= 0", o.Get(key));
  return uint64_t(v);
}

}  // namespace

// changeAnalyticsCounts(handle, { reset, lines: [{ id, in, out, perClass: [{ classId, in, out }] }] }): zeroes the
// stream's cumulative line counts (reset) and/or adds the given ones, before its next frame's analytics.
Napi::Value PipelineWrap::ChangeAnalyticsCounts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    Napi::Object o = ArgObject(info, 1, "counts");
    pipeline::CountsCommand cmd;
    cmd.reset = RequireBool(o, "reset");
    const Napi::Value lv = o.Get("lines");
    if (!lv.IsArray()) BadField("lines", "an array", lv);
    const Napi::Array lines = lv.As<Napi::Array>();
    for (uint32_t i = 0; i < lines.Length(); ++i) {
      if (!lines.Get(i).IsObject()) BadField("lines", "an array of objects", lines.Get(i));
      const Napi::Object l = lines.Get(i).As<Napi::Object>();
      analytics::LineCountsSeed seed;
      seed.line_id = RequireString(l, "id");
      seed.in = RequireCount(l, "in");
      seed.out = RequireCount(l, "out");
      const Napi::Value pv = l.Get("perClass");
      if (!pv.IsArray()) BadField("perClass", "an array", pv);
      const Napi::Array pc = pv.As<Napi::Array>();
      for (uint32_t k = 0; k < pc.Length(); ++k) {
        if (!pc.Get(k).IsObject()) BadField("perClass", "an array of objects", pc.Get(k));
        const Napi::Object c = pc.Get(k).As<Napi::Object>();
        seed.per_class.push_back({RequireInt(c, "classId"), RequireCount(c, "in"), RequireCount(c, "out")});
      }
      cmd.add.push_back(std::move(seed));
    }
    if (closed_) throw Error(ErrorCode::kInvalidState, "pipeline", "pipeline is closed");
    pipeline_->ChangeAnalyticsCounts(handle, std::move(cmd));
    return env.Undefined();
  });
}

}  // namespace camtrack::binding
