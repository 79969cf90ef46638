// The CUDA and capability probes, which must answer (never throw) on any machine, with and without a GPU; device
// buffers without a device throw a camtrack::Error.
extern "C" {
#include <libavcodec/version.h>
}

#include <cstdio>
#include <string>
#include <vector>

#include "common/error.h"
#include "cuda/buffers.h"
#include "cuda/capabilities.h"
#include "cuda/device.h"
#include "cuda/letterbox_gpu.h"
#include "model_specs.h"
#include "test_main.h"

namespace {

using camtrack::Error;
using camtrack::ErrorCode;
using ct_test::YoloxSpec;

}  // namespace

// ---- CUDA probes (true on machines with and without a GPU) --------------------------------------------------

CT_TEST(preprocess_cuda_probe_answers_without_throwing) {
  const camtrack::cuda::CudaStatus st = camtrack::cuda::ProbeCuda();
  std::printf("      ProbeCuda: compiled=%d available=%d driver=%d runtime=%d devices=%zu reason='%s'\n",
              st.compiled, st.available, st.driver_version, st.runtime_version, st.devices.size(),
              st.reason.c_str());
  CT_EXPECT(st.compiled == static_cast<bool>(CAMTRACK_WITH_CUDA));
  CT_EXPECT(st.reason.empty() == st.available);
  CT_EXPECT(st.available == !st.devices.empty());
  if (st.compiled) CT_EXPECT(st.runtime_version >= 11000);
  if (!st.compiled) CT_EXPECT(st.reason.find("built without CUDA") != std::string::npos);
  for (const auto& d : st.devices) CT_EXPECT(!d.name.empty() && d.cc_major >= 5 && d.total_mem > 0);
}

CT_TEST(preprocess_capabilities_report_ffmpeg_and_reasons) {
  const camtrack::cuda::Capabilities caps = camtrack::cuda::ProbeCapabilities();
  std::printf("      nvdec: %d '%s'\n      tensorrt: %d '%s'\n      ffmpeg %s avcodec %s hwaccels=%zu cuvid=%zu\n",
              caps.nvdec.available, caps.nvdec.reason.c_str(), caps.tensorrt.available,
              caps.tensorrt.reason.c_str(), caps.ffmpeg.version.c_str(), caps.ffmpeg.avcodec.c_str(),
              caps.ffmpeg.hwaccels.size(), caps.ffmpeg.cuda_decoders.size());
  CT_EXPECT(caps.ffmpeg.avcodec.rfind(std::to_string(LIBAVCODEC_VERSION_MAJOR) + ".", 0) == 0);
  CT_EXPECT(!caps.ffmpeg.avformat.empty() && !caps.ffmpeg.avutil.empty() && !caps.ffmpeg.swscale.empty());
  CT_EXPECT(caps.nvdec.reason.empty() == caps.nvdec.available);
  CT_EXPECT(caps.tensorrt.reason.empty() == caps.tensorrt.available);
  if (!caps.cuda.available) CT_EXPECT(!caps.nvdec.available && !caps.tensorrt.available);
  if (!CAMTRACK_WITH_TENSORRT) CT_EXPECT(caps.tensorrt.reason.find("built without TensorRT") == 0);
}

CT_TEST(preprocess_cuda_buffers_without_a_device_throw_a_camtrack_error) {
  const camtrack::cuda::CudaStatus st = camtrack::cuda::ProbeCuda();
  camtrack::cuda::DeviceBuffer empty;  // never needs CUDA
  CT_EXPECT(empty.empty() && empty.size() == 0);
  if (st.available) CT_SKIP("a CUDA device is present (camtrack_gpu_tests covers buffers there)");
  bool threw = false;
  try {
    camtrack::cuda::DeviceBuffer b(1024);
  } catch (const Error& e) {
    std::printf("      DeviceBuffer(1024): %s (hint: %s)\n", e.what(), e.hint().c_str());
    threw = st.compiled ? (e.code() == ErrorCode::kCuda && std::string(e.what()).find("cudaMalloc") != std::string::npos &&
                           e.native_code() != 0)
                        : e.code() == ErrorCode::kUnsupported;
  }
  CT_EXPECT(threw);
  threw = false;
  try {
    camtrack::cuda::Stream s;
  } catch (const Error& e) {
    threw = e.code() == (st.compiled ? ErrorCode::kCuda : ErrorCode::kUnsupported);
  }
  CT_EXPECT(threw);
  if (!st.compiled) {
    std::vector<uint8_t> plane(64);
    std::vector<float> out(3 * 416 * 416);
    camtrack::cuda::PlaneView pv{plane.data(), 8, 8, 8};
    threw = false;
    try {
      camtrack::cuda::LetterboxNv12ToNchwGpu(pv, pv, 8, 8, YoloxSpec(), out.data(), nullptr);
    } catch (const Error& e) {
      threw = e.code() == ErrorCode::kUnsupported;
    }
    CT_EXPECT(threw);
  }
}
