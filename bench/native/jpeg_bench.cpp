// camtrack_bench_jpeg_bench: ONE measurement of JPEG decode at the DCT scale JpegDecoder picks for a model against a
// full-size decode (issue 10, "decode at scale"): one JPEG file into one model size, every trial, printed as one JSON
// object on stdout. The driver, `node bench/jpeg.mjs` (bench/README.md), makes the 720p, 1080p and 4K inputs with the
// ffmpeg CLI, runs this executable for each input and model (416, 640), computes the medians and ratios and stamps the
// report (src/bench/report.ts); issue 15: native benches only measure.
//
//   camtrack_bench_jpeg_bench --jpeg f.jpg [--model 416] [--repeat 7] [--min-sample-ms 60]
//
// Trials, one decoder + one PictureBuffer each, warmed up first (3 calls each):
//   full            JpegDecoder::Decode(spec = null): the whole picture at full size
//   scaled          JpegDecoder::Decode(&spec): at JpegDecoder::ChooseScale() of the picture for the model
//   full_lb         full + CpuLetterboxer::Run into the model's input (what the pipeline pays per frame without scaling)
//   scaled_lb       scaled + CpuLetterboxer::Run
//   scaled_rgb_lb   scaled with JpegOutput::kRgb24 + CpuLetterboxer::Run (the rgb24 form the decoder uses for
//                   non-4:2:0 JPEGs; its cost against scaled_lb justifies the planar yuv420p default)
//   full_rgb_lb     full size with JpegOutput::kRgb24 + CpuLetterboxer::Run: the plain way (decode every pixel to
//                   RGB, then resize), for reference
// Each sample times back-to-back calls until --min-sample-ms has passed and gives ms per call; rounds alternate the
// trials (full, scaled, full_lb, scaled_lb, scaled_rgb_lb, full_rgb_lb, full, …) so drift on a shared machine hits all
// alike. Printed: the picture's size, the scale and decoded size, and per trial the --repeat samples in round order
// (`samplesMs`), so the driver can pair them round by round.
//
// Exit 0 on success, 1 when the JPEG cannot be read or decoded, 2 on bad options.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_json.h"
#include "core/common/error.h"
#include "core/decode/jpeg_decoder.h"
#include "core/preprocess/letterbox.h"

extern "C" {
#include <libavutil/avutil.h>
#include <libavutil/frame.h>
}

namespace {

using Clock = std::chrono::steady_clock;
using camtrack::decode::JpegDecoder;
using camtrack::decode::JpegDecoderOptions;
using camtrack::decode::JpegOutput;
using camtrack::decode::PictureBuffer;
using camtrack::preprocess::ModelInputSpec;

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct Trial {
  const char* name;
  bool scaled;
  bool letterbox;
  JpegOutput output;
};
const Trial kTrials[] = {{"full", false, false, JpegOutput::kAuto},
                         {"scaled", true, false, JpegOutput::kAuto},
                         {"full_lb", false, true, JpegOutput::kAuto},
                         {"scaled_lb", true, true, JpegOutput::kAuto},
                         {"scaled_rgb_lb", true, true, JpegOutput::kRgb24},
                         {"full_rgb_lb", false, true, JpegOutput::kRgb24}};
constexpr int kTrialCount = sizeof(kTrials) / sizeof(kTrials[0]);

// One trial's decoder, picture and letterboxer (its own, as each stream has its own).
struct Runner {
  JpegDecoder dec;
  PictureBuffer pic;
  camtrack::preprocess::CpuLetterboxer lb;
  std::vector<float> tensor;
  explicit Runner(JpegOutput output)
      : dec([&] {
          JpegDecoderOptions o;
          o.max_pixels = camtrack::decode::kDefaultMaxPixels;
          o.keep_damaged = false;
          o.apply_exif_orientation = true;
          o.output = output;
          return o;
        }()) {}
  void Once(const Trial& t, const std::vector<uint8_t>& jpeg, const ModelInputSpec& spec) {
    dec.Decode(jpeg.data(), jpeg.size(), t.scaled ? &spec : nullptr, &pic);
    if (t.letterbox) pic.ToSource(lb.Run(pic.frame(), spec, tensor.data()));
  }
  // ms per call over back-to-back calls lasting at least min_ms.
  double Sample(const Trial& t, const std::vector<uint8_t>& jpeg, const ModelInputSpec& spec, double min_ms) {
    int n = 0;
    const auto t0 = Clock::now();
    double ms = 0;
    do {
      Once(t, jpeg, spec);
      ++n;
      ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    } while (ms < min_ms);
    return ms / n;
  }
};

const char* kHelp =
    "camtrack_bench_jpeg_bench: ONE measurement, scaled vs full JPEG decode of one file into one model size (JSON on\n"
    "stdout). Run it through `node bench/jpeg.mjs` (inputs, every size and model, medians, ratios, report).\n"
    "  --jpeg FILE          the JPEG (required)\n"
    "  --model 416          model input size (square)\n"
    "  --repeat 7           rounds of the six trials\n"
    "  --min-sample-ms 60   each sample times back-to-back calls for at least this long\n";

}  // namespace

int main(int argc, char** argv) {
  camtrack::bench::Args args(argc, argv, "camtrack_bench_jpeg_bench", kHelp);
  const std::string path = args.Str("jpeg", "");
  const int model = int(args.Int("model", 416, 16, 8192));
  const int repeat = int(args.Int("repeat", 7, 1, 100000));
  const double min_sample_ms = args.Num("min-sample-ms", 60, 0.01, 1e6);
  args.Done();
  if (path.empty()) args.Fail("--jpeg is required");
  const std::vector<uint8_t> jpeg = ReadFile(path);
  if (jpeg.empty()) {
    std::fprintf(stderr, "camtrack_bench_jpeg_bench: cannot read %s\n", path.c_str());
    return 1;
  }
  ModelInputSpec spec;  // Ultralytics-style: RGB, centred, /255 (the letterbox work is the same for YOLOX)
  spec.width = spec.height = model;
  camtrack::bench::Json j;
  try {
    std::vector<std::unique_ptr<Runner>> runners;
    for (const Trial& t : kTrials) {
      runners.push_back(std::make_unique<Runner>(t.output));
      runners.back()->tensor.resize(size_t(3) * model * model);
    }
    for (int k = 0; k < kTrialCount; ++k) {  // warm-up: handles, buffers, letterbox tables
      for (int w = 0; w < 3; ++w) runners[k]->Once(kTrials[k], jpeg, spec);
    }
    const int width = runners[0]->pic.frame().width, height = runners[0]->pic.frame().height;  // full: the picture
    const camtrack::decode::JpegScale scale = JpegDecoder::ChooseScale(width, height, spec);
    std::vector<double> samples[kTrialCount];
    for (int r = 0; r < repeat; ++r)
      for (int k = 0; k < kTrialCount; ++k) samples[k].push_back(runners[k]->Sample(kTrials[k], jpeg, spec, min_sample_ms));
    j.Begin().Key("jpeg").Str(path).Key("bytes").Int(int64_t(jpeg.size())).Key("width").Int(width);
    j.Key("height").Int(height).Key("model").Int(model).Key("scale").Str("1/" + std::to_string(scale.denom));
    j.Key("decoded").Str(std::to_string(scale.width) + "x" + std::to_string(scale.height));
    j.Key("repeat").Int(repeat).Key("minSampleMs").Num(min_sample_ms, 2).Key("ffmpeg").Str(av_version_info());
    j.Key("samplesMs").Begin();
    for (int k = 0; k < kTrialCount; ++k) {
      j.Key(kTrials[k].name).BeginArray();
      for (const double v : samples[k]) j.Num(v, 4);
      j.End();
    }
    j.End().End();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "camtrack_bench_jpeg_bench: %s\n", e.what());
    return 1;
  }
  std::puts(j.str().c_str());
  return 0;
}
