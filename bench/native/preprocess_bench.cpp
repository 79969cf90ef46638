// camtrack_bench_preprocess_bench: time of CpuLetterboxer::Run (the CPU hot-path letterbox) on one core.
//   camtrack_bench_preprocess_bench [iterations=300]
// Prints one line per case and a JSON object per case ({"bench":"preprocess",...}) for bench/results.
// Content is a synthetic smooth picture (the letterbox does the same work whatever the content).
extern "C" {
#include <libavutil/frame.h>
}

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "preprocess/letterbox.h"

using camtrack::preprocess::ChannelOrder;
using camtrack::preprocess::CpuLetterboxer;
using camtrack::preprocess::LetterboxAlign;
using camtrack::preprocess::ModelInputSpec;

namespace {

AVFrame* MakeFrame(int w, int h, AVPixelFormat fmt) {
  AVFrame* f = av_frame_alloc();
  if (!f) std::exit(1);
  f->width = w;
  f->height = h;
  f->format = fmt;
  if (av_frame_get_buffer(f, 0) < 0) {
    std::fprintf(stderr, "av_frame_get_buffer failed\n");
    std::exit(1);
  }
  for (int p = 0; p < 4 && f->data[p]; ++p) {
    const int rows = (p == 0 || fmt == AV_PIX_FMT_RGB24) ? h : (h + 1) / 2;
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < f->linesize[p]; ++x)
        f->data[p][y * f->linesize[p] + x] =
            static_cast<uint8_t>(128 + 90 * std::sin(x / 37.0 + p) * std::cos(y / 23.0));
  }
  return f;
}

void Run(const char* name, AVFrame* frame, const ModelInputSpec& spec, int iters) {
  CpuLetterboxer lb;
  std::vector<float> dst(3 * static_cast<size_t>(spec.width) * spec.height);
  for (int i = 0; i < 10; ++i) lb.Run(*frame, spec, dst.data());  // warm-up (context + scratch creation)
  std::vector<double> ms(iters);
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    lb.Run(*frame, spec, dst.data());
    ms[i] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[iters / 2], p90 = ms[iters * 9 / 10], best = ms[0];
  std::printf("%-44s median %.3f ms  p90 %.3f ms  min %.3f ms\n", name, med, p90, best);
  std::printf("{\"bench\":\"preprocess\",\"case\":\"%s\",\"iterations\":%d,\"median_ms\":%.4f,\"p90_ms\":%.4f,"
              "\"min_ms\":%.4f}\n",
              name, iters, med, p90, best);
}

}  // namespace

int main(int argc, char** argv) {
  const int iters = argc > 1 ? std::max(10, std::atoi(argv[1])) : 300;
  ModelInputSpec yolox;
  yolox.width = yolox.height = 416;
  yolox.channel_order = ChannelOrder::kBGR;
  yolox.align = LetterboxAlign::kTopLeft;
  yolox.scale = 1.f;
  ModelInputSpec ultra;
  ultra.width = ultra.height = 640;
  ultra.channel_order = ChannelOrder::kRGB;
  ultra.align = LetterboxAlign::kCenter;
  ultra.scale = 1.f / 255.f;

  AVFrame* yuv720 = MakeFrame(1280, 720, AV_PIX_FMT_YUV420P);
  AVFrame* nv720 = MakeFrame(1280, 720, AV_PIX_FMT_NV12);
  AVFrame* yuv1080 = MakeFrame(1920, 1080, AV_PIX_FMT_YUV420P);
  Run("yuv420p_1280x720_to_416_yolox", yuv720, yolox, iters);
  Run("nv12_1280x720_to_416_yolox", nv720, yolox, iters);
  Run("yuv420p_1280x720_to_640_ultralytics", yuv720, ultra, iters);
  Run("yuv420p_1920x1080_to_640_ultralytics", yuv1080, ultra, iters);
  av_frame_free(&yuv720);
  av_frame_free(&nv720);
  av_frame_free(&yuv1080);
  return 0;
}
