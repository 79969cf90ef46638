#pragma once
// Tracker config and results ↔ JS, shared by NativeTracker (standalone) and NativePipeline (per stream).
//   config object: { type: 'bytetrack'|'sort'|'iou', classAware, trackThresh, highThresh, matchThresh, trackBuffer,
//                    frameRate, maxAge, minHits, iouThreshold, greedy, trackBufferSeconds }
#include <napi.h>

#include "core/common/geometry.h"
#include "core/track/factory.h"
#include "core/track/tracker.h"

namespace camtrack::binding {

// Reads a complete tracker config (validated and filled by the TS layer; every field required). `buffer_seconds`
// receives trackBufferSeconds (0: keep the frame-based buffer); the caller converts it (track::ApplyBufferSeconds).
track::TrackerConfig ReadTrackerConfig(const Napi::Object& c, double* buffer_seconds, double* frame_rate);

// Sets x1, y1, x2, y2 of `j` from `b` (detections, tracks and track events all carry their box this way).
void SetBox(Napi::Object& j, const Box& b);
const char* TrackEventKindName(track::TrackEvent::Kind k);
Napi::Object TrackToJs(Napi::Env env, const track::TrackedObject& t);
Napi::Object TrackEventToJs(Napi::Env env, const track::TrackEvent& e);

}  // namespace camtrack::binding
