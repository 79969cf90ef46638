#pragma once
// NativeTracker (JS class) — a thin ObjectWrap over one core track::Tracker (any kind, built by CreateTracker), for
// users who bring their own detections (src/tracker.ts validates the options; this layer only converts).
//
//   new NativeTracker({ type, classAware, trackThresh, highThresh, matchThresh, trackBuffer, frameRate,
//                       maxAge, minHits, iouThreshold, greedy, trackBufferSeconds })
//   update(dets: Float32Array (n*6: x1,y1,x2,y2,score,classId) | {x1,y1,x2,y2,score,classId}[]) → NativeTrack[]
//   events() → { kind: 'new'|'lost'|'refound'|'removed', trackId, frame, x1, y1, x2, y2, classId }[]
//   reset()
//
// Ownership: the wrap owns its tracker and scratch vectors (reused between calls). Thread-safety: JS main thread
// (or the one worker thread that created it) only, like every ObjectWrap.
#include <napi.h>

#include <memory>
#include <vector>

#include "core/track/factory.h"

namespace camtrack::binding {

class TrackerWrap : public Napi::ObjectWrap<TrackerWrap> {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit TrackerWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Events(const Napi::CallbackInfo& info);
  Napi::Value Reset(const Napi::CallbackInfo& info);

  std::unique_ptr<track::Tracker> tracker_;
  std::vector<Detection> dets_;
  std::vector<track::TrackedObject> out_;
  std::vector<track::TrackEvent> events_;
};

}  // namespace camtrack::binding
