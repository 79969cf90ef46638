#include "binding/track_convert.h"

#include <string>

#include "binding/convert.h"
#include "core/common/error.h"

namespace camtrack::binding {

track::TrackerConfig ReadTrackerConfig(const Napi::Object& c, double* buffer_seconds, double* frame_rate_out) {
  track::TrackerConfig cfg;
  // Every field is required (the TS layer fills the defaults: src/config/schema.ts); each tracker kind takes its own.
  static constexpr track::TrackerConfig::Kind kKinds[] = {track::TrackerConfig::Kind::kByteTrack,
                                                          track::TrackerConfig::Kind::kSort, track::TrackerConfig::Kind::kIou};
  cfg.kind = kKinds[RequireOneOf(c, "type", {"bytetrack", "sort", "iou"})];
  const bool class_aware = RequireBool(c, "classAware");
  auto& bt = cfg.byte_track;
  bt.track_thresh = float(RequireNumber(c, "trackThresh"));
  bt.high_thresh = float(RequireNumber(c, "highThresh"));
  bt.match_thresh = float(RequireNumber(c, "matchThresh"));
  bt.track_buffer = RequireInt(c, "trackBuffer");
  const double frame_rate = RequireNumber(c, "frameRate");
  bt.frame_rate = float(frame_rate);
  bt.class_aware = class_aware;
  auto& so = cfg.sort;
  so.max_age = RequireInt(c, "maxAge");
  so.min_hits = RequireInt(c, "minHits");
  so.iou_threshold = float(RequireNumber(c, "iouThreshold"));
  so.class_aware = class_aware;
  auto& io = cfg.iou;
  io.max_age = so.max_age;
  io.min_hits = so.min_hits;
  io.iou_threshold = so.iou_threshold;
  io.greedy = RequireBool(c, "greedy");
  io.class_aware = class_aware;
  *buffer_seconds = RequireNumber(c, "trackBufferSeconds");
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
