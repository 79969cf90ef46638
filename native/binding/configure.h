#pragma once
// A stream's live configuration (core/pipeline/live_config.h) from JS: read from the stream config addStream() takes
// and from configureStream(handle, config), the same fields in the same shape (src/pipeline.ts toNativeLiveConfig).
//   { fpsLimit, tracker: { type: 'none' | <NativeTracker config> }, detection: { scoreThreshold,
//     classThresholds: [classId, threshold, …], classes: [classId, …], minAreaPx, minAreaFraction, maxAreaPx,
//     maxAreaFraction, include: [[x0, y0, x1, y1, …], …], exclude: […] } }
// Complete and validated by src/config/: every field is required, none has a default here (convert.h).
#include <napi.h>

#include "core/pipeline/live_config.h"

namespace camtrack::binding {

pipeline::LiveConfig ReadLiveConfig(const Napi::Object& o);

}  // namespace camtrack::binding
