// GPU tests: the CUDA letterbox kernel against ReferenceLetterboxNv12 (same maths, so they must agree to float
// rounding), padding and batch-slot discipline, and the RAII buffer / stream / event types with the check macro.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../test_main.h"
#include "common/error.h"
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "cuda/letterbox_gpu.h"
#include "preprocess/letterbox.h"

namespace {

using camtrack::Error;
using camtrack::ErrorCode;
using camtrack::LetterboxInfo;
using camtrack::cuda::DeviceBuffer;
using camtrack::cuda::Event;
using camtrack::cuda::PinnedBuffer;
using camtrack::cuda::PlaneView;
using camtrack::cuda::Stream;
using camtrack::preprocess::ChannelOrder;
using camtrack::preprocess::LetterboxAlign;
using camtrack::preprocess::ModelInputSpec;
using camtrack::preprocess::YuvColorSpace;

ModelInputSpec Spec(int size, ChannelOrder order, LetterboxAlign align, float scale) {
  ModelInputSpec s;
  s.width = s.height = size;
  s.channel_order = order;
  s.align = align;
  s.pad_value = 114.f;
  s.scale = scale;
  return s;
}

struct Case {
  const char* name;
  int w, h;
  ModelInputSpec spec;
  YuvColorSpace cs;
};

// Deterministic pseudo-random bytes: the kernel and the reference share the maths, so even noise must match.
void FillNoise(std::vector<uint8_t>& v, uint32_t seed) {
  for (auto& b : v) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(seed >> 24);
  }
}

struct Result {
  double max_diff = 0;  // in 0..255 units
  size_t bad_pad = 0;
  size_t nan_in_slot = 0;
  size_t touched_other_slot = 0;
};

Result RunCase(const Case& c, Stream& stream) {
  const int w = c.w, h = c.h, cw = (w + 1) / 2, ch = (h + 1) / 2;
  // Host NV12 with tight pitches; device planes with wide pitches (as NVDEC surfaces have).
  std::vector<uint8_t> y(static_cast<size_t>(w) * h), uv(static_cast<size_t>(2 * cw) * ch);
  FillNoise(y, 12345u + w);
  FillNoise(uv, 777u + h);
  const size_t y_pitch = (static_cast<size_t>(w) + 511) / 512 * 512, uv_pitch = (2 * static_cast<size_t>(cw) + 511) / 512 * 512;
  DeviceBuffer dy(y_pitch * h), duv(uv_pitch * ch);
  CAMTRACK_CUDA_CHECK(cudaMemcpy2DAsync(dy.data(), y_pitch, y.data(), w, w, h, cudaMemcpyHostToDevice, stream.get()));
  CAMTRACK_CUDA_CHECK(
      cudaMemcpy2DAsync(duv.data(), uv_pitch, uv.data(), 2 * cw, 2 * cw, ch, cudaMemcpyHostToDevice, stream.get()));

  // Batch of 2, every byte 0xFF (a NaN pattern); the kernel writes slot 1 only.
  const size_t per = 3 * static_cast<size_t>(c.spec.width) * c.spec.height;
  DeviceBuffer batch(2 * per * sizeof(float));
  CAMTRACK_CUDA_CHECK(cudaMemsetAsync(batch.data(), 0xFF, batch.size(), stream.get()));
  const PlaneView py{dy.data(), y_pitch, w, h}, puv{duv.data(), uv_pitch, cw, ch};
  const LetterboxInfo info = camtrack::cuda::LetterboxNv12ToNchwGpu(py, puv, w, h, c.spec, batch.data<float>() + per,
                                                                     stream.get(), c.cs);
  std::vector<float> gpu(2 * per);
  CAMTRACK_CUDA_CHECK(
      cudaMemcpyAsync(gpu.data(), batch.data(), batch.size(), cudaMemcpyDeviceToHost, stream.get()));
  stream.Synchronize();

  std::vector<float> ref(per);
  const LetterboxInfo rinfo =
      camtrack::preprocess::ReferenceLetterboxNv12(y.data(), w, uv.data(), 2 * cw, w, h, c.spec, ref.data(), c.cs);
  CT_EXPECT(info.scale == rinfo.scale && info.pad_x == rinfo.pad_x && info.pad_y == rinfo.pad_y);

  Result r;
  const auto rs = camtrack::preprocess::ComputeResizedSize(w, h, c.spec);
  const int px = static_cast<int>(info.pad_x), py0 = static_cast<int>(info.pad_y);
  const size_t plane = static_cast<size_t>(c.spec.width) * c.spec.height;
  for (size_t i = 0; i < per; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &gpu[i], 4);
    if (bits != 0xFFFFFFFFu) ++r.touched_other_slot;
  }
  for (int k = 0; k < 3; ++k) {
    const double unit = c.spec.scale / c.spec.std[k];
    const float pad = c.spec.pad_value * (c.spec.scale / c.spec.std[k]) - c.spec.mean[k] / c.spec.std[k];
    for (int yy = 0; yy < c.spec.height; ++yy)
      for (int xx = 0; xx < c.spec.width; ++xx) {
        const size_t i = k * plane + static_cast<size_t>(yy) * c.spec.width + xx;
        const float g = gpu[per + i];
        if (std::isnan(g)) {
          ++r.nan_in_slot;
          continue;
        }
        const bool inside = xx >= px && xx < px + rs.width && yy >= py0 && yy < py0 + rs.height;
        if (!inside && g != pad) ++r.bad_pad;
        r.max_diff = std::max(r.max_diff, std::fabs(g - ref[i]) / unit);
      }
  }
  std::printf("      %-40s %dx%d -> %dx%d (resized %dx%d at %d,%d): max |gpu-ref| = %.5f (0..255 units)\n", c.name, w,
              h, c.spec.width, c.spec.height, rs.width, rs.height, px, py0, r.max_diff);
  return r;
}

}  // namespace

CT_TEST(gpu_letterbox_nv12_matches_reference_and_writes_only_its_slot) {
  ModelInputSpec imagenet = Spec(320, ChannelOrder::kBGR, LetterboxAlign::kCenter, 1.f / 255.f);
  const float mean[3] = {0.406f, 0.456f, 0.485f}, stdv[3] = {0.225f, 0.224f, 0.229f};
  std::copy(mean, mean + 3, imagenet.mean);
  std::copy(stdv, stdv + 3, imagenet.std);
  const Case cases[] = {
      {"yolox_416_bgr_raw_top_left", 1280, 720, Spec(416, ChannelOrder::kBGR, LetterboxAlign::kTopLeft, 1.f),
       YuvColorSpace::kBt601Limited},
      {"ultralytics_640_rgb_center", 1280, 720, Spec(640, ChannelOrder::kRGB, LetterboxAlign::kCenter, 1.f / 255.f),
       YuvColorSpace::kBt601Limited},
      {"portrait_640_center", 810, 1080, Spec(640, ChannelOrder::kRGB, LetterboxAlign::kCenter, 1.f / 255.f),
       YuvColorSpace::kBt709Limited},
      {"odd_size_imagenet_norm_upscale", 333, 199, imagenet, YuvColorSpace::kBt601Full},
      {"1080p_bt709_to_640", 1920, 1080, Spec(640, ChannelOrder::kRGB, LetterboxAlign::kCenter, 1.f / 255.f),
       YuvColorSpace::kBt709Limited},
  };
  Stream stream;
  for (const Case& c : cases) {
    const Result r = RunCase(c, stream);
    CT_EXPECT(r.touched_other_slot == 0);
    CT_EXPECT(r.nan_in_slot == 0);
    CT_EXPECT(r.bad_pad == 0);
    // Same maths in float; only FMA contraction and rounding order differ. The brief allows 1 unit; expect far less.
    CT_EXPECT_NEAR(r.max_diff, 0.0, 0.05);
  }
}

CT_TEST(gpu_letterbox_kernel_time_720p_to_640) {
  const int w = 1280, h = 720;
  DeviceBuffer dy(static_cast<size_t>(w) * h), duv(static_cast<size_t>(w) * h / 2), out(3 * 640 * 640 * sizeof(float));
  Stream stream;
  CAMTRACK_CUDA_CHECK(cudaMemsetAsync(dy.data(), 100, dy.size(), stream.get()));
  CAMTRACK_CUDA_CHECK(cudaMemsetAsync(duv.data(), 128, duv.size(), stream.get()));
  const ModelInputSpec spec = Spec(640, ChannelOrder::kRGB, LetterboxAlign::kCenter, 1.f / 255.f);
  const PlaneView py{dy.data(), static_cast<size_t>(w), w, h}, puv{duv.data(), static_cast<size_t>(w), w / 2, h / 2};
  for (int i = 0; i < 5; ++i)
    camtrack::cuda::LetterboxNv12ToNchwGpu(py, puv, w, h, spec, out.data<float>(), stream.get());
  Event start(true), stop(true);
  const int iters = 100;
  start.Record(stream.get());
  for (int i = 0; i < iters; ++i)
    camtrack::cuda::LetterboxNv12ToNchwGpu(py, puv, w, h, spec, out.data<float>(), stream.get());
  stop.Record(stream.get());
  stop.Synchronize();
  CT_EXPECT(stop.Query());
  const float ms = Event::ElapsedMs(start, stop) / iters;
  std::printf("      letterbox kernel 1280x720 NV12 -> 640x640 fp32: %.1f us per frame\n", ms * 1000.0);
  CT_EXPECT(ms > 0.f);
  // Spot value: Y=100, U=V=128 BT.601 limited → 1.16438*84 = 97.81 → /255.
  float v = 0;
  CAMTRACK_CUDA_CHECK(cudaMemcpy(&v, out.data<float>() + 320 * 640 + 320, sizeof v, cudaMemcpyDeviceToHost));
  CT_EXPECT_NEAR(v * 255.0, 97.81, 0.01);
}

CT_TEST(gpu_letterbox_BAD_CALL_null_destination_throws_invalid_argument) {
  DeviceBuffer dy(64 * 64), duv(64 * 32);
  const PlaneView py{dy.data(), 64, 64, 64}, puv{duv.data(), 64, 32, 32};
  bool threw = false;
  try {
    camtrack::cuda::LetterboxNv12ToNchwGpu(py, puv, 64, 64, Spec(32, ChannelOrder::kRGB, LetterboxAlign::kCenter, 1.f),
                                           nullptr, nullptr);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kInvalidArgument;
  }
  CT_EXPECT(threw);
  threw = false;
  try {  // pitch smaller than the frame width
    const PlaneView narrow{dy.data(), 32, 64, 64};
    DeviceBuffer out(3 * 32 * 32 * sizeof(float));
    camtrack::cuda::LetterboxNv12ToNchwGpu(narrow, puv, 64, 64, Spec(32, ChannelOrder::kRGB, LetterboxAlign::kCenter, 1.f),
                                           out.data<float>(), nullptr);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kInvalidArgument;
  }
  CT_EXPECT(threw);
}

CT_TEST(gpu_buffers_stream_event_round_trip) {
  const size_t n = 1 << 20;
  PinnedBuffer src(n), back(n);
  for (size_t i = 0; i < n; ++i) src.data<uint8_t>()[i] = static_cast<uint8_t>(i * 7 + 3);
  std::memset(back.data(), 0, n);
  DeviceBuffer dev(n);
  CT_EXPECT(dev.size() == n && !dev.empty());
  Stream stream;
  Event done;
  CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(dev.data(), src.data(), n, cudaMemcpyHostToDevice, stream.get()));
  CAMTRACK_CUDA_CHECK(cudaMemsetAsync(dev.data<uint8_t>() + 100, 0xAB, 10, stream.get()));
  // Move the owner while work is queued: the pointer stays valid, ownership moves, the source becomes empty.
  void* raw = dev.data();
  DeviceBuffer moved(std::move(dev));
  CT_EXPECT(dev.empty() && dev.size() == 0 && moved.data() == raw);
  // A second stream waits on the first through an event, then copies back.
  Stream other;
  Event copied;
  copied.Record(stream.get());
  copied.Wait(other.get());
  CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(back.data(), moved.data(), n, cudaMemcpyDeviceToHost, other.get()));
  done.Record(other.get());
  done.Synchronize();
  CT_EXPECT(done.Query());
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t expect = (i >= 100 && i < 110) ? 0xAB : static_cast<uint8_t>(i * 7 + 3);
    if (back.data<uint8_t>()[i] != expect) ++bad;
  }
  CT_EXPECT(bad == 0);
  moved.Reset();
  CT_EXPECT(moved.empty());
  DeviceBuffer assigned(256);
  assigned = DeviceBuffer(512);
  CT_EXPECT(assigned.size() == 512);
}

CT_TEST(gpu_cuda_check_throws_error_with_call_site_and_code) {
  bool threw = false;
  try {
    CAMTRACK_CUDA_CHECK(cudaSetDevice(1 << 20));
  } catch (const Error& e) {
    const std::string m = e.what();
    std::printf("      %s\n      hint: %s\n", m.c_str(), e.hint().c_str());
    threw = e.code() == ErrorCode::kCuda && e.stage() == "cuda" &&
            m.find("cudaErrorInvalidDevice") != std::string::npos && m.find("cudaSetDevice(1 << 20)") != std::string::npos &&
            m.find("letterbox_gpu_test.cpp:") != std::string::npos && e.native_code() == cudaErrorInvalidDevice &&
            !e.hint().empty();
  }
  cudaGetLastError();
  CT_EXPECT(threw);
  // A too-large allocation: kCuda with cudaErrorMemoryAllocation, and the process carries on.
  threw = false;
  try {
    DeviceBuffer huge(size_t{1} << 52);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kCuda && e.native_code() == cudaErrorMemoryAllocation;
  }
  cudaGetLastError();
  CT_EXPECT(threw);
  DeviceBuffer ok(1024);
  CT_EXPECT(!ok.empty());
}
