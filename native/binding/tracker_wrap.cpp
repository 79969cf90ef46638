#include "binding/tracker_wrap.h"

#include <cmath>
#include <string>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/track_convert.h"

namespace camtrack::binding {
namespace {

[[noreturn]] void BadDetections(const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, "track", "Tracker.update: " + what,
              "pass a Float32Array of n*6 numbers (x1,y1,x2,y2,score,classId) or an array of "
              "{x1,y1,x2,y2,score,classId}");
}

float Field(const Napi::Object& o, const char* key, uint32_t index) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) {
    BadDetections("expected a number for detections[" + std::to_string(index) + "]." + key);
  }
  return v.As<Napi::Number>().FloatValue();
}

}  // namespace

Napi::Function TrackerWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativeTracker",
                     {
                         InstanceMethod<&TrackerWrap::Update>("update"),
                         InstanceMethod<&TrackerWrap::Events>("events"),
                         InstanceMethod<&TrackerWrap::Reset>("reset"),
                     });
}

TrackerWrap::TrackerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TrackerWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&] {
    if (info.Length() < 1 || !info[0].IsObject()) {
      throw Error(ErrorCode::kInvalidArgument, "binding", "NativeTracker expects a config object",
                  "use the Tracker class of the camtrack package");
    }
    const Napi::Object c = info[0].As<Napi::Object>();
    double seconds = 0, frame_rate = 30;
    track::TrackerConfig cfg = ReadTrackerConfig(c, &seconds, &frame_rate);
    if (seconds > 0) track::ApplyBufferSeconds(cfg, seconds, frame_rate);
    tracker_ = track::CreateTracker(cfg);
    dets_.reserve(512);
    out_.reserve(256);
    events_.reserve(track::TrackEventLog::kReserve);
  });
}

Napi::Value TrackerWrap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    dets_.clear();
    if (info.Length() < 1) BadDetections("missing detections argument");
    const Napi::Value arg = info[0];
    if (arg.IsTypedArray() && arg.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array) {
      const Napi::Float32Array a = arg.As<Napi::Float32Array>();
      if (a.ElementLength() % 6 != 0) {
        BadDetections("a Float32Array must hold n*6 numbers but has " + std::to_string(a.ElementLength()));
      }
      const float* p = a.Data();
      for (size_t i = 0; i + 6 <= a.ElementLength(); i += 6) {
        Detection d;
        d.box = Box{p[i], p[i + 1], p[i + 2], p[i + 3]};
        d.score = p[i + 4];
        // A float outside int32 (or NaN) would be undefined behaviour to convert: refuse it like other bad input.
        const float cls = p[i + 5];
        if (!(std::fabs(cls) < 2147483520.f)) {
          BadDetections("classId at index " + std::to_string(i / 6) + " is not an integer in int32 range");
        }
        d.class_id = static_cast<int32_t>(cls);
        dets_.push_back(d);
      }
    } else if (arg.IsArray()) {
      const Napi::Array a = arg.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) {
        const Napi::Value e = a.Get(i);
        if (!e.IsObject()) BadDetections("detections[" + std::to_string(i) + "] is not an object");
        const Napi::Object o = e.As<Napi::Object>();
        Detection d;
        d.box = Box{Field(o, "x1", i), Field(o, "y1", i), Field(o, "x2", i), Field(o, "y2", i)};
        d.score = Field(o, "score", i);
        const Napi::Value cls = o.Get("classId");
        d.class_id = cls.IsNumber() ? cls.As<Napi::Number>().Int32Value() : 0;
        dets_.push_back(d);
      }
    } else {
      BadDetections("expected a Float32Array or an array of detections");
    }
    tracker_->Update(dets_.data(), dets_.size(), out_);
    Napi::Array tracks = Napi::Array::New(env, out_.size());
    for (size_t i = 0; i < out_.size(); ++i) {
      const Napi::Object j = TrackToJs(env, out_[i]);
      tracks.Set(uint32_t(i), j);
    }
    return tracks;
  });
}

Napi::Value TrackerWrap::Events(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    events_.clear();
    tracker_->TakeEvents(events_);
    Napi::Array a = Napi::Array::New(env, events_.size());
    for (size_t i = 0; i < events_.size(); ++i) {
      const Napi::Object j = TrackEventToJs(env, events_[i]);
      a.Set(uint32_t(i), j);
    }
    return a;
  });
}

Napi::Value TrackerWrap::Reset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    tracker_->Reset();
    return env.Undefined();
  });
}

}  // namespace camtrack::binding
