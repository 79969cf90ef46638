// The GPU decode chain of the pipeline (native/core/decode/gpu_frame_source.cpp), piece by piece, on a real GPU:
// Annex-B access units → NvdecDecoder (kBlock, as for files) → cudaStreamWaitEvent(frame ready) →
// LetterboxNv12ToNchwGpu into a device staging tensor → cudaMemcpyAsync into pageable host memory (the batch
// slot) → stream sync → Release. The host tensors of a few frames are compared with ReferenceLetterboxNv12 of the
// CPU-decoded (FFmpeg) NV12 frames: NVDEC output equals CPU decode bit for bit (docs/gpu-verification.md), so
// only the kernel's float rounding remains (limit 0.05 in 0..255 units).
//
// The pipeline's own GPU branch (VideoSource packet mode + GpuFrameSource) cannot run on the GPU machine (no
// FFmpeg libraries, no Node there); this test composes the same calls in the same order.
//
// Inputs in $CAMTRACK_GPU_TEST_DATA (default .cache/gpu-test-data), made with FFmpeg (commands in docs/gpu-verification.md):
//   walking.h264 + walking.h264.pts   walking.mp4 as Annex-B, packet pts in decode order
//   walking_ref.nv12                  FFmpeg CPU decode, display frames 0, 50, 100, 200, 340 (1280x720 NV12)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "../test_assets.h"
#include "../test_main.h"
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "cuda/letterbox_gpu.h"
#include "decode/annexb_reader.h"
#include "decode/nvdec_decoder.h"
#include "preprocess/letterbox.h"

namespace {

using camtrack::decode::AnnexBSplitter;
using camtrack::decode::DeviceFrame;
using camtrack::decode::NvdecDecoder;
using camtrack::decode::NvdecOptions;
using camtrack::decode::PoolFullPolicy;
using camtrack::preprocess::ModelInputSpec;

constexpr int kW = 1280, kH = 720;
constexpr int kRefFrames[] = {0, 50, 100, 200, 340};
constexpr double kMaxDiff = 0.05;  // 0..255 units

std::vector<uint8_t> ReadOrSkip(const std::string& name) { return ct_test::ReadGpuTestData(name); }

}  // namespace

CT_TEST(nvdec_letterbox_chain_matches_reference_on_cpu_decoded_frames) {
  if (!NvdecDecoder::Probe(0).available) CT_SKIP("NVDEC not available: " + NvdecDecoder::Probe(0).reason);
  const std::vector<uint8_t> bs = ReadOrSkip("walking.h264");
  const std::vector<int64_t> pts = ct_test::ReadGpuTestPts("walking.h264.pts");
  const std::vector<uint8_t> ref = ReadOrSkip("walking_ref.nv12");
  std::vector<int64_t> sorted = pts;
  std::sort(sorted.begin(), sorted.end());
  const size_t nv12 = size_t(kW) * kH * 3 / 2;
  CT_EXPECT(ref.size() == nv12 * 5);

  ModelInputSpec spec;  // Ultralytics-style 640 centred, output in 0..255 units (scale 1)
  spec.scale = 1.f;
  const size_t elems = size_t(3) * spec.width * spec.height;

  CAMTRACK_CUDA_CHECK(cudaSetDevice(0));
  camtrack::cuda::Stream stream;
  camtrack::cuda::DeviceBuffer staging(elems * sizeof(float));
  std::vector<float> host(elems), want(elems);  // pageable, like the onnxruntime batch slot

  NvdecOptions o;
  o.surface_pool_size = 4;
  o.pool_full = PoolFullPolicy::kBlock;
  NvdecDecoder dec(o);
  AnnexBSplitter split(bs.data(), bs.size(), false);
  const uint8_t* au = nullptr;
  size_t au_size = 0;
  size_t k = 0;
  int frames = 0, compared = 0;
  double worst = 0;
  DeviceFrame f;
  auto consume = [&] {
    while (dec.NextFrame(&f)) {
      const int display = int(std::lower_bound(sorted.begin(), sorted.end(), f.pts()) - sorted.begin());
      ++frames;
      const int* hit = std::find(std::begin(kRefFrames), std::end(kRefFrames), display);
      if (hit != std::end(kRefFrames)) {
        // Exactly GpuFrameSource::LetterboxInto.
        CAMTRACK_CUDA_CHECK(cudaStreamWaitEvent(stream.get(), f.ready_event(), 0));
        const camtrack::LetterboxInfo gi = camtrack::cuda::LetterboxNv12ToNchwGpu(
            f.y(), f.uv(), f.width(), f.height(), spec, staging.data<float>(), stream.get());
        CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(host.data(), staging.data(), elems * sizeof(float),
                                            cudaMemcpyDeviceToHost, stream.get()));
        stream.Synchronize();
        f.Release();
        const uint8_t* r = ref.data() + nv12 * size_t(hit - std::begin(kRefFrames));
        const camtrack::LetterboxInfo ri =
            camtrack::preprocess::ReferenceLetterboxNv12(r, kW, r + size_t(kW) * kH, kW, kW, kH, spec, want.data());
        double md = 0;
        for (size_t i = 0; i < elems; ++i) md = std::max(md, double(std::fabs(host[i] - want[i])));
        std::printf("      display frame %d: max |gpu chain - reference| = %.4f (scale %.4f pad %.0f,%.0f)\n", display, md,
                    gi.scale, gi.pad_x, gi.pad_y);
        CT_EXPECT(md <= kMaxDiff);
        CT_EXPECT(gi.scale == ri.scale && gi.pad_x == ri.pad_x && gi.pad_y == ri.pad_y);
        worst = std::max(worst, md);
        ++compared;
      }
      f.Release();
    }
  };
  while (split.NextAccessUnit(&au, &au_size)) {
    CT_EXPECT(k < pts.size());
    dec.Decode(au, au_size, pts[std::min(k, pts.size() - 1)], true);
    ++k;
    consume();
  }
  dec.Flush();
  consume();
  std::printf("      %d frames decoded, %d compared, worst %.4f\n", frames, compared, worst);
  CT_EXPECT(frames == 341);
  CT_EXPECT(compared == 5);
}
