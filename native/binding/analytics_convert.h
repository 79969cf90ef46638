#pragma once
// Analytics config (validated and completed by src/analytics.ts / src/config/schema.ts) → core AnalyticsConfig, and
// one AnalyticsFrame → JS. Every field is required (convert.h); the core validates the geometry again.
//
//   { lines: [{ id, start: [x, y], end: [x, y], anchors: string[], minCrossingFrames, direction: [] | [fx, fy, tx, ty] }],
//     zones: [{ id, polygon: [x0, y0, x1, y1, …], anchor, classes: number[], enterFrames, exitFrames, loiterMs,
//               maxOccupancy }],
//     speed: { enabled, anchor, smoothing, pixelsPerMeter, homography: [] | [8 image coords, 8 ground coords], limit },
//     usePredicted, forgetFrames }
#include <napi.h>

#include "core/analytics/analytics_engine.h"

namespace camtrack::binding {

analytics::AnalyticsConfig ReadAnalyticsConfig(const Napi::Object& o);

// { events: [{ kind, index, trackId, classId, direction, value, tsMs }], lines: [{ crossedIn, crossedOut, in, out,
//   perClass: [{ classId, in, out }] }], zones: [{ occupancy, entered, exited }], memberships: [{ trackId, zone,
//   dwellMs }], speeds: [{ trackId, speed, directionDeg }], evaluated }
Napi::Object AnalyticsFrameToJs(Napi::Env env, const analytics::AnalyticsFrame& f);

}  // namespace camtrack::binding
