#pragma once
// Config conversion for NativePipeline: the complete, validated config objects of the TS layer (src/config/,
// src/pipeline.ts; NativePipelineConfig / NativeStreamConfig in src/native.ts) → the native config structs
// (core/pipeline/config.h). Every field is required and none has a default here (convert.h): a missing or mistyped
// field is a bug in the TS layer and throws ERR_CAMTRACK_INVALID_ARGUMENT naming it.
#include <napi.h>

#include "core/pipeline/config.h"

namespace camtrack::binding {

struct NativePipelineConfig {
  pipeline::ModelConfig model;
  pipeline::BatchingConfig batching;
  pipeline::IngestConfig ingest;
};

// NativePipelineConfig (src/native.ts): { model, batching, ingest, gpu }.
NativePipelineConfig ReadPipelineConfig(const Napi::Object& config);
// NativeStreamConfig (src/native.ts) → StreamConfig.
pipeline::StreamConfig ReadStream(const Napi::Object& stream);

}  // namespace camtrack::binding
