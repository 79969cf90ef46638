#include "binding/track_convert.h"

#include <string>

#include "binding/convert.h"
#include "core/common/error.h"

namespace camtrack::binding {

track::TrackerConfig ReadTrackerConfig(const Napi::Object& c, double* buffer_seconds, double* frame_rate_out) {
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
  *buffer_seconds = GetNumber(c, "trackBufferSeconds", 0.0);
  *frame_rate_out = frame_rate;
  return cfg;
}

void SetBox(Napi::Object& j, const Box& b) {
  j.Set("x1", b.x1);
  j.Set("y1", b.y1);
  j.Set("x2", b.x2);
  j.Set("y2", b.y2);
}

const char* TrackEventKindName(track::TrackEvent::Kind k) {
  switch (k) {
    case track::TrackEvent::Kind::kNew: return "new";
    case track::TrackEvent::Kind::kLost: return "lost";
    case track::TrackEvent::Kind::kRefound: return "refound";
    case track::TrackEvent::Kind::kRemoved: return "removed";
  }
  return "unknown";
}

Napi::Object TrackToJs(Napi::Env env, const track::TrackedObject& t) {
  Napi::Object j = Napi::Object::New(env);
  j.Set("trackId", double(t.track_id));
  SetBox(j, t.box);
  j.Set("score", t.score);
  j.Set("classId", t.class_id);
  j.Set("age", t.frames_tracked);
  return j;
}

Napi::Object TrackEventToJs(Napi::Env env, const track::TrackEvent& e) {
  Napi::Object j = Napi::Object::New(env);
  j.Set("kind", TrackEventKindName(e.kind));
  j.Set("trackId", double(e.track_id));
  j.Set("frame", double(e.frame));
  SetBox(j, e.box);
  j.Set("classId", e.class_id);
  return j;
}

}  // namespace camtrack::binding
