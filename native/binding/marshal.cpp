#include "binding/marshal.h"

#include <iterator>
#include <string_view>
#include <type_traits>

#include "binding/analytics_convert.h"
#include "binding/errors.h"
#include "binding/track_convert.h"

namespace camtrack::binding {
namespace {

// Writes the fields pipeline::VisitStats names (core/pipeline/stats.h) into a JS object, as they are: the objects
// stats() and streamStats() return are the public ones (src/types.ts), not renamed on the way.
class JsStatsWriter {
 public:
  explicit JsStatsWriter(Napi::Env env) : env_(env), object_(Napi::Object::New(env)) {}

  template <class T>
  void operator()(const char* name, const T& value) {
    object_.Set(name, ToJs(value));
  }
  template <class Fill>
  void Object(const char* name, Fill&& fill) {
    JsStatsWriter nested(env_);
    fill(nested);
    object_.Set(name, nested.object_);
  }
  template <class Snapshot>
  void List(const char* name, const std::vector<Snapshot>& items) {
    Napi::Array a = Napi::Array::New(env_, items.size());
    for (size_t i = 0; i < items.size(); ++i) a.Set(uint32_t(i), Of(env_, items[i]));
    object_.Set(name, a);
  }
  template <class Snapshot>
  static Napi::Object Of(Napi::Env env, const Snapshot& snapshot) {
    JsStatsWriter w(env);
    pipeline::VisitStats(snapshot, w);
    return w.object_;
  }

 private:
  template <class T>
  Napi::Value ToJs(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      return Napi::Boolean::New(env_, v);
    } else if constexpr (std::is_arithmetic_v<T>) {
      return Napi::Number::New(env_, double(v));  // counters: exact up to 2^53
    } else if constexpr (std::is_same_v<T, ErrorCode>) {
      return Napi::String::New(env_, JsErrorCode(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      const std::string_view sv(v);
      return Napi::String::New(env_, sv.data(), sv.size());
    } else {  // a fixed array of values (histogram bounds and counts)
      Napi::Array a = Napi::Array::New(env_, std::size(v));
      uint32_t i = 0;
      for (const auto& x : v) a.Set(i++, ToJs(x));
      return a;
    }
  }
  Napi::Env env_;
  Napi::Object object_;
};

}  // namespace

Napi::Object ResultToJs(Napi::Env env, const pipeline::FrameResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("stream", r.stream);
  o.Set("frameIndex", double(r.frame_index));
  if (r.input_seq >= 0) o.Set("seq", double(r.input_seq));  // pushed frames: the key of the frame's tag
  o.Set("ptsMs", double(r.pts_ms));
  o.Set("wallMs", double(r.wall_ms));
  o.Set("latencyMs", double(r.done_at_ns - r.decoded_at_ns) / 1e6);
  o.Set("width", r.width);
  o.Set("height", r.height);
  o.Set("inferred", r.inferred);
  if (r.fallback) o.Set("fallback", true);  // inferred by the breaker's fallback backend
  Napi::Array dets = Napi::Array::New(env, r.detections.size());
  for (size_t i = 0; i < r.detections.size(); ++i) {
    const Detection& d = r.detections[i];
    Napi::Object j = Napi::Object::New(env);
    SetBox(j, d.box);
    j.Set("score", d.score);
    j.Set("classId", d.class_id);
    dets.Set(uint32_t(i), j);
  }
  o.Set("detections", dets);
  Napi::Array tracks = Napi::Array::New(env, r.tracks.size());
  for (size_t i = 0; i < r.tracks.size(); ++i) tracks.Set(uint32_t(i), TrackToJs(env, r.tracks[i]));
  o.Set("tracks", tracks);
  if (!r.track_events.empty()) {
    Napi::Array evs = Napi::Array::New(env, r.track_events.size());
    for (size_t i = 0; i < r.track_events.size(); ++i) evs.Set(uint32_t(i), TrackEventToJs(env, r.track_events[i]));
    o.Set("trackEvents", evs);
  }
  // The stream's analytics (lines, zones, speed); r.annotations of other post-track stages are not marshalled yet.
  if (r.has_analytics) o.Set("analytics", AnalyticsFrameToJs(env, r.analytics));
  return o;
}

Napi::Object EventToJs(Napi::Env env, const pipeline::StreamEvent& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", ingest::EventKindName(e.kind));
  o.Set("stream", e.stream);
  if (e.state) o.Set("state", ingest::StreamStateName(*e.state));
  if (!e.reason.empty()) o.Set("reason", e.reason);
  if (e.attempt > 0) o.Set("attempt", e.attempt);
  if (e.frame >= 0) o.Set("seq", double(e.frame));
  if (e.kind == pipeline::EventKind::kBreaker) {
    o.Set("from", e.breaker_from);
    o.Set("to", e.breaker_to);
  }  // a warning about one pushed frame: its sequence number
  const bool source_failure = e.code != ErrorCode::kInference;
  if (e.kind == pipeline::EventKind::kError || e.kind == pipeline::EventKind::kWarning ||
      (e.kind == pipeline::EventKind::kState && e.has_error))
    o.Set("error", MakeJsError(env, e.code, source_failure ? "source" : "pipeline", e.message, e.hint, e.native_code));
  else if (!e.message.empty())
    o.Set("message", e.message);
  return o;
}

Napi::Object StatsToJs(Napi::Env env, const pipeline::PipelineStatsSnapshot& s) { return JsStatsWriter::Of(env, s); }
Napi::Object StatsToJs(Napi::Env env, const pipeline::StreamStatsSnapshot& s) { return JsStatsWriter::Of(env, s); }

}  // namespace camtrack::binding
