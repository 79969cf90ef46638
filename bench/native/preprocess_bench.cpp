// camtrack_bench_preprocess_bench: time of CpuLetterboxer::Run (the CPU hot-path letterbox) on one core.
//   camtrack_bench_preprocess_bench [--iterations 300]      (or: node bench/native.mjs preprocess --iterations 300)
// Prints one human line per case on stderr and ONE JSON object on stdout ({"bench":"preprocess","cases":[…]});
// `node bench/native.mjs preprocess` stamps it as a report (src/bench/report.ts). Percentiles: nearest rank
// (bench_stats.h, the reports' definition).
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

#include "bench_args.h"
#include "bench_json.h"
#include "bench_stats.h"
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

void Run(const char* name, AVFrame* frame, const ModelInputSpec& spec, int iters, camtrack::bench::Json& j) {
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
  const double med = camtrack::bench::PercentileSorted(ms, 0.5), p90 = camtrack::bench::PercentileSorted(ms, 0.9),
               best = ms[0];
  std::fprintf(stderr, "%-44s median %.3f ms  p90 %.3f ms  min %.3f ms\n", name, med, p90, best);
  j.Begin().Key("case").Str(name).Key("iterations").Int(iters).Key("median_ms").Num(med, 4);
  j.Key("p90_ms").Num(p90, 4).Key("min_ms").Num(best, 4).End();
}

}  // namespace

int main(int argc, char** argv) {
  camtrack::bench::Args args(argc, argv, "camtrack_bench_preprocess_bench",
                             "camtrack_bench_preprocess_bench [--iterations 300 (>= 10)]: CpuLetterboxer::Run, JSON on stdout\n");
  const int iters = int(args.Int("iterations", 300, 10, 100000000));
  args.Done();
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
  camtrack::bench::Json j;
  j.Begin().Key("bench").Str("preprocess").Key("iterations").Int(iters).Key("cases").BeginArray();
  Run("yuv420p_1280x720_to_416_yolox", yuv720, yolox, iters, j);
  Run("nv12_1280x720_to_416_yolox", nv720, yolox, iters, j);
  Run("yuv420p_1280x720_to_640_ultralytics", yuv720, ultra, iters, j);
  Run("yuv420p_1920x1080_to_640_ultralytics", yuv1080, ultra, iters, j);
  j.End().End();
  std::puts(j.str().c_str());
  av_frame_free(&yuv720);
  av_frame_free(&nv720);
  av_frame_free(&yuv1080);
  return 0;
}
