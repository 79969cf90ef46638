#include "cuda/capabilities.h"

#include <dlfcn.h>

#include <exception>

#include "core/decode/gpu_frame_source.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/hwcontext.h>
#include <libswscale/swscale.h>
}

namespace camtrack::cuda {
namespace {

std::string VersionString(unsigned v) {
  return std::to_string(AV_VERSION_MAJOR(v)) + "." + std::to_string(AV_VERSION_MINOR(v)) + "." +
         std::to_string(AV_VERSION_MICRO(v));
}

#if CAMTRACK_WITH_TENSORRT
// dlopen test: empty string when the library loads, else dlerror()'s text. The handle is closed again.
std::string TryLoad(const char* name) {
  void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e = dlerror();
    return std::string(name) + " not loadable: " + (e ? e : "unknown dlopen error");
  }
  dlclose(h);
  return {};
}
#endif

FfmpegInfo ProbeFfmpeg() {
  FfmpegInfo f;
  f.version = av_version_info();
  f.avformat = VersionString(avformat_version());
  f.avcodec = VersionString(avcodec_version());
  f.avutil = VersionString(avutil_version());
  f.swscale = VersionString(swscale_version());
  for (AVHWDeviceType t = av_hwdevice_iterate_types(AV_HWDEVICE_TYPE_NONE); t != AV_HWDEVICE_TYPE_NONE;
       t = av_hwdevice_iterate_types(t)) {
    if (const char* n = av_hwdevice_get_type_name(t)) f.hwaccels.emplace_back(n);
  }
  static const char* const kCuvid[] = {"h264_cuvid", "hevc_cuvid",  "av1_cuvid",  "vp9_cuvid",  "vp8_cuvid",
                                       "mpeg4_cuvid", "mpeg2_cuvid", "mpeg1_cuvid", "mjpeg_cuvid", "vc1_cuvid"};
  for (const char* n : kCuvid)
    if (avcodec_find_decoder_by_name(n)) f.cuda_decoders.emplace_back(n);
  static const AVCodecID kCodecs[] = {AV_CODEC_ID_H264, AV_CODEC_ID_HEVC, AV_CODEC_ID_AV1, AV_CODEC_ID_VP9,
                                      AV_CODEC_ID_MJPEG};
  for (AVCodecID id : kCodecs) {
    const AVCodec* dec = avcodec_find_decoder(id);
    if (!dec) continue;
    for (int i = 0;; ++i) {
      const AVCodecHWConfig* cfg = avcodec_get_hw_config(dec, i);
      if (!cfg) break;
      if (cfg->device_type == AV_HWDEVICE_TYPE_CUDA &&
          (cfg->methods & AV_CODEC_HW_CONFIG_METHOD_HW_DEVICE_CTX)) {
        f.nvdec_hwaccel_codecs.emplace_back(dec->name);
        break;
      }
    }
  }
  return f;
}

FeatureStatus ProbeTensorRt(const CudaStatus& cuda) {
  FeatureStatus s;
#if !CAMTRACK_WITH_TENSORRT
  s.reason = "built without TensorRT (NvInfer.h not found at build time; set TENSORRT_ROOT and rebuild)";
  return s;
#else
  if (!cuda.available) {
    s.reason = "CUDA not available: " + cuda.reason;
    return s;
  }
  if (std::string e = TryLoad("libnvinfer.so.10"); !e.empty()) {
    s.reason = e + " (install TensorRT 10 or add its lib directory to LD_LIBRARY_PATH)";
    return s;
  }
  s.available = true;
  return s;
#endif
}

}  // namespace

Capabilities ProbeCapabilities() noexcept {
  Capabilities caps;
  caps.cuda = ProbeCuda();
  try {
    caps.ffmpeg = ProbeFfmpeg();
  } catch (const std::exception&) {  // bad_alloc only
  }
  try {
    // Exactly the check a stream with decode 'gpu' | 'auto' makes (device 0), so the two never disagree; the CUDA
    // runtime it needs was probed above.
    caps.nvdec = decode::GpuDecodeStatus(0, caps.cuda);
  } catch (const std::exception& e) {
    caps.nvdec.available = false;
    caps.nvdec.reason = std::string("NVDEC probe failed: ") + e.what();
  }
  try {
    caps.tensorrt = ProbeTensorRt(caps.cuda);
  } catch (const std::exception& e) {
    caps.tensorrt.available = false;
    caps.tensorrt.reason = std::string("TensorRT probe failed: ") + e.what();
  }
  return caps;
}

}  // namespace camtrack::cuda
