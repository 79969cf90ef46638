#include "binding/tracker_wrap.h"

#include <string>

#include "binding/convert.h"
#include "binding/errors.h"

namespace camtrack::binding {
namespace {

const char* EventKindName(track::TrackEvent::Kind k) {
  switch (k) {
    case track::TrackEvent::Kind::kNew:
      return "new";
    case track::TrackEvent::Kind::kLost:
      return "lost";
    case track::TrackEvent::Kind::kRefound:
      return "refound";
    case track::TrackEvent::Kind::kRemoved:
      return "removed";
  }
  return "unknown";
}

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
    track::TrackerConfig cfg;
    const std::string type = GetString(c, "type", "bytetrack");
    if (type == "bytetrack") {
      cfg.kind = track::TrackerConfig::Kind::kByteTrack;
    } else if (type == "sort") {
      cfg.kind = track::TrackerConfig::Kind::kSort;
    } else if (type == "iou") {
      cfg.kind = track::TrackerConfig::Kind::kIou;
    } else {
      throw Error(ErrorCode::kInvalidArgument, "binding", "Unknown tracker type \"" + type + "\"",
                  "use bytetrack, sort or iou");
    }
    const bool class_aware = GetBool(c, "classAware", false);
    auto& bt = cfg.byte_track;
    bt.track_thresh = float(GetNumber(c, "trackThresh", bt.track_thresh));
    bt.high_thresh = float(GetNumber(c, "highThresh", bt.high_thresh));
    bt.match_thresh = float(GetNumber(c, "matchThresh", bt.match_thresh));
    bt.track_buffer = int(GetNumber(c, "trackBuffer", bt.track_buffer));
    const double frame_rate = GetNumber(c, "frameRate", 30.0);
    bt.frame_rate = float(frame_rate);
    bt.class_aware = class_aware;
    auto& so = cfg.sort;
    so.max_age = int(GetNumber(c, "maxAge", so.max_age));
    so.min_hits = int(GetNumber(c, "minHits", so.min_hits));
    so.iou_threshold = float(GetNumber(c, "iouThreshold", so.iou_threshold));
    so.class_aware = class_aware;
    auto& io = cfg.iou;
    io.max_age = int(GetNumber(c, "maxAge", io.max_age));
    io.min_hits = int(GetNumber(c, "minHits", io.min_hits));
    io.iou_threshold = float(GetNumber(c, "iouThreshold", io.iou_threshold));
    io.greedy = GetBool(c, "greedy", false);
    io.class_aware = class_aware;
    const double seconds = GetNumber(c, "trackBufferSeconds", 0.0);
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
        d.class_id = static_cast<int32_t>(p[i + 5]);
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
      const track::TrackedObject& t = out_[i];
      Napi::Object j = Napi::Object::New(env);
      j.Set("trackId", double(t.track_id));
      j.Set("x1", t.box.x1);
      j.Set("y1", t.box.y1);
      j.Set("x2", t.box.x2);
      j.Set("y2", t.box.y2);
      j.Set("score", t.score);
      j.Set("classId", t.class_id);
      j.Set("age", t.frames_tracked);
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
      const track::TrackEvent& e = events_[i];
      Napi::Object j = Napi::Object::New(env);
      j.Set("kind", EventKindName(e.kind));
      j.Set("trackId", double(e.track_id));
      j.Set("frame", double(e.frame));
      j.Set("x1", e.box.x1);
      j.Set("y1", e.box.y1);
      j.Set("x2", e.box.x2);
      j.Set("y2", e.box.y2);
      j.Set("classId", e.class_id);
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
