#include "binding/pipeline_wrap.h"

#include <iterator>
#include <map>
#include <memory>
#include <string_view>
#include <type_traits>

#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/track_convert.h"
#include "core/common/clock.h"

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

Napi::Object TracksToJs(Napi::Env env, const pipeline::FrameResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("stream", r.stream);
  o.Set("frameIndex", double(r.frame_index));
  o.Set("ptsMs", double(r.pts_ms));
  o.Set("wallMs", double(r.wall_ms));
  o.Set("latencyMs", double(r.done_at_ns - r.decoded_at_ns) / 1e6);
  o.Set("width", r.width);
  o.Set("height", r.height);
  Napi::Array dets = Napi::Array::New(env, r.detections.size());
  for (size_t i = 0; i < r.detections.size(); ++i) {
    const Detection& d = r.detections[i];
    Napi::Object j = Napi::Object::New(env);
    SetBox(j, d.box);
    j.Set("score", d.score);
    j.Set("classId", d.class_id);
    dets.Set(uint32_t(i), j);
  }
  o.Set("detections", dets);
  Napi::Array tracks = Napi::Array::New(env, r.tracks.size());
  for (size_t i = 0; i < r.tracks.size(); ++i) tracks.Set(uint32_t(i), TrackToJs(env, r.tracks[i]));
  o.Set("tracks", tracks);
  if (!r.track_events.empty()) {
    Napi::Array evs = Napi::Array::New(env, r.track_events.size());
    for (size_t i = 0; i < r.track_events.size(); ++i) evs.Set(uint32_t(i), TrackEventToJs(env, r.track_events[i]));
    o.Set("trackEvents", evs);
  }
  return o;
}

// Every Read* below copies a complete, validated config (src/config/, src/pipeline.ts): each field is required and
// none has a default here (convert.h).
preprocess::ModelInputSpec ReadInputSpec(const Napi::Object& m) {
  preprocess::ModelInputSpec s;
  s.width = RequireInt(m, "inputWidth");
  s.height = RequireInt(m, "inputHeight");
  s.channel_order = RequireOneOf(m, "channelOrder", {"rgb", "bgr"}) == 1 ? preprocess::ChannelOrder::kBGR
                                                                          : preprocess::ChannelOrder::kRGB;
  s.align = RequireOneOf(m, "letterbox", {"center", "top-left"}) == 1 ? preprocess::LetterboxAlign::kTopLeft
                                                                      : preprocess::LetterboxAlign::kCenter;
  s.pad_value = float(RequireNumber(m, "padValue"));
  s.scale = float(RequireNumber(m, "scale"));
  const auto mean = RequireNumbers(m, "mean"), stdv = RequireNumbers(m, "std");
  if (mean.size() != 3 || stdv.size() != 3)
    throw Error(ErrorCode::kInvalidArgument, "binding", "Expected 3 values for mean and std in the native config");
  for (int c = 0; c < 3; ++c) {
    s.mean[c] = float(mean[c]);
    s.std[c] = float(stdv[c]);
  }
  return s;
}

postprocess::ParserConfig ReadParser(const Napi::Object& m) {
  postprocess::ParserConfig p;
  const std::string layout = RequireString(m, "layout");
  if (!postprocess::ParseLayoutName(layout, &p.layout))
    throw Error(ErrorCode::kInvalidArgument, "binding", "unknown output layout '" + layout + "'",
                "use 'ultralytics', 'yolox' or 'e2e'");
  p.input_width = RequireInt(m, "inputWidth");
  p.input_height = RequireInt(m, "inputHeight");
  p.num_classes = RequireInt(m, "numClasses");
  p.num_anchors = RequireInt(m, "numAnchors");
  p.score_threshold = float(RequireNumber(m, "scoreThreshold"));
  p.nms_iou = float(RequireNumber(m, "nmsIou"));
  p.class_agnostic_nms = RequireBool(m, "classAgnosticNms");
  p.nms_for_end_to_end = RequireBool(m, "nmsForEndToEnd");
  p.max_detections = RequireInt(m, "maxDetections");
  // The YOLOX grid's strides, where the model says (absent: ParserConfig's {8, 16, 32}).
  const auto strides = OptionalNumbers(m, "strides");
  if (!strides.empty()) {
    p.strides.clear();
    for (double s : strides) p.strides.push_back(int(s));
  }
  return p;
}

// NativeStreamConfig (src/native.ts) → StreamConfig.
pipeline::StreamConfig ReadStream(const Napi::Object& o) {
  pipeline::StreamConfig c;
  c.id = RequireString(o, "id");
  c.source.url = RequireString(o, "url");
  c.source.rtsp_transport = RequireString(o, "rtspTransport");
  c.source.open_timeout_ms = RequireInt(o, "openTimeoutMs");
  c.source.read_timeout_ms = RequireInt(o, "readTimeoutMs");
  c.source.loop = RequireBool(o, "loop");
  c.source.decoder_threads = RequireInt(o, "decoderThreads");
  c.source.input_formats = RequireString(o, "inputFormats");
  c.fps_limit = RequireNumber(o, "fpsLimit");
  const int live = RequireInt(o, "live");
  if (live < int(decode::LiveMode::kAuto) || live > int(decode::LiveMode::kLive))
    throw Error(ErrorCode::kInvalidArgument, "binding",
                "Expected -1 (auto), 0 (file) or 1 (live) for live in the native config but received " +
                    std::to_string(live));
  c.source.live = decode::LiveMode(live);
  static constexpr pipeline::DecodeMode kDecodeModes[] = {pipeline::DecodeMode::kAuto, pipeline::DecodeMode::kCpu,
                                                          pipeline::DecodeMode::kGpu};
  c.decode = kDecodeModes[RequireOneOf(o, "decode", {"auto", "cpu", "gpu"})];
  Napi::Object tr = RequireObject(o, "tracker");
  c.tracking = RequireString(tr, "type") != "none";
  if (c.tracking) {
    double frame_rate = 0;  // the pipeline converts trackBufferSeconds with the stream's real fps instead
    c.tracker = ReadTrackerConfig(tr, &c.track_buffer_seconds, &frame_rate);
  }
  Napi::Object rc = RequireObject(o, "reconnect");
  c.reconnect.stall_timeout_ms = RequireInt(rc, "stallTimeoutMs");
  c.reconnect.initial_delay_ms = RequireInt(rc, "initialDelayMs");
  c.reconnect.max_delay_ms = RequireInt(rc, "maxDelayMs");
  c.reconnect.multiplier = RequireNumber(rc, "multiplier");
  c.reconnect.jitter = RequireNumber(rc, "jitter");
  c.reconnect.max_attempts = RequireInt(rc, "maxAttempts");
  return c;
}

// Writes the fields pipeline::VisitStats names (core/pipeline/stats.h) into a JS object, as they are: the objects
// stats() and streamStats() return are the public ones (src/types.ts), not renamed on the way.
class JsStatsWriter {
 public:
  explicit JsStatsWriter(Napi::Env env) : env_(env), object_(Napi::Object::New(env)) {}
  Napi::Object object() const { return object_; }

  template <class T>
  void operator()(const char* name, const T& value) {
    object_.Set(name, ToJs(value));
  }
  template <class Fill>
  void Object(const char* name, Fill&& fill) {
    JsStatsWriter nested(env_);
    fill(nested);
    object_.Set(name, nested.object_);
  }
  template <class Snapshot>
  void List(const char* name, const std::vector<Snapshot>& items) {
    Napi::Array a = Napi::Array::New(env_, items.size());
    for (size_t i = 0; i < items.size(); ++i) a.Set(uint32_t(i), Of(env_, items[i]));
    object_.Set(name, a);
  }
  template <class Snapshot>
  static Napi::Object Of(Napi::Env env, const Snapshot& snapshot) {
    JsStatsWriter w(env);
    pipeline::VisitStats(snapshot, w);
    return w.object_;
  }

 private:
  template <class T>
  Napi::Value ToJs(const T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      return Napi::Boolean::New(env_, v);
    } else if constexpr (std::is_arithmetic_v<T>) {
      return Napi::Number::New(env_, double(v));  // counters: exact up to 2^53
    } else if constexpr (std::is_same_v<T, ErrorCode>) {
      return Napi::String::New(env_, JsErrorCode(v));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      const std::string_view sv(v);
      return Napi::String::New(env_, sv.data(), sv.size());
    } else {  // a fixed array of values (histogram bounds and counts)
      Napi::Array a = Napi::Array::New(env_, std::size(v));
      uint32_t i = 0;
      for (const auto& x : v) a.Set(i++, ToJs(x));
      return a;
    }
  }
  Napi::Env env_;
  Napi::Object object_;
};

}  // namespace

Napi::Function PipelineWrap::Init(Napi::Env env) {
  return DefineClass(env, "NativePipeline",
                     {
                         InstanceAccessor<&PipelineWrap::Id>("id"),
                         InstanceMethod<&PipelineWrap::AddStream>("addStream"),
                         InstanceMethod<&PipelineWrap::RemoveStream>("removeStream"),
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
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Error(ErrorCode::kInvalidArgument, "binding", "Expected (config: object, onEvents: function)");
    Napi::Object cfg = info[0].As<Napi::Object>();
    Napi::Object m = RequireObject(cfg, "model");
    pipeline::ModelConfig model;
    model.input = ReadInputSpec(m);
    model.parser = ReadParser(m);
    model.batch_size = RequireInt(m, "batchSize");
    model.fixed_batch = RequireBool(m, "fixedBatch");
    model.output_elems_per_image = size_t(RequireNumber(m, "outputElemsPerImage"));
    Napi::Object b = RequireObject(cfg, "batching");
    pipeline::BatchingConfig batching;
    batching.max_wait_ms = RequireInt(b, "maxWaitMs");
    batching.result_capacity = RequireInt(b, "resultCapacity");
    Napi::Object ig = RequireObject(cfg, "ingest");
    pipeline::IngestConfig ingest;
    ingest.reconnect_rate_per_second = RequireNumber(ig, "reconnectRatePerSecond");
    ingest.reconnect_burst = RequireNumber(ig, "reconnectBurst");
    ingest.decode_device = RequireInt(RequireObject(cfg, "gpu"), "device");
    tsfn_ = DeliverTsfn::New(env, info[1].As<Napi::Function>(), "camtrack-delivery", 0, 1, this);
    tsfn_live_ = true;
    pipeline_ = std::make_shared<pipeline::Pipeline>(std::move(model), batching, this, ingest);
    std::lock_guard<std::mutex> lock(g_registry_mu);
    id_ = g_next_id++;
    g_registry[id_] = pipeline_;
    return 0;
  });
}

PipelineWrap::~PipelineWrap() {
  // close() is the normal path; if JS dropped the object without it, stop threads before members go away.
  if (pipeline_) pipeline_->Stop();
  std::lock_guard<std::mutex> lock(g_registry_mu);
  g_registry.erase(id_);
}

void PipelineWrap::Notify() {
  std::lock_guard<std::mutex> lock(tsfn_mu_);
  if (!tsfn_live_) return;
  tsfn_.NonBlockingCall(nullptr);
}

void PipelineWrap::CallDeliver(Napi::Env env, Napi::Function cb, PipelineWrap* self, void*) {
  if (env != nullptr && self != nullptr) self->Deliver(env, cb);
}

void PipelineWrap::Deliver(Napi::Env env, Napi::Function callback) {
  if (!pipeline_) return;
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
    for (size_t i = 0; i < results_.size(); ++i) results.Set(uint32_t(i), TracksToJs(env, *results_[i]));
    pipeline_->ReleaseResults(results_);
    results_.clear();  // released once: the catch below releases only what is still here
    Napi::Array events = Napi::Array::New(env, events_.size());
    for (size_t i = 0; i < events_.size(); ++i) {
      const auto& e = events_[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("kind", ingest::EventKindName(e.kind));
      o.Set("stream", e.stream);
      if (e.state) o.Set("state", pipeline::StreamStateName(*e.state));
      if (!e.reason.empty()) o.Set("reason", e.reason);
      if (e.attempt > 0) o.Set("attempt", e.attempt);
      const bool source_failure = e.code != ErrorCode::kInference;
      if (e.kind == pipeline::EventKind::kError || e.kind == pipeline::EventKind::kWarning ||
          (e.kind == pipeline::EventKind::kState && e.has_error))
        o.Set("error", MakeJsError(env, e.code, source_failure ? "source" : "pipeline", e.message, e.hint,
                                   e.native_code));
      else if (!e.message.empty())
        o.Set("message", e.message);
      events.Set(uint32_t(i), o);
    }
    callback.Call({results, events});
  } catch (const Napi::Error&) {
    pipeline_->ReleaseResults(results_);
  }
}

Napi::Value PipelineWrap::Id(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), id_); }

Napi::Value PipelineWrap::AddStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (closed_) throw Error(ErrorCode::kInvalidState, "pipeline", "pipeline is closed");
    if (info.Length() < 1 || !info[0].IsObject())
      throw Error(ErrorCode::kInvalidArgument, "binding", "Expected stream config object");
    return Napi::Number::New(env, pipeline_->AddStream(ReadStream(info[0].As<Napi::Object>())));
  });
}

Napi::Value PipelineWrap::RemoveStream(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!closed_ && info.Length() > 0 && info[0].IsNumber())
      pipeline_->RemoveStream(info[0].As<Napi::Number>().Int32Value());
    return env.Undefined();
  });
}

Napi::Value PipelineWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value { return JsStatsWriter::Of(env, pipeline_->Stats()); });
}

// streamStats(handle): that stream's stats only, or undefined when it is not a current stream.
Napi::Value PipelineWrap::StreamStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsNumber())
      throw Error(ErrorCode::kInvalidArgument, "binding", "Expected (handle: number)");
    const auto s = pipeline_->StreamStats(info[0].As<Napi::Number>().Int32Value());
    return s ? Napi::Value(JsStatsWriter::Of(env, *s)) : env.Undefined();
  });
}

// Synchronously delivers whatever is waiting (used by close() so the last results are not lost).
Napi::Value PipelineWrap::Flush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 0 && info[0].IsFunction()) Deliver(env, info[0].As<Napi::Function>());
  return env.Undefined();
}

// Stops the pipeline (sources → batcher → in-flight batches → threads) and releases the delivery function.
Napi::Value PipelineWrap::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (closed_) return env.Undefined();
    closed_ = true;
    pipeline_->Stop();
    {
      std::lock_guard<std::mutex> lock(tsfn_mu_);
      if (tsfn_live_) {
        tsfn_live_ = false;
        tsfn_.Release();
      }
    }
    return env.Undefined();
  });
}

// attachWorker(pipelineId, inputs: Float32Array[], outputs: Float32Array[], onSubmit(slot, images), name) → index
// Called from a worker thread's environment. The typed arrays are that worker's own, allocated once; the worker
// keeps them alive until detachWorker (they are lent, not copied, and no external buffer is created).
Napi::Value AttachWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsFunction())
      throw Error(ErrorCode::kInvalidArgument, "binding", "Expected (pipelineId, inputs[], outputs[], onSubmit)");
    const int pid = info[0].As<Napi::Number>().Int32Value();
    auto p = Lookup(pid);
    if (!p) throw Error(ErrorCode::kInvalidState, "binding", "pipeline is closed");
    Napi::Array ins = info[1].As<Napi::Array>(), outs = info[2].As<Napi::Array>();
    if (ins.Length() != outs.Length() || ins.Length() == 0)
      throw Error(ErrorCode::kInvalidArgument, "binding", "inputs and outputs must be non-empty and the same length");
    std::vector<infer::BatchBuffers> slots;
    for (uint32_t i = 0; i < ins.Length(); ++i) {
      Napi::Value a = ins.Get(i), b = outs.Get(i);
      if (!a.IsTypedArray() || !b.IsTypedArray() ||
          a.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
          b.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        throw Error(ErrorCode::kInvalidArgument, "binding", "batch buffers must be Float32Array");
      auto fa = a.As<Napi::Float32Array>(), fb = b.As<Napi::Float32Array>();
      slots.push_back({fa.Data(), fa.ElementLength(), fb.Data(), fb.ElementLength()});
    }
    const std::string name = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "js";
    auto w = std::make_shared<JsWorker>(std::move(slots), name);
    w->Start(SubmitTsfn::New(env, info[3].As<Napi::Function>(), "camtrack-infer", 0, 1, nullptr));
    const int index = p->AddWorker(w);
    {
      std::lock_guard<std::mutex> lock(g_workers_mu);
      g_workers[{pid, index}] = w;
    }
    auto* hook = new WorkerExitHook{pid, index, w};
    if (napi_add_env_cleanup_hook(env, OnWorkerEnvExit, hook) != napi_ok) delete hook;
    return Napi::Number::New(env, index);
  });
}

// completeBatch(pipelineId, workerIndex, slot, ok, errorMessage?)
Napi::Value CompleteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int pid = info[0].As<Napi::Number>().Int32Value();
  const int w = info[1].As<Napi::Number>().Int32Value();
  const int slot = info[2].As<Napi::Number>().Int32Value();
  const bool ok = info[3].ToBoolean().Value();
  const std::string err = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  if (auto p = Lookup(pid)) p->CompleteBatch(w, slot, ok, err);
  return env.Undefined();
}

// detachWorker(pipelineId, workerIndex): releases the worker's wake-up function (in the worker's environment).
Napi::Value DetachWorker(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int pid = info[0].As<Napi::Number>().Int32Value();
  const int w = info[1].As<Napi::Number>().Int32Value();
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
}

}  // namespace camtrack::binding
