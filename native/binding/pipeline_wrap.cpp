#include "binding/pipeline_wrap.h"

#include <climits>

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/marshal.h"
#include "binding/pipeline_config.h"
#include "binding/worker_bridge.h"

namespace camtrack::binding {

Napi::Function PipelineWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativePipeline",
                     {
                         InstanceAccessor<&PipelineWrap::Id>("id"),
                         InstanceMethod<&PipelineWrap::AddStream>("addStream"),
                         InstanceMethod<&PipelineWrap::RemoveStream>("removeStream"),
                         InstanceMethod<&PipelineWrap::SetStreamPaused>("setStreamPaused"),
                         InstanceMethod<&PipelineWrap::PushFrame>("pushFrame"),
                         InstanceMethod<&PipelineWrap::EndPush>("endPush"),
                         InstanceMethod<&PipelineWrap::RequestSnapshot>("requestSnapshot"),
                         InstanceMethod<&PipelineWrap::CancelSnapshot>("cancelSnapshot"),
                         InstanceMethod<&PipelineWrap::TakeSnapshot>("takeSnapshot"),
                         InstanceMethod<&PipelineWrap::ConfigureStream>("configureStream"),
                         InstanceMethod<&PipelineWrap::ChangeAnalyticsCounts>("changeAnalyticsCounts"),
                         InstanceMethod<&PipelineWrap::Stats>("stats"),
                         InstanceMethod<&PipelineWrap::StreamStats>("streamStats"),
                         InstanceMethod<&PipelineWrap::Flush>("flush"),
                         InstanceMethod<&PipelineWrap::Close>("close"),
                     });
}

// new NativePipeline(config, onEvents)
PipelineWrap::PipelineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PipelineWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&] {
    Napi::Object cfg = ArgObject(info, 0, "config");
    Napi::Function on_events = ArgFunction(info, 1, "onEvents");
    NativePipelineConfig c = ReadPipelineConfig(cfg);
    // The finalizer holds its own reference to the gate: it runs at the function's deletion, maybe after ~PipelineWrap.
    delivery_->tsfn = DeliverTsfn::New(
        env, on_events, "camtrack-delivery", 0, 1, this,
        [](Napi::Env, std::shared_ptr<DeliveryGate>* gate, PipelineWrap*) {
          (*gate)->Close(false);  // being deleted: no Abort, no call from now on
          delete gate;
        },
        new std::shared_ptr<DeliveryGate>(delivery_));
    delivery_->live = true;
    release_ = std::make_shared<ReleaseQueue>([this] { Notify(); });
    pipeline_ = std::make_shared<pipeline::Pipeline>(std::move(c.model), c.batching, this, c.ingest);
    id_ = RegisterPipeline(pipeline_);
    cleanup_hook_ = napi_add_env_cleanup_hook(env, &PipelineWrap::OnEnvCleanup, this) == napi_ok;
    return 0;
  });
}

PipelineWrap::~PipelineWrap() {
  if (cleanup_hook_) napi_remove_env_cleanup_hook(Env(), &PipelineWrap::OnEnvCleanup, this);
  // close() is the normal path; if JS dropped the object without it, stop threads before members go away, and
  // abort the delivery function, whose queued calls would otherwise reach this freed wrap.
  StopAndCloseDelivery();
  if (id_ != 0) UnregisterPipeline(id_);
}

// The owner's environment is torn down without close(). Order (see the header): no more wakes from pushed frames'
// buffers (which this teardown frees), then Stop() joins every source, dispatcher and postprocess thread — all that
// can call Notify() — and only then is the delivery function aborted. This used to stop only the pushed streams:
// a file stream's threads kept delivering, called the function after Node had deleted it with the environment, and
// the process died in free() ("double free or corruption", the 'owner' case of test/addon/process-exit.test.ts).
// Stop() is bounded: that environment's own inference workers were terminated (and retired) before its cleanup
// hooks run, so in-flight batches fail at once.
void PipelineWrap::OnEnvCleanup(void* p) {
  auto* self = static_cast<PipelineWrap*>(p);
  self->cleanup_hook_ = false;  // run once; the destructor must not remove it again
  self->StopAndCloseDelivery();
}

void PipelineWrap::StopAndCloseDelivery() {
  if (release_) release_->Disarm();
  if (pipeline_) pipeline_->Stop();
  delivery_->Close(true);
}

void PipelineWrap::DeliveryGate::Close(bool abort) {
  std::lock_guard<std::mutex> lock(mu);
  if (!live) return;
  live = false;
  if (abort) tsfn.Abort();
}

void PipelineWrap::Notify() {
  std::lock_guard<std::mutex> lock(delivery_->mu);
  if (!delivery_->live) return;
  delivery_->tsfn.NonBlockingCall(nullptr);
}

void PipelineWrap::CallDeliver(Napi::Env env, Napi::Function cb, PipelineWrap* self, void*) {
  if (env != nullptr && self != nullptr) self->Deliver(env, cb);
}

void PipelineWrap::Deliver(Napi::Env env, Napi::Function callback) {
  if (!pipeline_) return;
  if (release_) release_->Drain(env);  // pushed frames' buffers the source threads are done with
  results_.clear();
  events_.clear();
  pipeline_->DrainEvents(results_, events_);
  if (results_.empty() && events_.empty()) return;
  // Nothing may escape a thread-safe-function callback, and a Napi::Error does not come only from the JS callback
  // (the TS layer catches user errors itself): while an environment is torn down — a worker thread that owns this
  // pipeline ends, or the process exits under it — Node still dispatches pending calls, N-API refuses every call with
  // napi_pending_exception, and node-addon-api, unable to rethrow that into JS, lets it through to std::terminate.
  // The drained results go back to the ring whatever happens, exactly once.
  try {
    Napi::HandleScope scope(env);
    Napi::Array results = Napi::Array::New(env, results_.size());
    for (size_t i = 0; i < results_.size(); ++i) results.Set(uint32_t(i), ResultToJs(env, *results_[i]));
    pipeline_->ReleaseResults(results_);
    results_.clear();  // released once: the catch below releases only what is still here
    Napi::Array events = Napi::Array::New(env, events_.size());
    for (size_t i = 0; i < events_.size(); ++i) events.Set(uint32_t(i), EventToJs(env, events_[i]));
    callback.Call({results, events});
  } catch (const Napi::Error&) {
    pipeline_->ReleaseResults(results_);
  }
}

Napi::Value PipelineWrap::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

// addStream(config) → handle
Napi::Value PipelineWrap::AddStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Object config = ArgObject(info, 0, "config");
    if (closed_) throw Error(ErrorCode::kInvalidState, "pipeline", "pipeline is closed");
    return Napi::Number::New(env, pipeline_->AddStream(ReadStream(config)));
  });
}

// removeStream(handle): an unknown handle (already removed) is ignored; after close() it does nothing.
Napi::Value PipelineWrap::RemoveStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    if (!closed_) pipeline_->RemoveStream(handle);
    return env.Undefined();
  });
}

// setStreamPaused(handle, paused): delivery credit of a lossless stream (src/delivery.ts); an unknown handle (the
// stream ended or was removed) is ignored, and so is every call after close().
Napi::Value PipelineWrap::SetStreamPaused(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    const bool paused = ArgBool(info, 1, "paused");
    if (!closed_) pipeline_->SetStreamPaused(handle, paused);
    return env.Undefined();
  });
}

// pushFrame(handle, seq, bytes, ptsMs[, high]) → frames queued after it. `seq`: the number of frames this stream accepted so
// far (JS counts them; native checks it); `bytes`: a Uint8Array (a Buffer is one), held without a copy until decoded
// (push_bytes.h); `ptsMs`: >= 0, or -1 for the time since the stream's first push. Throws ERR_CAMTRACK_INVALID_STATE
// when the stream is not a running pushed stream, was ended, or is lossless with a full queue (PushInput::Push).
// `high` (optional boolean, default false): the frame's own priority 'high' (Pipeline::PushFrame).
Napi::Value PipelineWrap::PushFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    const int64_t seq = ArgInteger(info, 1, "seq", 0, kMaxSafeInteger);
    const Napi::Uint8Array bytes = ArgUint8Array(info, 2, "bytes");
    const int64_t pts_ms = ArgInteger(info, 3, "ptsMs", -1, kMaxSafeInteger);
    const bool high = info.Length() > 4 && !info[4].IsUndefined() ? ArgBool(info, 4, "high") : false;
    if (closed_) throw Error(ErrorCode::kInvalidState, "pipeline", "pipeline is closed");
    release_->Drain(env);
    auto held = std::make_unique<JsPushedBytes>(env, bytes, release_);
    const auto pushed = pipeline_->PushFrame(handle, seq, std::move(held), pts_ms, high);
    return Napi::Number::New(env, double(pushed.queued));
  });
}

// endPush(handle): no more frames; the stream ends once its queue is decoded. Unknown handles and calls after close()
// are ignored.
Napi::Value PipelineWrap::EndPush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    if (!closed_) pipeline_->EndPush(handle);
    return env.Undefined();
  });
}

// requestSnapshot(handle, boxes, quality) → false when one is already in progress for that stream. The snapshot comes
// as a 'snapshot' event; takeSnapshot() then copies it out. Throws ERR_CAMTRACK_INVALID_STATE for a stream that is
// not running.
Napi::Value PipelineWrap::RequestSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    const bool boxes = ArgBool(info, 1, "boxes");
    const int quality = ArgInt(info, 2, "quality", 1, 100);
    if (closed_) throw Error(ErrorCode::kInvalidState, "pipeline", "pipeline is closed");
    return Napi::Boolean::New(env, pipeline_->RequestSnapshot(handle, boxes, quality));
  });
}

// cancelSnapshot(handle) → true when a request no frame was taken for yet was withdrawn.
Napi::Value PipelineWrap::CancelSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    return Napi::Boolean::New(env, !closed_ && pipeline_->CancelSnapshot(handle));
  });
}

// takeSnapshot(handle) → { jpeg: Buffer, frameIndex, ptsMs, width, height, boxes, numBoxes } | { error, frameIndex }
// | undefined (none ready). The JPEG bytes are copied once into the Buffer; the stream's slot is free again after.
Napi::Value PipelineWrap::TakeSnapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int handle = ArgInt(info, 0, "handle", 0, INT_MAX);
    Napi::Value out = env.Undefined();
    if (closed_) return out;
    pipeline_->TakeSnapshot(handle, [&](const snapshot::SnapshotView& v) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("frameIndex", double(v.frame_index));
      o.Set("ptsMs", double(v.pts_ms));
      o.Set("width", v.width);
      o.Set("height", v.height);
      o.Set("boxes", v.boxes);
      o.Set("numBoxes", v.num_boxes);
      if (v.jpeg)
        o.Set("jpeg", Napi::Buffer<uint8_t>::Copy(env, v.jpeg, v.size));
      else
        o.Set("error", v.error);
      out = o;
    });
    return out;
  });
}

Napi::Value PipelineWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return StatsToJs(env, pipeline_->Stats()); });
}

// streamStats(handle): that stream's stats only, or undefined when it is not a current stream.
Napi::Value PipelineWrap::StreamStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const auto s = pipeline_->StreamStats(ArgInt(info, 0, "handle", 0, INT_MAX));
    return s ? Napi::Value(StatsToJs(env, *s)) : env.Undefined();
  });
}

// flush(onEvents): synchronously delivers whatever is waiting (used by close() so the last results are not lost).
Napi::Value PipelineWrap::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Function on_events = ArgFunction(info, 0, "onEvents");
    Deliver(env, on_events);
    return env.Undefined();
  });
}

// Stops the pipeline (sources → batcher → in-flight batches → threads) and releases the delivery function.
Napi::Value PipelineWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (closed_) return env.Undefined();
    closed_ = true;
    pipeline_->Stop();
    release_->Drain(env);  // every pushed frame was let go of by the stop
    {
      // Release, not Abort: a call already queued still delivers (the TS layer flushes what is left anyway).
      std::lock_guard<std::mutex> lock(delivery_->mu);
      if (delivery_->live) {
        delivery_->live = false;
        delivery_->tsfn.Release();
      }
    }
    return env.Undefined();
  });
}

}  // namespace camtrack::binding
