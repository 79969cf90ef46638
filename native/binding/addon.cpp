// camtrack native module entry point. The only place besides native/binding/* that sees napi.h.
// Exports (typed one-to-one in src/native.ts):
//   NativePipeline                         class, see pipeline_wrap.h
//   NativeTracker                          class, see tracker_wrap.h (standalone tracker)
//   NativeAnalytics                        class, see analytics_wrap.h (standalone analytics)
//   attachWorker/completeBatch/detachWorker  inference-worker bridge, called from worker threads (worker_bridge.h)
//   capabilities()                          what this build and machine support (CUDA, NVDEC, TensorRT, FFmpeg)
//   setErrorClass(cls)                      the JS CamtrackError class native errors are created with
#include <napi.h>

#include "binding/analytics_wrap.h"
#include "binding/args.h"
#include "binding/errors.h"
#include "binding/pipeline_wrap.h"
#include "binding/tracker_wrap.h"
#include "binding/worker_bridge.h"
#include "core/cuda/capabilities.h"
#include "core/decode/ffmpeg_log.h"

namespace camtrack::binding {
namespace {

Napi::Object Feature(Napi::Env env, bool available, const std::string& reason) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("available", available);
  if (!reason.empty()) o.Set("reason", reason);
  return o;
}

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(uint32_t(i), v[i]);
  return a;
}

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const cuda::Capabilities c = cuda::ProbeCapabilities();
  Napi::Object o = Napi::Object::New(env);
  Napi::Object cu = Feature(env, c.cuda.available, c.cuda.reason);
  cu.Set("compiled", c.cuda.compiled);
  cu.Set("driverVersion", c.cuda.driver_version);
  cu.Set("runtimeVersion", c.cuda.runtime_version);
  Napi::Array devs = Napi::Array::New(env, c.cuda.devices.size());
  for (size_t i = 0; i < c.cuda.devices.size(); ++i) {
    const auto& d = c.cuda.devices[i];
    Napi::Object j = Napi::Object::New(env);
    j.Set("index", d.index);
    j.Set("name", d.name);
    j.Set("computeCapability", std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
    j.Set("totalMemoryBytes", double(d.total_mem));
    devs.Set(uint32_t(i), j);
  }
  cu.Set("devices", devs);
  o.Set("cuda", cu);
  o.Set("nvdec", Feature(env, c.nvdec.available, c.nvdec.reason));
  Napi::Object trt = Feature(env, c.tensorrt.available, c.tensorrt.reason);
  trt.Set("compiled", bool(CAMTRACK_WITH_TENSORRT));
  o.Set("tensorrt", trt);
  Napi::Object ff = Napi::Object::New(env);
  ff.Set("version", c.ffmpeg.version);
  ff.Set("avformat", c.ffmpeg.avformat);
  ff.Set("avcodec", c.ffmpeg.avcodec);
  ff.Set("avutil", c.ffmpeg.avutil);
  ff.Set("swscale", c.ffmpeg.swscale);
  ff.Set("hwaccels", Strings(env, c.ffmpeg.hwaccels));
  ff.Set("cudaDecoders", Strings(env, c.ffmpeg.cuda_decoders));
  ff.Set("nvdecHwaccelCodecs", Strings(env, c.ffmpeg.nvdec_hwaccel_codecs));
  o.Set("ffmpeg", ff);
  return o;
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::Function cls = ArgFunction(info, 0, "errorClass");
    auto* data = env.GetInstanceData<AddonData>();
    data->error_class = Napi::Persistent(cls);
    return env.Undefined();
  });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Per-environment data: the main thread and every worker thread get their own.
  env.SetInstanceData(new AddonData());
  decode::InstallFfmpegLogHandler();
  exports.Set("NativePipeline", PipelineWrap::Init(env));
  exports.Set("NativeTracker", TrackerWrap::Init(env));
  exports.Set("NativeAnalytics", AnalyticsWrap::Init(env));
  exports.Set("attachWorker", Napi::Function::New(env, AttachWorker, "attachWorker"));
  exports.Set("completeBatch", Napi::Function::New(env, CompleteBatch, "completeBatch"));
  exports.Set("detachWorker", Napi::Function::New(env, DetachWorker, "detachWorker"));
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("buildInfo", [&] {
    Napi::Object b = Napi::Object::New(env);
    b.Set("cuda", bool(CAMTRACK_WITH_CUDA));
    b.Set("tensorrt", bool(CAMTRACK_WITH_TENSORRT));
    b.Set("napiVersion", NAPI_VERSION);
    return b;
  }());
  return exports;
}

}  // namespace camtrack::binding

static Napi::Object InitCamtrack(Napi::Env env, Napi::Object exports) { return camtrack::binding::Init(env, exports); }
NODE_API_MODULE(camtrack, InitCamtrack)
