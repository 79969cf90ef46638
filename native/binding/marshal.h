#pragma once
// Marshalling of what the native pipeline produces into JS values, on the main thread: results (NativeFrameResult in
// src/native.ts), stream events (NativeEvent) and stats (the objects of stats(), named once by
// pipeline::VisitStats in core/pipeline/stats.h and written here as they are, never renamed on the way).
#include <napi.h>

#include "core/pipeline/pipeline.h"

namespace camtrack::binding {

Napi::Object ResultToJs(Napi::Env env, const pipeline::FrameResult& r);
Napi::Object EventToJs(Napi::Env env, const pipeline::StreamEvent& e);
Napi::Object StatsToJs(Napi::Env env, const pipeline::PipelineStatsSnapshot& s);
Napi::Object StatsToJs(Napi::Env env, const pipeline::StreamStatsSnapshot& s);

}  // namespace camtrack::binding
