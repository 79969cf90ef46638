#pragma once
// The probe module: what this build and this machine can do (CUDA, NVDEC, TensorRT, FFmpeg), each with the exact
// reason when something is missing. Backs `capabilities()` in JS and `camtrack doctor`.
// Value types; no CUDA or FFmpeg headers.
#include <string>
#include <vector>

#include "cuda/device.h"

namespace camtrack::cuda {

struct FeatureStatus {
  bool available = false;
  std::string reason;  // empty when available, otherwise why not (first thing that failed)
};

struct FfmpegInfo {
  std::string version;  // av_version_info(), e.g. "5.1.6-0+deb12u1"
  std::string avformat, avcodec, avutil, swscale;  // run-time library versions "major.minor.micro"
  std::vector<std::string> hwaccels;       // av_hwdevice_iterate_types names, e.g. "cuda", "vaapi"
  std::vector<std::string> cuda_decoders;  // CUVID decoders present in libavcodec, e.g. "h264_cuvid"
  std::vector<std::string> nvdec_hwaccel_codecs;  // native decoders with a CUDA hw config, e.g. "h264", "hevc"
};

struct Capabilities {
  CudaStatus cuda;
  // NVDEC as the pipeline uses it (decode::GpuDecodeStatus(0)): a CUDA build, the driver's libcuda.so.1 and
  // libnvcuvid.so.1, NVDEC H.264 on device 0, and the CUDA runtime for the GPU letterbox. FFmpeg's own CUDA
  // hwaccel (ffmpeg.hwaccels) is independent of it: camtrack drives NVDEC directly.
  FeatureStatus nvdec;
  // TensorRT: compiled in (CAMTRACK_WITH_TENSORRT) and libnvinfer.so.10 loadable.
  FeatureStatus tensorrt;
  FfmpegInfo ffmpeg;
};

// Probes everything. Never throws. Not cheap (dlopen, CUDA and FFmpeg device creation, ~tens of ms on a GPU
// machine): call it once at start-up or on demand, not per frame. Thread-safe.
Capabilities ProbeCapabilities() noexcept;

}  // namespace camtrack::cuda
