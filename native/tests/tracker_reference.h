#pragma once
// The parameters of the reference implementations (ByteTrack: ifzhang/ByteTrack; SORT: abewley/sort), which the
// tracker tests and the tracker benchmark run with. The tracker structs hold no defaults: camtrack's are declared
// once, in src/config/schema.ts, and reach native code complete (native/binding/track_convert.cpp).
#include "core/track/factory.h"

namespace ct_test {

inline camtrack::track::ByteTrackParams ReferenceByteTrackParams() {
  camtrack::track::ByteTrackParams p;
  p.track_thresh = 0.5f;
  p.high_thresh = 0.6f;
  p.match_thresh = 0.8f;
  p.track_buffer = 30;
  p.frame_rate = 30.f;
  return p;
}

inline camtrack::track::SortParams ReferenceSortParams() {
  camtrack::track::SortParams p;
  p.max_age = 1;
  p.min_hits = 3;
  p.iou_threshold = 0.3f;
  return p;
}

// The IoU tracker has no single reference; it runs with SORT's matching parameters.
inline camtrack::track::IouParams ReferenceIouParams() {
  camtrack::track::IouParams p;
  p.max_age = 1;
  p.min_hits = 3;
  p.iou_threshold = 0.3f;
  return p;
}

inline camtrack::track::TrackerConfig ReferenceTrackerConfig(camtrack::track::TrackerConfig::Kind kind) {
  camtrack::track::TrackerConfig c;
  c.kind = kind;
  c.byte_track = ReferenceByteTrackParams();
  c.sort = ReferenceSortParams();
  c.iou = ReferenceIouParams();
  return c;
}

}  // namespace ct_test
