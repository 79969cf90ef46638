#pragma once
// NativePipeline (JS class) — a thin ObjectWrap over core::pipeline::Pipeline. No pipeline logic lives here; its
// config is read by pipeline_config.h, its results, events and stats are marshalled by marshal.h, and its inference
// workers attach through worker_bridge.h. Every method checks its arguments (args.h).
//
// Delivery: one TypedThreadSafeFunction per pipeline. Pipeline threads call Notify() (non-blocking, coalesced: at
// most one pending call); its callback on the main thread drains results and events and calls the JS onEvents
// callback once with arrays. Nothing is thrown out of that callback.
//
// Teardown without close() (the owner's environment ends: a worker thread that owns the pipeline is terminated, or
// the process exits from another thread): Node deletes a thread-safe function when its environment is torn down,
// whatever its thread count — a call after that is a use after free (it locks and pushes into freed memory: glibc's
// "double free or corruption"). So the env cleanup hook stops the whole pipeline (every thread that can Notify() is
// joined) and then aborts the function, and the function's finalizer closes the DeliveryGate, so no thread calls a
// deleted function whichever of the two runs first. The gate is shared with that finalizer, which may run after this
// wrap is gone.
//
// Inference workers (worker_threads running onnxruntime-node) attach from their own Node environment with the
// module functions of worker_bridge.h, addressing the pipeline by its `id` in a process-wide registry (a worker env
// cannot hold a reference to an object of the main env).
#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "binding/push_bytes.h"
#include "core/pipeline/pipeline.h"

namespace camtrack::binding {

class PipelineWrap : public Napi::ObjectWrap<PipelineWrap>, public pipeline::EventSink {
 public:
  static Napi::Function Init(Napi::Env env);
  explicit PipelineWrap(const Napi::CallbackInfo& info);
  ~PipelineWrap() override;

  void Notify() override;  // pipeline threads
  void Deliver(Napi::Env env, Napi::Function callback);  // main thread (TSFN callback)

 private:
  // Typed TSFN: a call carries no payload and allocates nothing (the context is this wrap).
  static void CallDeliver(Napi::Env env, Napi::Function cb, PipelineWrap* self, void* data);
  using DeliverTsfn = Napi::TypedThreadSafeFunction<PipelineWrap, void, &PipelineWrap::CallDeliver>;

  Napi::Value Id(const Napi::CallbackInfo& info);
  Napi::Value AddStream(const Napi::CallbackInfo& info);
  Napi::Value RemoveStream(const Napi::CallbackInfo& info);
  Napi::Value SetStreamPaused(const Napi::CallbackInfo& info);
  Napi::Value PushFrame(const Napi::CallbackInfo& info);
  Napi::Value EndPush(const Napi::CallbackInfo& info);
  Napi::Value RequestSnapshot(const Napi::CallbackInfo& info);
  Napi::Value CancelSnapshot(const Napi::CallbackInfo& info);
  Napi::Value TakeSnapshot(const Napi::CallbackInfo& info);
  Napi::Value ConfigureStream(const Napi::CallbackInfo& info);  // [live config] defined in configure.cpp
  Napi::Value ChangeAnalyticsCounts(const Napi::CallbackInfo& info);  // defined in configure.cpp
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value StreamStats(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // The owner's environment is torn down (a worker thread that owns the pipeline ends without close()): the whole
  // pipeline stops — pushed streams before the JS buffers they read are freed, every other thread before Node deletes
  // the delivery function — and then the function is aborted (see "Teardown without close()" above).
  static void OnEnvCleanup(void* self);

  // Stops every pipeline thread, then closes and aborts the delivery function (close() without the JS flush).
  void StopAndCloseDelivery();

  // The delivery function and whether it may still be called; Notify() calls it only under `mu` while `live`.
  // Closed by close(), the env cleanup hook, the destructor, or the function's finalizer (Node deletes the function
  // right after it, at environment teardown).
  struct DeliveryGate {
    std::mutex mu;
    DeliverTsfn tsfn;
    bool live = false;
    // Under `mu`: no call after this returns. Abort (not Release): queued calls then reach CallDeliver with a null
    // env and never touch the wrap, which may be freed before the function is.
    void Close(bool abort);
  };

  std::shared_ptr<pipeline::Pipeline> pipeline_;
  int id_ = 0;
  bool cleanup_hook_ = false;
  // Pushed frames' JS buffers to let go of on this thread (push_bytes.h).
  std::shared_ptr<ReleaseQueue> release_;
  std::shared_ptr<DeliveryGate> delivery_ = std::make_shared<DeliveryGate>();
  bool closed_ = false;
  // Main-thread scratch reused across deliveries.
  std::vector<pipeline::FrameResult*> results_;
  std::vector<pipeline::StreamEvent> events_;
};

}  // namespace camtrack::binding
