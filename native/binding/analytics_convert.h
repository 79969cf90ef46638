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

// The public AnalyticsFrameResult (src/analytics.ts), named with the ids of the config the frame was made with
// (AnalyticsFrame::config), so JS passes it on as it is: { tsMs, evaluated, events: [{ type, line | zone, trackId,
// classId, direction: 'in' | 'out', dwellSeconds, occupancy, speed, unit, tsMs }], lines: { <id>: { crossedIn,
// crossedOut, in, out, perClass: [{ classId, in, out }] } }, zones: { <id>: { occupancy, entered, exited } },
// memberships: [{ trackId, zone, dwellSeconds }], speeds: [{ trackId, speed, unit, directionDeg }] }
Napi::Object AnalyticsFrameToJs(Napi::Env env, const analytics::AnalyticsFrame& f);

}  // namespace camtrack::binding
