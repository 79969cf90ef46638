// camtrack_bench_jpeg_bench: JPEG decode at the DCT scale JpegDecoder picks for a model vs a full-size decode
// (issue 10, "decode at scale"), for 720p, 1080p and 4K JPEGs into a 416 and a 640 model, in the same run.
//
//   camtrack_bench_jpeg_bench [--repeat 7] [--min-sample-ms 60] [--quality 3] [--out f.json] [--help]
//
// Inputs, made at start with the ffmpeg CLI (FFMPEG_PATH or ffmpeg on PATH) into a temporary directory, encoded by
// FFmpeg's mjpeg encoder (yuvj420p, -q:v --quality): 720p = frame 30 of walking.mp4 (1280×720), 1080p = frame 4 of
// mmtracking-demo.mp4 (1920×1080), 4K = that 1080p frame scaled up to 3840×2160 (bicubic) before encoding. The
// clips are read from $CAMTRACK_ASSETS, else the first <ancestor>/shared/assets.
//
// Trials per (input, model), one decoder + one PictureBuffer each, warmed up first:
//   full            JpegDecoder::Decode(spec = null): the whole picture at full size
//   scaled          JpegDecoder::Decode(&spec): at JpegDecoder::ChooseScale() of the picture for the model
//   full_lb         full + CpuLetterboxer::Run into the model's input (what the pipeline pays per frame without scaling)
//   scaled_lb       scaled + CpuLetterboxer::Run
//   scaled_rgb_lb   scaled with JpegOutput::kRgb24 + CpuLetterboxer::Run (the rgb24 form the decoder uses for
//                   non-4:2:0 JPEGs; its cost against scaled_lb justifies the planar yuv420p default)
//   full_rgb_lb     full size with JpegOutput::kRgb24 + CpuLetterboxer::Run: the plain way (decode every pixel to
//                   RGB, then resize), for reference
// Each sample times back-to-back calls until --min-sample-ms has passed and gives ms per call; rounds alternate the
// trials (full, scaled, full_lb, scaled_lb, scaled_rgb_lb, full_rgb_lb, full, …) so drift on a shared machine hits all alike.
// Reported per trial: the median and min of the rounds' samples; ratios are the medians of the per-round ratios
// (full / scaled, full_lb / scaled_lb, full_rgb_lb / scaled_lb: how many times faster the scaled path is;
// scaled_rgb_lb / scaled_lb: what rgb24 output would cost over the planar output).
//
// Output: one progress line per (input, model) on stderr, the JSON report on stdout and in --out (default
// bench/results/jpeg-<time>.json when ./bench/results can be made). Exit 0 on success, 1 when an input cannot be
// made or decoded, 2 on bad options.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

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

#include "core/common/error.h"
#include "core/decode/jpeg_decoder.h"
#include "core/preprocess/letterbox.h"

extern "C" {
#include <libavutil/avutil.h>
}

namespace {

using Clock = std::chrono::steady_clock;
using camtrack::decode::JpegDecoder;
using camtrack::decode::JpegDecoderOptions;
using camtrack::decode::JpegOutput;
using camtrack::decode::PictureBuffer;
using camtrack::preprocess::ModelInputSpec;

struct Options {
  int repeat = 7;
  double min_sample_ms = 60;
  int quality = 3;
  std::string out;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string CommandOutput(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) o += ' ';
    else o += c;
  }
  return o + "\"";
}

std::string Num(double v, int digits) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

std::string AssetsDir() {
  if (const char* env = std::getenv("CAMTRACK_ASSETS")) {
    if (*env) return env;
  }
  std::string dir = ".";
  for (int depth = 0; depth < 12; ++depth) {
    if (std::ifstream(dir + "/shared/assets/SOURCES.md").good()) return dir + "/shared/assets";
    dir += "/..";
  }
  return "";
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Input {
  std::string name;
  std::string clip;
  int frame;
  std::string vf;
  int width, height;
  std::vector<uint8_t> jpeg;
};

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
  void Once(const Trial& t, const Input& in, const ModelInputSpec& spec) {
    dec.Decode(in.jpeg.data(), in.jpeg.size(), t.scaled ? &spec : nullptr, &pic);
    if (t.letterbox) pic.ToSource(lb.Run(pic.frame(), spec, tensor.data()));
  }
  // ms per call over back-to-back calls lasting at least min_ms.
  double Sample(const Trial& t, const Input& in, const ModelInputSpec& spec, double min_ms) {
    int n = 0;
    const auto t0 = Clock::now();
    double ms = 0;
    do {
      Once(t, in, spec);
      ++n;
      ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    } while (ms < min_ms);
    return ms / n;
  }
};

void Usage(FILE* f) {
  std::fprintf(f,
               "usage: camtrack_bench_jpeg_bench [--repeat N (7)] [--min-sample-ms MS (60)] [--quality Q (3, ffmpeg "
               "-q:v)] [--out FILE]\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage(stderr);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--repeat") opt.repeat = std::max(1, std::atoi(value().c_str()));
    else if (a == "--min-sample-ms") opt.min_sample_ms = std::max(1.0, std::atof(value().c_str()));
    else if (a == "--quality") opt.quality = std::max(1, std::atoi(value().c_str()));
    else if (a == "--out") opt.out = value();
    else if (a == "--help" || a == "-h") {
      Usage(stdout);
      return 0;
    }
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      Usage(stderr);
      return 2;
    }
  }
  const std::string assets = AssetsDir();
  if (assets.empty()) {
    std::fprintf(stderr, "shared assets not found: set CAMTRACK_ASSETS to the shared/assets directory\n");
    return 1;
  }
  const char* ff_env = std::getenv("FFMPEG_PATH");
  const std::string ffmpeg = ff_env && *ff_env ? ff_env : "ffmpeg";
  char tmpl[] = "/tmp/camtrack-jpeg-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) return std::perror("mkdtemp"), 1;
  const std::string dir = tmpl;

  std::vector<Input> inputs = {
      {"720p", "videos/walking.mp4", 30, "", 1280, 720, {}},
      {"1080p", "videos/mmtracking-demo.mp4", 4, "", 1920, 1080, {}},
      {"4K", "videos/mmtracking-demo.mp4", 4, ",scale=3840:2160:flags=bicubic", 3840, 2160, {}},
  };
  for (Input& in : inputs) {
    const std::string out = dir + "/" + in.name + ".jpg";
    const std::string cmd = "timeout -k 2 120 " + Quote(ffmpeg) + " -nostdin -v error -y -i " +
                            Quote(assets + "/" + in.clip) + " -vf " +
                            Quote("select=eq(n\\," + std::to_string(in.frame) + ")" + in.vf) +
                            " -frames:v 1 -c:v mjpeg -pix_fmt yuvj420p -q:v " + std::to_string(opt.quality) + " " +
                            Quote(out);
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "cannot make the %s input: %s\n", in.name.c_str(), cmd.c_str());
      return 1;
    }
    in.jpeg = ReadFile(out);
    ::unlink(out.c_str());
  }
  ::rmdir(dir.c_str());

  struct Row {
    std::string input;
    int model;
    camtrack::decode::JpegScale scale;
    std::vector<double> samples[kTrialCount];
    std::vector<double> ratio_decode, ratio_lb, ratio_rgb, ratio_plain;
  };
  std::vector<Row> rows;
  const auto started = Clock::now();
  try {
    for (const Input& in : inputs) {
      for (int model : {416, 640}) {
        ModelInputSpec spec;  // Ultralytics-style: RGB, centred, /255 (the letterbox work is the same for YOLOX)
        spec.width = spec.height = model;
        Row row;
        row.input = in.name;
        row.model = model;
        row.scale = JpegDecoder::ChooseScale(in.width, in.height, spec);
        std::vector<std::unique_ptr<Runner>> runners;
        for (const Trial& t : kTrials) {
          runners.push_back(std::make_unique<Runner>(t.output));
          runners.back()->tensor.resize(size_t(3) * model * model);
        }
        for (int k = 0; k < kTrialCount; ++k) {  // warm-up: handles, buffers, letterbox tables
          for (int w = 0; w < 3; ++w) runners[k]->Once(kTrials[k], in, spec);
        }
        for (int r = 0; r < opt.repeat; ++r) {
          double s[kTrialCount];
          for (int k = 0; k < kTrialCount; ++k) {
            s[k] = runners[k]->Sample(kTrials[k], in, spec, opt.min_sample_ms);
            row.samples[k].push_back(s[k]);
          }
          row.ratio_decode.push_back(s[0] / s[1]);
          row.ratio_lb.push_back(s[2] / s[3]);
          row.ratio_rgb.push_back(s[4] / s[3]);
          row.ratio_plain.push_back(s[5] / s[3]);
        }
        std::fprintf(stderr,
                     "%-5s into %d: 1/%d -> %dx%d  full %.2f ms  scaled %.2f ms  (x%.2f)  with letterbox %.2f -> "
                     "%.2f ms (x%.2f)\n",
                     in.name.c_str(), model, row.scale.denom, row.scale.width, row.scale.height,
                     Median(row.samples[0]), Median(row.samples[1]), Median(row.ratio_decode),
                     Median(row.samples[2]), Median(row.samples[3]), Median(row.ratio_lb));
        rows.push_back(std::move(row));
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench failed: %s\n", e.what());
    return 1;
  }

  // ---- report ----
  struct utsname u;
  ::uname(&u);
  std::string cpu_model = "unknown";
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("model name", 0) == 0) {
        cpu_model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  const std::time_t now = std::time(nullptr);
  char iso[32];
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::ostringstream o;
  o << "{\"bench\":\"jpeg\",\"date\":" << JsonString(iso)
    << ",\"durationS\":" << Num(std::chrono::duration<double>(Clock::now() - started).count(), 1)
    << ",\"commit\":" << JsonString(CommandOutput("git rev-parse --short HEAD 2>/dev/null"))
    << ",\"machine\":{\"kernel\":" << JsonString(u.release) << ",\"cpus\":" << ::sysconf(_SC_NPROCESSORS_ONLN)
    << ",\"cpuModel\":" << JsonString(cpu_model) << ",\"loadAverageAfter\":[" << Num(load[0], 2) << ","
    << Num(load[1], 2) << "," << Num(load[2], 2) << "]"
    << ",\"libjpegTurbo\":" << JsonString(CommandOutput("pkg-config --modversion libturbojpeg 2>/dev/null"))
    << ",\"ffmpeg\":" << JsonString(av_version_info()) << "}"
    << ",\"options\":{\"repeat\":" << opt.repeat << ",\"minSampleMs\":" << Num(opt.min_sample_ms, 0)
    << ",\"quality\":" << opt.quality << "}"
    << ",\"inputs\":[";
  for (size_t i = 0; i < inputs.size(); ++i) {
    o << (i ? "," : "") << "{\"name\":" << JsonString(inputs[i].name) << ",\"width\":" << inputs[i].width
      << ",\"height\":" << inputs[i].height << ",\"bytes\":" << inputs[i].jpeg.size() << "}";
  }
  o << "],\"results\":[";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    o << (i ? "," : "") << "\n  {\"input\":" << JsonString(r.input) << ",\"model\":" << r.model
      << ",\"scale\":\"1/" << r.scale.denom << "\",\"decoded\":\"" << r.scale.width << "x" << r.scale.height
      << "\"";
    for (int k = 0; k < kTrialCount; ++k) {
      std::vector<double> s = r.samples[k];
      o << ",\"" << kTrials[k].name << "Ms\":{\"median\":" << Num(Median(s), 3)
        << ",\"min\":" << Num(*std::min_element(s.begin(), s.end()), 3) << "}";
    }
    o << ",\"speedupDecode\":" << Num(Median(r.ratio_decode), 2)
      << ",\"speedupWithLetterbox\":" << Num(Median(r.ratio_lb), 2)
      << ",\"rgbOverYuvWithLetterbox\":" << Num(Median(r.ratio_rgb), 2)
      << ",\"speedupOverFullRgbWithLetterbox\":" << Num(Median(r.ratio_plain), 2) << "}";
  }
  o << "\n]}\n";
  const std::string report = o.str();
  std::fputs(report.c_str(), stdout);
  std::string out = opt.out;
  if (out.empty()) {
    ::mkdir("bench/results", 0755);
    struct stat st;
    if (::stat("bench/results", &st) == 0 && S_ISDIR(st.st_mode)) {
      char name[64];
      std::strftime(name, sizeof name, "bench/results/jpeg-%Y%m%d-%H%M%S.json", std::gmtime(&now));
      out = name;
    }
  }
  if (!out.empty()) {
    std::ofstream f(out);
    f << report;
    std::fprintf(stderr, "report: %s\n", out.c_str());
  }
  return 0;
}
