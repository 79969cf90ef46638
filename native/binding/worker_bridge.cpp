#include "binding/worker_bridge.h"

#include <climits>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "binding/args.h"
#include "binding/errors.h"

namespace camtrack::binding {
namespace {

// Process-wide registry: id → pipeline. Worker environments reach their pipeline through it.
std::mutex g_registry_mu;
std::map<int, std::weak_ptr<pipeline::Pipeline>> g_registry;
int g_next_id = 1;

std::shared_ptr<pipeline::Pipeline> Lookup(int id) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  auto it = g_registry.find(id);
  return it == g_registry.end() ? nullptr : it->second.lock();
}

void CallSubmit(Napi::Env env, Napi::Function cb, std::nullptr_t*, void* p) {
  if (env == nullptr) return;
  const intptr_t v = reinterpret_cast<intptr_t>(p);
  try {
    cb.Call({Napi::Number::New(env, double(v >> 20)), Napi::Number::New(env, double(v & 0xFFFFF))});
  } catch (const Napi::Error&) {
    // The worker script reports its own failures through completeBatch(ok=false); never rethrow here.
  }
}
using SubmitTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, void, &CallSubmit>;

// An inference worker living in a worker_threads environment. Submit() wakes it through a TSFN created in that
// environment; the pointer-sized payload encodes (slot, images), so a submission allocates nothing.
class JsWorker : public infer::InferenceWorker {
 public:
  JsWorker(std::vector<infer::BatchBuffers> slots, std::string name) : slots_(std::move(slots)), name_(std::move(name)) {}
  const std::vector<infer::BatchBuffers>& slots() const override { return slots_; }
  std::string name() const override { return name_; }

  void Start(SubmitTsfn tsfn) {
    std::lock_guard<std::mutex> lock(mu_);
    tsfn_ = tsfn;
    alive_ = true;
  }
  bool Submit(int local_slot, int images) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!alive_) return false;
    const intptr_t payload = (intptr_t(local_slot) << 20) | intptr_t(images);
    return tsfn_.NonBlockingCall(reinterpret_cast<void*>(payload)) == napi_ok;
  }
  // Its environment is being torn down without detachWorker (the thread crashed or was terminated): no more calls
  // into it. True when it was still attached. (The TSFN is finalized by that teardown.)
  bool Kill() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!alive_) return false;
    alive_ = false;
    return true;
  }
  // Called in the worker's own environment.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!alive_) return;
    alive_ = false;
    tsfn_.Release();
  }

 private:
  std::vector<infer::BatchBuffers> slots_;
  std::string name_;
  std::mutex mu_;
  SubmitTsfn tsfn_;
  bool alive_ = false;
};

std::mutex g_workers_mu;
std::map<std::pair<int, int>, std::shared_ptr<JsWorker>> g_workers;  // (pipeline id, worker index) → worker

// Runs when a worker thread's environment is torn down. After detachWorker it has nothing to do. Otherwise the
// worker died attached (an uncaught exception, terminate()): the pipeline must stop using its batch buffers, which
// this teardown is about to free, and fail the batches it will never complete (Pipeline::RetireWorker).
struct WorkerExitHook {
  int pipeline_id;
  int index;
  std::weak_ptr<JsWorker> worker;
};
void OnWorkerEnvExit(void* arg) {
  std::unique_ptr<WorkerExitHook> hook(static_cast<WorkerExitHook*>(arg));
  auto worker = hook->worker.lock();
  if (!worker || !worker->Kill()) return;
  {
    std::lock_guard<std::mutex> lock(g_workers_mu);
    g_workers.erase({hook->pipeline_id, hook->index});
  }
  if (auto p = Lookup(hook->pipeline_id))
    p->RetireWorker(hook->index, "its thread ended while attached (an uncaught error in the worker, or terminate())");
}

// Slots are addressed with 20 bits in a submission's payload (CallSubmit).
constexpr int kMaxSlot = (1 << 20) - 1;

}  // namespace

int RegisterPipeline(const std::shared_ptr<pipeline::Pipeline>& p) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  const int id = g_next_id++;
  g_registry[id] = p;
  return id;
}

void UnregisterPipeline(int id) {
  std::lock_guard<std::mutex> lock(g_registry_mu);
  g_registry.erase(id);
}

// Called from a worker thread's environment. The typed arrays are that worker's own, allocated once; the worker
// keeps them alive until detachWorker (they are lent, not copied, and no external buffer is created).
Napi::Value AttachWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int pid = ArgInt(info, 0, "pipelineId", 1, INT_MAX);
    Napi::Array ins = ArgArray(info, 1, "inputs"), outs = ArgArray(info, 2, "outputs");
    Napi::Function on_submit = ArgFunction(info, 3, "onSubmit");
    const std::string name = ArgOptionalString(info, 4, "name", "js");
    // 'fallback': a worker of the circuit breaker's fallback backend (batch::Pool::kFallback; docs/scheduling.md).
    const std::string pool = ArgOptionalString(info, 5, "pool", "primary");
    if (pool != "primary" && pool != "fallback")
      throw Error(ErrorCode::kInvalidArgument, "binding", "pool must be 'primary' or 'fallback', got '" + pool + "'");
    if (ins.Length() != outs.Length() || ins.Length() == 0 || ins.Length() > uint32_t(kMaxSlot))
      throw Error(ErrorCode::kInvalidArgument, "binding", "inputs and outputs must be non-empty and the same length");
    std::vector<infer::BatchBuffers> slots;
    for (uint32_t i = 0; i < ins.Length(); ++i) {
      auto fa = ArgFloat32Array(ins.Get(i), "inputs[" + std::to_string(i) + "]");
      auto fb = ArgFloat32Array(outs.Get(i), "outputs[" + std::to_string(i) + "]");
      slots.push_back({fa.Data(), fa.ElementLength(), fb.Data(), fb.ElementLength()});
    }
    auto p = Lookup(pid);
    if (!p) throw Error(ErrorCode::kInvalidState, "binding", "pipeline is closed");
    auto w = std::make_shared<JsWorker>(std::move(slots), name);
    w->Start(SubmitTsfn::New(env, on_submit, "camtrack-infer", 0, 1, nullptr));
    int index;
    try {
      index = p->AddWorker(w, pool == "fallback" ? batch::Pool::kFallback : batch::Pool::kPrimary);
    } catch (...) {
      w->Stop();  // a refused worker leaves no wake-up function behind (it would keep the worker's loop alive)
      throw;
    }
    {
      std::lock_guard<std::mutex> lock(g_workers_mu);
      g_workers[{pid, index}] = w;
    }
    auto* hook = new WorkerExitHook{pid, index, w};
    if (napi_add_env_cleanup_hook(env, OnWorkerEnvExit, hook) != napi_ok) delete hook;
    return Napi::Number::New(env, index);
  });
}

// A batch of a pipeline that is gone (closed while the worker ran it) is ignored: that is the normal end of a run.
Napi::Value CompleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int pid = ArgInt(info, 0, "pipelineId", 1, INT_MAX);
    const int w = ArgInt(info, 1, "workerIndex", 0, INT_MAX);
    const int slot = ArgInt(info, 2, "slot", 0, kMaxSlot);
    const bool ok = ArgBool(info, 3, "ok");
    const std::string err = ArgOptionalString(info, 4, "errorMessage", "");
    if (auto p = Lookup(pid)) {
      if (p->CompleteBatch(w, slot, ok, err) == pipeline::Pipeline::Completion::kUnknown)
        throw Error(ErrorCode::kInvalidArgument, "binding",
                    "completeBatch: pipeline " + std::to_string(pid) + " has no worker " + std::to_string(w) +
                        " with a slot " + std::to_string(slot),
                    "pass the index attachWorker returned and a slot it submitted");
    }
    return env.Undefined();
  });
}

// Releases the worker's wake-up function (in the worker's environment). Unknown ids are ignored (idempotent).
Napi::Value DetachWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int pid = ArgInt(info, 0, "pipelineId", 1, INT_MAX);
    const int w = ArgInt(info, 1, "workerIndex", 0, INT_MAX);
    std::shared_ptr<JsWorker> worker;
    {
      std::lock_guard<std::mutex> lock(g_workers_mu);
      auto it = g_workers.find({pid, w});
      if (it != g_workers.end()) {
        worker = it->second;
        g_workers.erase(it);
      }
    }
    if (worker) worker->Stop();
    return env.Undefined();
  });
}

}  // namespace camtrack::binding
