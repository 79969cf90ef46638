#pragma once
// The bridge between the native pipelines and their inference workers (worker_threads running onnxruntime-node):
//   - the process-wide pipeline registry: id → pipeline. A worker's environment cannot hold a reference to an object
//     of the main environment, so workers address their pipeline by this numeric id;
//   - the module functions attachWorker / completeBatch / detachWorker, called from the worker threads;
//   - each attached worker as an infer::InferenceWorker (JsWorker) whose Submit() wakes the worker through a
//     thread-safe function created in the worker's own environment, and an environment-teardown hook that retires
//     a worker that dies attached (Pipeline::RetireWorker).
// Thread-safe: the registry and the worker table each have a mutex; the functions run on the calling worker's
// thread.
#include <napi.h>

#include <memory>

#include "core/pipeline/pipeline.h"

namespace camtrack::binding {

// Registers a pipeline (by weak reference: the registry never keeps one alive) and returns its id (> 0).
int RegisterPipeline(const std::shared_ptr<pipeline::Pipeline>& pipeline);
void UnregisterPipeline(int id);

// attachWorker(pipelineId, inputs: Float32Array[], outputs: Float32Array[], onSubmit(slot, images), name?,
//              pool?: 'primary' | 'fallback') → index
Napi::Value AttachWorker(const Napi::CallbackInfo& info);
// completeBatch(pipelineId, workerIndex, slot, ok, errorMessage?)
Napi::Value CompleteBatch(const Napi::CallbackInfo& info);
// detachWorker(pipelineId, workerIndex)
Napi::Value DetachWorker(const Napi::CallbackInfo& info);

}  // namespace camtrack::binding
