// camtrack_bench_decode_bench: decode-only throughput of camtrack::decode::VideoSource for 1, 8 and 32 concurrent
// streams, against the ffmpeg CLI decoding the same clips to a null sink, in the same run (issue 3, "Bench").
//
//   camtrack_bench_decode_bench [--clip f.mp4]... [--no-hevc] [--streams 1,8,32] [--repeat 3]
//                               [--trials ours,ffmpeg] [--decoder cpu] [--decoder-threads 1] [--out f.json]
//   camtrack_bench_decode_bench --help            (every option)
//
// Trials (one run = N streams decoding the same clip at once, each a fixed number of frames):
//   ours        N std::threads, each with its own camtrack::decode::VideoSource (loop = true, file semantics,
//               decoder_threads = --decoder-threads), calling NextFrame() until it has the stream's frames. Nothing
//               but the decode (no letterbox, no copy): what the pipeline's source thread pays per frame.
//               --decoder gpu: each thread runs the pipeline's NVDEC path instead, decode::GpuFrameSource
//               (VideoSource in packet mode → decode::NvdecDecoder, PoolFullPolicy::kBlock as for files, loop),
//               without its letterbox: every frame is waited for (its ready event) and stays in device memory.
//   ffmpeg      N concurrent `ffmpeg -v error -threads T -stream_loop K-1 -i clip -an -f null -` processes,
//               T = --decoder-threads: the same libavcodec threads per stream as ours. THE BASELINE of the ratio.
//   ffmpeg-auto the same without -threads (ffmpeg's default: frame threads = cores per process). Diagnostic only:
//               not the fair comparison, since ours runs one decoder thread per stream by default.
//   lavc-raw    the same loop as `ours` written directly on libavformat/libavcodec in this file (read, send,
//               receive, seek at EOF): the ceiling of what VideoSource's own bookkeeping can cost. Diagnostic.
//               CPU decode only: refused with --decoder gpu.
// Throughput = all frames of all streams / wall time from the first thread or process start to the last end, so
// open + probe is inside the window for both sides (the clip is repeated enough times that it is a few %: see
// `startupMs` per clip in the report). Per-stream fps = that stream's frames / its own start→end time. CPU % =
// user+sys CPU time of this process (ours, lavc-raw: getrusage) or of the ffmpeg children (wait4 rusage) / wall.
// Runs alternate trial by trial (ours, ffmpeg, ours, ffmpeg, …) so a shared machine's drift hits both alike;
// medians over the rounds and the paired median of per-round ratios are reported.
//
// Clips: --clip (repeatable; default walking.mp4 under $CAMTRACK_ASSETS, ../shared/assets or /work/shared/assets)
// plus an HEVC copy of the first clip made at start in a temp directory with libx265 (`--no-hevc` skips it).
//
// --decoder gpu: NVDEC on CUDA device --device (default 0) for ours (above) and `-hwaccel cuda -hwaccel_device N
// -hwaccel_output_format cuda` for the ffmpeg trials (BaselineArgs): both keep the frames in device memory. Where NVDEC cannot run (no driver, no GPU,
// a build without CUDA) it prints "SKIP: NVDEC not available: <reason>" on stderr and exits with 77.
//
// Output: progress lines on stderr, the JSON report on stdout and in --out (default bench/results/decode-<time>.json
// when ./bench exists; bench/results/ is git-ignored). Exit 0 when every run succeeded (the 0.95 target of the CPU
// path is reported in "acceptance", not enforced), 1 when a run failed, 2 on bad options, 77 when --decoder gpu
// finds no NVDEC.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.h"
#include "core/decode/nvdec_decoder.h"
#include "core/decode/video_source.h"
#include "core/decode/gpu_frame_source.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ---- options ---------------------------------------------------------------------------------------------------

enum class DecoderKind { kCpu, kGpu };

constexpr int kExitNoNvdec = 77;  // like camtrack_gpu_tests: test/gpu turns it into a loud skip

struct Options {
  std::vector<std::string> clips;
  bool hevc = true;
  bool keep_tmp = false;
  std::vector<int> streams = {1, 8, 32};
  std::vector<std::string> trials = {"ours", "ffmpeg"};
  int repeat = 3;
  int min_total_frames = 2700;  // per run, all streams together (decides the passes over the clip per stream)
  int min_stream_frames = 0;    // and at least this many per stream (many streams start staggered: see --help)
  int passes = 0;               // > 0: fixed passes over the clip per stream, whatever N
  int decoder_threads = 1;
  DecoderKind decoder = DecoderKind::kCpu;
  int device = 0;  // --device: CUDA device of --decoder gpu (ours and ffmpeg's -hwaccel_device alike)
  std::string ffmpeg = "ffmpeg";
  std::string out;
  bool quiet = false;
};

const char* kHelp =
    "camtrack_bench_decode_bench: decode-only throughput, camtrack VideoSource vs ffmpeg -f null, same run.\n"
    "  --clip FILE            clip to decode (repeatable); default walking.mp4 of the shared assets\n"
    "  --no-hevc              do not add an HEVC (libx265) copy of the first clip\n"
    "  --keep-tmp             keep the temp directory with the HEVC copy (its path is in the report)\n"
    "  --streams 1,8,32       concurrent streams per run\n"
    "  --trials ours,ffmpeg   trials, in this order within a round; also ffmpeg-auto, lavc-raw\n"
    "  --repeat 3             rounds (runs alternate trial by trial)\n"
    "  --min-total-frames 2700  frames per run (all streams): each stream decodes\n"
    "                         max(1, ceil(this / (streams * clip frames))) passes over the clip\n"
    "  --min-stream-frames M  and at least M frames per stream (default 0): with many streams the decoders start\n"
    "                         one after another, and a stream must outlast the others' start for a steady window\n"
    "  --passes K             fixed passes over the clip per stream (overrides --min-total-frames)\n"
    "  --decoder cpu          cpu (libavcodec) or gpu (NVDEC on --device: ours through the pipeline's GPU source,\n"
    "                         ffmpeg with -hwaccel cuda -hwaccel_output_format cuda; exit 77 without NVDEC)\n"
    "  --decoder-threads 1    libavcodec threads per stream, ours and ffmpeg's -threads alike (gpu: ffmpeg only)\n"
    "  --device 0             CUDA device of --decoder gpu (ours, and ffmpeg's -hwaccel_device)\n"
    "  --ffmpeg PATH          ffmpeg executable (default: ffmpeg on PATH)\n"
    "  --out FILE             JSON report file (default bench/results/decode-<time>.json when ./bench exists)\n"
    "  --quiet                no progress lines on stderr\n";

[[noreturn]] void BadOption(const std::string& msg) {
  std::fprintf(stderr, "decode_bench: %s (see --help)\n", msg.c_str());
  std::exit(2);
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

int ParsePositive(const std::string& name, const std::string& v) {
  char* end = nullptr;
  const long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n <= 0 || n > 100000)
    BadOption("expected a positive integer for " + name + " but received '" + v + "'");
  return int(n);
}

bool FileExists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string DefaultClip() {
  std::vector<std::string> candidates;
  if (const char* a = std::getenv("CAMTRACK_ASSETS")) candidates.push_back(std::string(a) + "/videos/walking.mp4");
  candidates.push_back("../shared/assets/videos/walking.mp4");
  candidates.push_back("/work/shared/assets/videos/walking.mp4");
  for (const auto& c : candidates)
    if (FileExists(c)) return c;
  BadOption("walking.mp4 not found under $CAMTRACK_ASSETS, ../shared/assets or /work/shared/assets; pass --clip");
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    const auto eq = a.find('=');
    bool has_inline = false;
    if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_inline = true;
    }
    auto value = [&]() -> std::string {
      if (has_inline) return v;
      if (i + 1 >= argc) BadOption("missing value for " + a);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kHelp, stdout);
      std::exit(0);
    } else if (a == "--clip") {
      o.clips.push_back(value());
    } else if (a == "--no-hevc") {
      o.hevc = false;
    } else if (a == "--keep-tmp") {
      o.keep_tmp = true;
    } else if (a == "--streams") {
      o.streams.clear();
      for (const auto& s : SplitList(value())) o.streams.push_back(ParsePositive("--streams", s));
      if (o.streams.empty()) BadOption("--streams is empty");
    } else if (a == "--trials") {
      o.trials = SplitList(value());
      for (const auto& t : o.trials)
        if (t != "ours" && t != "ffmpeg" && t != "ffmpeg-auto" && t != "lavc-raw")
          BadOption("unknown trial '" + t + "' (ours, ffmpeg, ffmpeg-auto, lavc-raw)");
      if (o.trials.empty()) BadOption("--trials is empty");
    } else if (a == "--repeat") {
      o.repeat = ParsePositive(a, value());
    } else if (a == "--min-total-frames") {
      o.min_total_frames = ParsePositive(a, value());
    } else if (a == "--min-stream-frames") {
      o.min_stream_frames = ParsePositive(a, value());
    } else if (a == "--passes") {
      o.passes = ParsePositive(a, value());
    } else if (a == "--decoder-threads") {
      o.decoder_threads = ParsePositive(a, value());
    } else if (a == "--decoder") {
      const std::string d = value();
      if (d == "cpu")
        o.decoder = DecoderKind::kCpu;
      else if (d == "gpu")
        o.decoder = DecoderKind::kGpu;
      else
        BadOption("expected cpu or gpu for --decoder but received '" + d + "'");
    } else if (a == "--device") {
      const std::string d = value();
      char* end = nullptr;
      const long n = std::strtol(d.c_str(), &end, 10);
      if (d.empty() || *end != '\0' || n < 0 || n > 255) BadOption("expected a CUDA device 0..255 for --device but received '" + d + "'");
      o.device = int(n);
    } else if (a == "--ffmpeg") {
      o.ffmpeg = value();
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--quiet") {
      o.quiet = true;
    } else {
      BadOption("unknown option " + a);
    }
  }
  if (o.decoder == DecoderKind::kGpu &&
      std::find(o.trials.begin(), o.trials.end(), "lavc-raw") != o.trials.end())
    BadOption("trial lavc-raw is the libavcodec (CPU) loop and does not apply to --decoder gpu");
  if (o.clips.empty()) o.clips.push_back(DefaultClip());
  for (const auto& c : o.clips)
    if (!FileExists(c)) BadOption("clip not found: " + c);
  return o;
}

// ---- small helpers ---------------------------------------------------------------------------------------------

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double CpuSeconds(const struct rusage& r) {
  return double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + 1e-6 * double(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// First line of a shell command's stdout ("" on failure). Used for git and `ffmpeg -version` only.
std::string CommandLine(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  char buf[512] = {0};
  std::string line = std::fgets(buf, sizeof(buf), p) ? buf : "";
  ::pclose(p);
  return Trim(line);
}

std::string CommandOutput(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// ---- JSON writer (just enough for the report) -------------------------------------------------------------------

std::string JsonString(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += char(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof(b), "\\u%04x", c);
      o += b;
    } else {
      o += char(c);
    }
  }
  return o + "\"";
}

std::string JsonNumber(double v, int digits = 3) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof(b), "%.*f", digits, v);
  return b;
}

// ---- our side: N VideoSource threads ---------------------------------------------------------------------------

struct StreamResult {
  int64_t frames = 0;
  double seconds = 0;  // this stream's start → last frame
  std::string error;
  bool has_nvdec = false;              // --decoder gpu, ours: the decoder was created
  camtrack::decode::NvdecStats nvdec;  // its counters when the stream ended
};

// NvdecStats summed over the streams of one run (pool sizes: the largest).
struct NvdecTotals {
  int streams = 0;  // streams that reported counters
  uint64_t packets = 0, decoded = 0, displayed = 0, delivered = 0, dropped_pool_full = 0, corrupt = 0,
           sequence_changes = 0, sequence_flushes = 0;
  int pool_size_max = 0, pool_in_use_max = 0;
  void Add(const camtrack::decode::NvdecStats& s) {
    ++streams;
    packets += s.packets;
    decoded += s.decoded;
    displayed += s.displayed;
    delivered += s.delivered;
    dropped_pool_full += s.dropped_pool_full;
    corrupt += s.corrupt;
    sequence_changes += s.sequence_changes;
    sequence_flushes += s.sequence_flushes;
    pool_size_max = std::max(pool_size_max, s.pool_size);
    pool_in_use_max = std::max(pool_in_use_max, s.pool_in_use_max);
  }
};

struct RunResult {
  std::string trial;
  int streams = 0;
  int64_t frames = 0;  // all streams
  double wall_s = 0;
  double cpu_s = 0;
  std::vector<StreamResult> per_stream;
  std::string error;  // first stream error, empty when all succeeded
  NvdecTotals nvdec;  // --decoder gpu, ours (streams == 0 otherwise)
  // Steady state: frames decoded by all streams together while every stream was decoding (after the last one
  // started, before the first one finished) / that window; excludes open, process start-up and the tail.
  double steady_fps = NAN;
  double steady_window_s = 0;
  double fps() const { return wall_s > 0 ? double(frames) / wall_s : 0; }
  double cpu_percent() const { return wall_s > 0 ? 100.0 * cpu_s / wall_s : 0; }
};

// Live progress of one in-process stream, read by the sampling main thread (own cache line: no false sharing).
struct alignas(64) Progress {
  std::atomic<int64_t> frames{0};
  std::atomic<bool> done{false};
};

// Frame counts of all streams at one instant of a run, taken every kSamplePeriodMs by the main thread.
struct Sample {
  double t = 0;                 // seconds since the run started
  std::vector<int64_t> counts;  // frames per stream so far
  bool all_running = false;     // no stream has finished yet
};
constexpr int kSamplePeriodMs = 50;

// Steady-state throughput: from the first sample where every stream has produced a frame to the last sample
// before any stream finished. NaN when that window is shorter than 0.5 s.
void SteadyWindow(const std::vector<Sample>& samples, RunResult* r) {
  int a = -1, b = -1;
  for (int i = 0; i < int(samples.size()); ++i) {
    const Sample& s = samples[size_t(i)];
    if (!s.all_running) continue;
    b = i;
    if (a < 0 && std::all_of(s.counts.begin(), s.counts.end(), [](int64_t c) { return c > 0; })) a = i;
  }
  if (a < 0 || b <= a) return;
  const Sample &sa = samples[size_t(a)], &sb = samples[size_t(b)];
  const double window = sb.t - sa.t;
  if (window < 0.5) return;
  int64_t frames = 0;
  for (size_t i = 0; i < sa.counts.size(); ++i) frames += sb.counts[i] - sa.counts[i];
  r->steady_fps = double(frames) / window;
  r->steady_window_s = window;
}

constexpr int64_t kAllFrames = std::numeric_limits<int64_t>::max();  // GpuDecode's max_frames: the whole input

// Every VideoSource of the bench reads a file with file semantics (live = kFile: blocking, no frame dropped).
camtrack::decode::SourceOptions FileSource(const std::string& path, bool loop) {
  camtrack::decode::SourceOptions so;  // every field set: SourceOptions has no defaults
  so.url = path;
  so.rtsp_transport = "tcp";
  so.open_timeout_ms = 10000;
  so.read_timeout_ms = 10000;
  so.loop = loop;
  so.decoder_threads = 1;
  so.live = camtrack::decode::LiveMode::kFile;
  return so;
}

// The pipeline's NVDEC path on one file, minus LetterboxInto: decode::GpuFrameSource on a VideoSource in packet
// mode (→ NvdecDecoder: extradata first, then packets; Flush at the end of a pass, drain, RewindForLoop when `loop`)
// with file semantics (SourceOptions live = kFile → PoolFullPolicy::kBlock: no frame is dropped). Takes frames until
// `max_frames` or the end of the input. Each frame is waited for on the host (its ready event: the decoder's copy
// into the pool surface is done), so only completed decodes are counted; it stays in device memory and goes back to
// the pool when Next() takes the following one. Start() decodes the first frame, so open + first frame happen
// before the loop, as NextFrame() does on the CPU. No decoder_threads: packet mode opens no libavcodec decoder.
// Returns the frames taken. Optional outputs: each count so far into *progress, and at the end the decoder's
// counters into *stats and its GPU's name into *device_name. Throws when NVDEC cannot take the file, and the
// source's and decoder's errors.
int64_t GpuDecode(const std::string& path, bool loop, int device, int64_t max_frames, Progress* progress,
                  camtrack::decode::NvdecStats* stats, std::string* device_name) {
  camtrack::decode::SourceOptions so = FileSource(path, loop);
  so.packets_only = true;
  camtrack::decode::VideoSource src(so);
  src.Open();
  camtrack::decode::GpuFrameSource::StartFailure failure;
  const auto gpu = camtrack::decode::GpuFrameSource::Start(src, device, &failure);
  if (!gpu) throw std::runtime_error("NVDEC cannot take " + path + ": " + failure.reason);
  int64_t n = 0;
  while (n < max_frames && gpu->Next()) {
    gpu->SynchronizeFrame();
    ++n;
    if (progress) progress->frames.store(n, std::memory_order_relaxed);
  }
  if (stats) *stats = gpu->decoder_stats();
  if (device_name) *device_name = gpu->device_name();
  return n;
}

// One stream of `ours`, `frames` frames, decode only (the frame is not touched).
// CPU: VideoSource::NextFrame. GPU (--decoder gpu): GpuDecode, looping over the clip.
// gpu_device < 0: CPU decode; else the CUDA device of the NVDEC path.
void OursStream(const std::string& clip, int64_t frames, int decoder_threads, int gpu_device, StreamResult* out,
                Progress* progress) {
  const auto t0 = Clock::now();
  try {
    int64_t n = 0;
    if (gpu_device >= 0) {
      n = GpuDecode(clip, /*loop=*/true, gpu_device, frames, progress, &out->nvdec, /*device_name=*/nullptr);
      out->has_nvdec = true;
    } else {
      camtrack::decode::SourceOptions so = FileSource(clip, /*loop=*/true);
      so.decoder_threads = decoder_threads;
      camtrack::decode::VideoSource src(so);
      src.Open();
      AVFrame* frame = nullptr;
      while (n < frames && src.NextFrame(&frame)) progress->frames.store(++n, std::memory_order_relaxed);
    }
    out->frames = n;
    if (n < frames) out->error = "input ended after " + std::to_string(n) + " frames";
  } catch (const std::exception& e) {
    out->error = e.what();
  }
  out->seconds = SecondsSince(t0);
  progress->done.store(true, std::memory_order_release);
}

// One stream of `lavc-raw`: the same loop on bare libavformat/libavcodec (no timestamps, counters, deadlines).
void LavcRawStream(const std::string& clip, int64_t frames, int decoder_threads, StreamResult* out,
                   Progress* progress) {
  const auto t0 = Clock::now();
  AVFormatContext* fmt = nullptr;
  AVCodecContext* dec = nullptr;
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  int64_t n = 0;
  auto fail = [&](const char* what) { out->error = what; };
  do {
    if (avformat_open_input(&fmt, clip.c_str(), nullptr, nullptr) < 0) {
      fail("avformat_open_input failed");
      break;
    }
    if (avformat_find_stream_info(fmt, nullptr) < 0) {
      fail("avformat_find_stream_info failed");
      break;
    }
    const AVCodec* codec = nullptr;
    const int vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (vi < 0 || !codec) {
      fail("no video stream");
      break;
    }
    for (unsigned i = 0; i < fmt->nb_streams; ++i)
      if (int(i) != vi) fmt->streams[i]->discard = AVDISCARD_ALL;
    dec = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(dec, fmt->streams[vi]->codecpar);
    dec->thread_count = decoder_threads;
    if (avcodec_open2(dec, codec, nullptr) < 0) {
      fail("avcodec_open2 failed");
      break;
    }
    bool draining = false;
    while (n < frames) {
      const int err = avcodec_receive_frame(dec, frame);
      if (err == 0) {
        progress->frames.store(++n, std::memory_order_relaxed);
        continue;
      }
      if (err == AVERROR_EOF || draining) {  // end of one pass: rewind and go on
        if (av_seek_frame(fmt, vi, 0, AVSEEK_FLAG_BACKWARD) < 0) {
          fail("seek failed");
          break;
        }
        avcodec_flush_buffers(dec);
        draining = false;
        continue;
      }
      if (av_read_frame(fmt, pkt) < 0) {
        draining = true;
        avcodec_send_packet(dec, nullptr);
        continue;
      }
      if (pkt->stream_index == vi) avcodec_send_packet(dec, pkt);
      av_packet_unref(pkt);
    }
  } while (false);
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&dec);
  avformat_close_input(&fmt);
  out->frames = n;
  if (out->error.empty() && n < frames) out->error = "ended after " + std::to_string(n) + " frames";
  out->seconds = SecondsSince(t0);
  progress->done.store(true, std::memory_order_release);
}

RunResult RunInProcess(const std::string& trial, const std::string& clip, int streams, int64_t frames_per_stream,
                       const Options& opt) {
  RunResult r;
  r.trial = trial;
  r.streams = streams;
  r.per_stream.resize(size_t(streams));
  struct rusage ru0, ru1;
  ::getrusage(RUSAGE_SELF, &ru0);
  const auto t0 = Clock::now();
  std::unique_ptr<Progress[]> progress(new Progress[size_t(streams)]);
  std::vector<std::thread> threads;
  threads.reserve(size_t(streams));
  for (int i = 0; i < streams; ++i) {
    StreamResult* out = &r.per_stream[size_t(i)];
    if (trial == "ours") {
      threads.emplace_back(OursStream, clip, frames_per_stream, opt.decoder_threads,
                           opt.decoder == DecoderKind::kGpu ? opt.device : -1, out, &progress[size_t(i)]);
    } else {
      threads.emplace_back(LavcRawStream, clip, frames_per_stream, opt.decoder_threads, out, &progress[size_t(i)]);
    }
  }
  std::vector<Sample> samples;
  for (bool all_done = false; !all_done;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(kSamplePeriodMs));
    Sample s;
    s.t = SecondsSince(t0);
    s.all_running = true;
    all_done = true;
    for (int i = 0; i < streams; ++i) {
      const bool done = progress[size_t(i)].done.load(std::memory_order_acquire);
      s.counts.push_back(progress[size_t(i)].frames.load(std::memory_order_relaxed));
      s.all_running = s.all_running && !done;
      all_done = all_done && done;
    }
    samples.push_back(std::move(s));
  }
  for (auto& t : threads) t.join();
  r.wall_s = SecondsSince(t0);
  ::getrusage(RUSAGE_SELF, &ru1);
  r.cpu_s = CpuSeconds(ru1) - CpuSeconds(ru0);
  for (const auto& s : r.per_stream) {
    r.frames += s.frames;
    if (r.error.empty() && !s.error.empty()) r.error = s.error;
    if (s.has_nvdec) r.nvdec.Add(s.nvdec);
  }
  SteadyWindow(samples, &r);
  return r;
}

// ---- baseline: N ffmpeg processes ------------------------------------------------------------------------------

// The ffmpeg command of one baseline stream. `passes` = how many times the clip is decoded (-stream_loop passes-1).
// threads <= 0: no -threads (ffmpeg's default, auto). decoder kGpu: NVDEC through -hwaccel cuda, frames stay in
// device memory (the fair counterpart of a GPU VideoSource that does no host copy).
std::vector<std::string> BaselineArgs(const Options& opt, const std::string& clip, int passes, int threads,
                                      int max_frames, const std::string& progress_path) {
  std::vector<std::string> a = {opt.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-nostats"};
  if (threads > 0) a.insert(a.end(), {"-threads", std::to_string(threads)});
  if (opt.decoder == DecoderKind::kGpu) {
    a.insert(a.end(), {"-hwaccel", "cuda", "-hwaccel_device", std::to_string(opt.device), "-hwaccel_output_format",
                       "cuda"});
  }
  if (passes > 1) a.insert(a.end(), {"-stream_loop", std::to_string(passes - 1)});
  a.insert(a.end(), {"-i", clip, "-map", "0:v:0", "-an", "-sn", "-dn"});
  if (max_frames > 0) a.insert(a.end(), {"-frames:v", std::to_string(max_frames)});
  a.insert(a.end(), {"-f", "null", "-", "-progress", progress_path, "-stats_period",
                     std::to_string(kSamplePeriodMs / 1000.0)});
  return a;
}

// The baseline command of the 'ffmpeg' trial as BaselineArgs() builds it, with placeholders for what differs per
// run: the clip, the progress file and the loop count ('ffmpeg-auto' is the same without -threads).
std::string BaselineCommandTemplate(const Options& opt) {
  const std::vector<std::string> a = BaselineArgs(opt, "<clip>", 2, opt.decoder_threads, 0, "<file>");
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!out.empty()) out += ' ';
    if (a[i] == "-stream_loop" && i + 1 < a.size()) {
      // --decoder gpu: no -stream_loop; <clip> is the clip's packets K times, made by stream copy (LoopedCopy).
      out += opt.decoder == DecoderKind::kGpu ? "[<clip> = the clip K times by stream copy]" : "[-stream_loop K-1]";
      ++i;
    } else {
      out += a[i];
    }
  }
  return out;
}

// Spawns argv with stdin from /dev/null and stdout+stderr into err_path. Returns the pid or -1.
pid_t Spawn(const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<char*> argv;
  for (const auto& s : args) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

// Follows one ffmpeg's -progress file while it runs: reads what was appended since the last call and keeps the
// last `frame=` value (ffmpeg writes a block every -stats_period). Polled once more after ffmpeg exited, it gives
// the frames ffmpeg wrote (its final block; 0 when the file or a `frame=` line is missing).
class ProgressTail {
 public:
  explicit ProgressTail(std::string path) : path_(std::move(path)) {}
  ~ProgressTail() {
    if (fd_ >= 0) ::close(fd_);
  }
  ProgressTail(const ProgressTail&) = delete;
  ProgressTail& operator=(const ProgressTail&) = delete;
  int64_t Poll() {
    if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY);
    if (fd_ < 0) return frames_;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd_, buf, sizeof(buf))) > 0) {
      pending_.append(buf, size_t(n));
      size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        if (pending_.rfind("frame=", 0) == 0) frames_ = std::atoll(pending_.c_str() + 6);
        pending_.erase(0, nl + 1);
      }
    }
    return frames_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::string pending_;
  int64_t frames_ = 0;
};

// --decoder gpu: FFmpeg 5.1 cannot loop an input whose frames stay on the GPU: at the first -stream_loop point the
// filter graph is rebuilt and fails ("Impossible to convert between the formats supported by the filter
// 'Parsed_null_0' and the filter 'auto_scale_0'"; with -reinit_filter 0: "Failed to inject frame into filter
// network"), seen on an H200 on 2026-12-04. So the GPU baseline reads the same packets `passes` times from one file:
// the clip stream-copied once into raw Annex-B (`-c copy -bsf:v <codec>_mp4toannexb -f <codec>`; with -stream_loop
// that bitstream filter fails at the loop point too), written `passes` times back to back (Annex-B streams
// concatenate). Once per clip and pass count. Returns the path, or "" with `*error`.
std::map<std::string, std::string>& LoopedCopies() {  // clip + passes → path (deleted with the temp directory)
  static std::map<std::string, std::string> made;
  return made;
}

std::string LoopedCopy(const Options& opt, const std::string& clip, const std::string& codec, int passes,
                       const std::string& tmp_dir, std::string* error) {
  std::map<std::string, std::string>& made = LoopedCopies();
  const std::string key = clip + "\n" + std::to_string(passes);
  if (auto it = made.find(key); it != made.end()) return it->second;
  if (codec != "h264" && codec != "hevc") {
    *error = "no looped copy for codec " + codec + " (h264/hevc only)";
    return "";
  }
  const std::string one = tmp_dir + "/once-" + std::to_string(made.size()) + "." + codec;
  const std::string dst = tmp_dir + "/looped-" + std::to_string(made.size()) + "." + codec;
  const std::string err_path = tmp_dir + "/looped.txt";
  const std::vector<std::string> args = {opt.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-i", clip,
                                         "-map", "0:v:0", "-c", "copy", "-bsf:v", codec + "_mp4toannexb", "-f",
                                         codec, one};
  const pid_t pid = Spawn(args, err_path);
  int status = -1;
  if (pid > 0) ::waitpid(pid, &status, 0);
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !FileExists(one)) {
    *error = "stream copy of the clip into Annex-B failed: " + Trim(ReadFile(err_path));
    return "";
  }
  ::unlink(err_path.c_str());
  const std::string bytes = ReadFile(one);
  ::unlink(one.c_str());
  {
    std::ofstream out(dst, std::ios::binary);
    for (int i = 0; i < passes && out; ++i) out.write(bytes.data(), std::streamsize(bytes.size()));
    if (!out || bytes.empty()) {
      *error = "could not write " + dst;
      return "";
    }
  }
  made[key] = dst;
  return dst;
}

RunResult RunFfmpeg(const std::string& trial, const std::string& clip_in, int streams, int passes_in,
                    const Options& opt, const std::string& tmp_dir, int max_frames = 0,
                    const std::string& codec = "") {
  RunResult r;
  std::string clip = clip_in;
  int passes = passes_in;
  if (opt.decoder == DecoderKind::kGpu && passes > 1) {
    clip = LoopedCopy(opt, clip_in, codec, passes, tmp_dir, &r.error);
    if (clip.empty()) {
      r.trial = trial;
      r.streams = streams;
      return r;
    }
    passes = 1;
  }
  r.trial = trial;
  r.streams = streams;
  r.per_stream.resize(size_t(streams));
  const int threads = trial == "ffmpeg-auto" ? 0 : opt.decoder_threads;
  const size_t count = static_cast<size_t>(streams);
  std::vector<std::vector<std::string>> cmds(count);
  std::vector<std::string> progress(count), errs(count);
  for (int i = 0; i < streams; ++i) {
    progress[size_t(i)] = tmp_dir + "/progress-" + std::to_string(i) + ".txt";
    errs[size_t(i)] = tmp_dir + "/stderr-" + std::to_string(i) + ".txt";
    ::unlink(progress[size_t(i)].c_str());
    cmds[size_t(i)] = BaselineArgs(opt, clip, passes, threads, max_frames, progress[size_t(i)]);
  }
  std::map<pid_t, int> index;
  std::vector<std::unique_ptr<ProgressTail>> tails;
  for (int i = 0; i < streams; ++i) tails.emplace_back(new ProgressTail(progress[size_t(i)]));
  std::vector<Sample> samples;
  std::vector<bool> running(count, true);
  const auto t0 = Clock::now();
  for (int i = 0; i < streams; ++i) {
    const pid_t pid = Spawn(cmds[size_t(i)], errs[size_t(i)]);
    if (pid < 0) {
      r.per_stream[size_t(i)].error = "cannot start " + opt.ffmpeg;
      continue;
    }
    index[pid] = i;
  }
  auto next_sample = t0;
  while (!index.empty()) {
    int status = 0;
    struct rusage ru;
    const pid_t pid = ::wait4(-1, &status, WNOHANG, &ru);
    if (pid < 0) break;
    if (pid == 0) {  // none exited: sample the progress files, then sleep a little
      if (Clock::now() >= next_sample) {
        Sample smp;
        smp.t = SecondsSince(t0);
        smp.all_running = std::all_of(running.begin(), running.end(), [](bool b) { return b; });
        for (auto& t : tails) smp.counts.push_back(t->Poll());
        samples.push_back(std::move(smp));
        next_sample += std::chrono::milliseconds(kSamplePeriodMs);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    const auto it = index.find(pid);
    if (it == index.end()) continue;
    running[size_t(it->second)] = false;
    StreamResult& s = r.per_stream[size_t(it->second)];
    s.seconds = SecondsSince(t0);
    r.cpu_s += CpuSeconds(ru);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      s.error = "ffmpeg failed (status " + std::to_string(status) + "): " + Trim(ReadFile(errs[size_t(it->second)]));
    index.erase(it);
  }
  r.wall_s = SecondsSince(t0);
  for (int i = 0; i < streams; ++i) {
    StreamResult& s = r.per_stream[size_t(i)];
    s.frames = std::max<int64_t>(0, tails[size_t(i)]->Poll());  // the rest of the file, after ffmpeg's exit
    if (s.error.empty() && s.frames <= 0) s.error = "no frame= line in ffmpeg's -progress output";
    r.frames += s.frames;
    if (r.error.empty() && !s.error.empty()) r.error = s.error;
    ::unlink(progress[size_t(i)].c_str());
    ::unlink(errs[size_t(i)].c_str());
  }
  SteadyWindow(samples, &r);
  return r;
}

// ---- clips -----------------------------------------------------------------------------------------------------

struct ClipInfo {
  std::string name;  // "h264", "hevc", … (codec, made unique)
  std::string path;
  std::string codec;
  int width = 0, height = 0;
  double fps = 0;
  int64_t frames = 0;       // frames of one pass, counted by decoding it with VideoSource
  double ours_startup_ms = 0;    // VideoSource Open + first frame (gpu: + NVDEC decoder), median of 3
  double ffmpeg_startup_ms = 0;  // ffmpeg process start → exit for 1 frame, median of 3
  int64_t ffmpeg_frames_one_pass = 0;  // ffmpeg's count for one pass (must equal `frames`)
  int64_t nvdec_frames_one_pass = -1;  // --decoder gpu: our NVDEC path's count for one pass (must equal `frames`)
  std::string gpu_device;              // --decoder gpu: NvdecDecoder::device_name()
};

ClipInfo ProbeClip(const std::string& path, const Options& opt, const std::string& tmp_dir) {
  ClipInfo c;
  c.path = path;
  camtrack::decode::SourceOptions so = FileSource(path, /*loop=*/false);
  so.decoder_threads = opt.decoder_threads;
  camtrack::decode::VideoSource src(so);
  src.Open();
  c.codec = src.codec_name();
  c.width = src.width();
  c.height = src.height();
  c.fps = src.fps();
  AVFrame* frame = nullptr;
  while (src.NextFrame(&frame)) ++c.frames;  // also warms the page cache
  if (c.frames == 0) throw std::runtime_error("no frame decoded from " + path);
  const bool gpu = opt.decoder == DecoderKind::kGpu;
  // --decoder gpu: our NVDEC path's count for one pass (no loop, every frame), then its start-up time below.
  if (gpu) c.nvdec_frames_one_pass = GpuDecode(path, /*loop=*/false, opt.device, kAllFrames, nullptr, nullptr,
                                               &c.gpu_device);
  std::vector<double> ours, ff;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    if (gpu) {
      GpuDecode(path, /*loop=*/false, opt.device, 1, nullptr, nullptr, &c.gpu_device);  // open + NVDEC + 1st frame
    } else {
      camtrack::decode::VideoSource s(so);
      s.Open();
      s.NextFrame(&frame);
    }
    ours.push_back(1000 * SecondsSince(t0));
    const RunResult r = RunFfmpeg("ffmpeg", path, 1, 1, opt, tmp_dir, 1);
    if (!r.error.empty()) throw std::runtime_error("ffmpeg does not run: " + r.error);
    ff.push_back(1000 * r.wall_s);
  }
  c.ours_startup_ms = Median(ours);
  c.ffmpeg_startup_ms = Median(ff);
  const RunResult one = RunFfmpeg("ffmpeg", path, 1, 1, opt, tmp_dir);
  c.ffmpeg_frames_one_pass = one.frames;
  return c;
}

// libx265 copy of `src` (video only) into tmp_dir; returns its path, "" on failure (reported, not fatal).
std::string MakeHevc(const Options& opt, const std::string& src, const std::string& tmp_dir, double* seconds,
                     std::string* error) {
  const std::string dst = tmp_dir + "/" + "hevc.mp4";
  const std::vector<std::string> args = {opt.ffmpeg, "-hide_banner", "-nostdin", "-v",       "error", "-y",
                                         "-i",       src,            "-map",     "0:v:0",    "-an",   "-c:v",
                                         "libx265",  "-preset",      "veryfast", "-x265-params",     "log-level=error",
                                         "-pix_fmt", "yuv420p",      "-tag:v",   "hvc1",     dst};
  const std::string err_path = tmp_dir + "/x265.txt";
  const auto t0 = Clock::now();
  const pid_t pid = Spawn(args, err_path);
  int status = -1;
  if (pid > 0) ::waitpid(pid, &status, 0);
  *seconds = SecondsSince(t0);
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !FileExists(dst)) {
    *error = "libx265 transcode failed: " + Trim(ReadFile(err_path));
    return "";
  }
  ::unlink(err_path.c_str());
  return dst;
}

// ---- machine / report --------------------------------------------------------------------------------------------

std::string LoadAverage() {
  double l[3] = {0, 0, 0};
  if (::getloadavg(l, 3) != 3) return "null";
  return "[" + JsonNumber(l[0], 2) + "," + JsonNumber(l[1], 2) + "," + JsonNumber(l[2], 2) + "]";
}

std::string MachineJson(const Options& opt) {
  struct utsname u;
  ::uname(&u);
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::string cpu_model = "unknown";
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("model name", 0) == 0) {
        cpu_model = Trim(line.substr(line.find(':') + 2));
        break;
      }
  }
  long long mem = 0;
  {
    std::ifstream f("/proc/meminfo");
    std::string key;
    long long kb = 0;
    if (f >> key >> kb) mem = kb * 1024;
  }
  std::ostringstream o;
  o << "{\"hostname\":" << JsonString(host) << ",\"platform\":" << JsonString(u.sysname)
    << ",\"kernel\":" << JsonString(u.release) << ",\"cpus\":" << ::sysconf(_SC_NPROCESSORS_ONLN)
    << ",\"cpuModel\":" << JsonString(cpu_model) << ",\"totalMemoryBytes\":" << mem
    << ",\"libavcodec\":" << JsonString(std::string("FFmpeg ") + av_version_info() + ", libavcodec " +
                                        AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR) "." AV_STRINGIFY(
                                            LIBAVCODEC_VERSION_MINOR) "." AV_STRINGIFY(LIBAVCODEC_VERSION_MICRO))
    << ",\"ffmpegCli\":" << JsonString(CommandLine(ShellQuote(opt.ffmpeg) + " -version 2>/dev/null"))
    << ",\"loadAverage\":" << LoadAverage();
  return o.str();  // closed by the caller (loadAverageAfter)
}

std::string GitCommit() {
  const std::string head = CommandLine("git rev-parse HEAD 2>/dev/null");
  if (head.size() != 40) return "null";
  const std::string dirty = CommandOutput("git status --porcelain --untracked-files=no 2>/dev/null");
  return JsonString(dirty.empty() ? head : head + "-dirty");
}

std::string IsoNow() {
  const std::time_t t = std::time(nullptr);
  char b[32];
  std::strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return b;
}

std::string RunJson(const RunResult& r) {
  std::ostringstream o;
  double mn = 1e300, mx = 0;
  std::ostringstream per;
  per << "[";
  for (size_t i = 0; i < r.per_stream.size(); ++i) {
    const auto& s = r.per_stream[i];
    const double f = s.seconds > 0 ? double(s.frames) / s.seconds : 0;
    mn = std::min(mn, f);
    mx = std::max(mx, f);
    per << (i ? "," : "") << JsonNumber(f, 2);
  }
  per << "]";
  o << "{\"fps\":" << JsonNumber(r.fps(), 2) << ",\"steadyFps\":" << JsonNumber(r.steady_fps, 2)
    << ",\"steadyWindowMs\":" << JsonNumber(r.steady_window_s * 1000, 1) << ",\"frames\":" << r.frames << ",\"wallMs\":" << JsonNumber(r.wall_s * 1000, 1)
    << ",\"cpuPercent\":" << JsonNumber(r.cpu_percent(), 1)
    << ",\"fpsPerCore\":" << JsonNumber(r.cpu_s > 0 ? double(r.frames) / r.cpu_s : 0, 2)
    << ",\"perStreamFps\":" << per.str() << ",\"perStreamFpsMin\":" << JsonNumber(r.per_stream.empty() ? 0 : mn, 2)
    << ",\"perStreamFpsMax\":" << JsonNumber(mx, 2);
  if (r.nvdec.streams > 0) {
    const NvdecTotals& t = r.nvdec;
    o << ",\"nvdec\":{\"streams\":" << t.streams << ",\"packets\":" << t.packets << ",\"decoded\":" << t.decoded
      << ",\"displayed\":" << t.displayed << ",\"delivered\":" << t.delivered
      << ",\"droppedPoolFull\":" << t.dropped_pool_full << ",\"corrupt\":" << t.corrupt
      << ",\"sequenceChanges\":" << t.sequence_changes << ",\"sequenceFlushes\":" << t.sequence_flushes
      << ",\"poolSizeMax\":" << t.pool_size_max << ",\"poolInUseMax\":" << t.pool_in_use_max << "}";
  }
  if (!r.error.empty()) o << ",\"error\":" << JsonString(r.error);
  o << "}";
  return o.str();
}

struct Ratio {
  double of_medians = NAN, paired_median = NAN;
};

enum class Metric { kSteadyFps, kWallFps, kFpsPerCpu };

double MetricOf(const RunResult& r, Metric m) {
  switch (m) {
    case Metric::kSteadyFps: return r.steady_fps;
    case Metric::kWallFps: return r.fps();
    case Metric::kFpsPerCpu: return r.cpu_s > 0 ? double(r.frames) / r.cpu_s : NAN;
  }
  return NAN;
}

// Medians skip runs without a value (a steady window too short to measure).
std::vector<double> Values(const std::vector<RunResult>& rs, Metric m) {
  std::vector<double> v;
  for (const auto& r : rs)
    if (std::isfinite(MetricOf(r, m))) v.push_back(MetricOf(r, m));
  return v;
}

double MedianOrNan(const std::vector<double>& v) { return v.empty() ? NAN : Median(v); }

Ratio RatioOf(const std::vector<RunResult>& a, const std::vector<RunResult>& b, Metric m) {
  const std::vector<double> ma = Values(a, m), mb = Values(b, m);
  std::vector<double> paired;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const double x = MetricOf(a[i], m), y = MetricOf(b[i], m);
    if (std::isfinite(x) && std::isfinite(y) && y > 0) paired.push_back(x / y);
  }
  Ratio r;
  if (!mb.empty() && Median(mb) > 0) r.of_medians = Median(ma) / Median(mb);
  if (!paired.empty()) r.paired_median = Median(paired);
  return r;
}

std::string RatioJson(const Ratio& r) {
  return "{\"ofMedians\":" + JsonNumber(r.of_medians, 4) + ",\"pairedMedian\":" + JsonNumber(r.paired_median, 4) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = ParseArgs(argc, argv);
  const bool gpu = opt.decoder == DecoderKind::kGpu;
  if (gpu) {
    // The pipeline's own check: NvdecDecoder::Probe (driver libraries, device, H.264 caps), or "built without
    // CUDA". Before anything is measured, so a machine without NVDEC costs nothing but this line.
    const camtrack::cuda::FeatureStatus st = camtrack::decode::GpuDecodeStatus(opt.device);
    if (!st.available) {
      std::fprintf(stderr, "SKIP: NVDEC not available: %s\n", st.reason.c_str());
      return kExitNoNvdec;
    }
  }
  av_log_set_level(AV_LOG_ERROR);
  const auto started = Clock::now();
  const std::string started_at = IsoNow();
  std::string machine = MachineJson(opt);
  const std::string commit = GitCommit();

  char tmpl[] = "/tmp/camtrack-decode-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::fprintf(stderr, "decode_bench: cannot create a temp directory\n");
    return 1;
  }
  const std::string tmp_dir = tmpl;
  auto log = [&](const std::string& s) {
    if (!opt.quiet) std::fprintf(stderr, "%s\n", s.c_str());
  };

  // Clips: the given ones, then the HEVC copy of the first.
  std::vector<ClipInfo> clips;
  std::string hevc_note = "null";
  std::string hevc_path;
  int exit_code = 0;
  try {
    for (const auto& path : opt.clips) clips.push_back(ProbeClip(path, opt, tmp_dir));
    bool have_hevc = false;
    for (const auto& c : clips) have_hevc = have_hevc || c.codec == "hevc";
    if (opt.hevc && !have_hevc) {
      log("making the HEVC copy of " + clips[0].path + " with libx265 …");
      double secs = 0;
      std::string err;
      hevc_path = MakeHevc(opt, clips[0].path, tmp_dir, &secs, &err);
      if (hevc_path.empty()) {
        log("decode_bench: " + err + " (HEVC skipped)");
        hevc_note = "{\"error\":" + JsonString(err) + "}";
        exit_code = 1;
      } else {
        clips.push_back(ProbeClip(hevc_path, opt, tmp_dir));
        hevc_note = "{\"from\":" + JsonString(clips[0].path) + ",\"path\":" + JsonString(hevc_path) +
                    ",\"command\":\"ffmpeg -i <clip> -map 0:v:0 -an -c:v libx265 -preset veryfast -pix_fmt yuv420p "
                    "-tag:v hvc1 hevc.mp4\",\"encodeSeconds\":" +
                    JsonNumber(secs, 1) + (opt.keep_tmp ? "" : ",\"deleted\":true") + "}";
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decode_bench: %s\n", e.what());
    return 1;
  }
  std::map<std::string, int> seen;
  for (auto& c : clips) {
    const int k = seen[c.codec]++;
    c.name = k ? c.codec + "-" + std::to_string(k + 1) : c.codec;
    log("clip " + c.name + ": " + c.path + " (" + std::to_string(c.width) + "x" + std::to_string(c.height) + ", " +
        std::to_string(c.frames) + " frames; ffmpeg counts " + std::to_string(c.ffmpeg_frames_one_pass) +
        (gpu ? ", our NVDEC path " + std::to_string(c.nvdec_frames_one_pass) : std::string()) +
        "; startup ours " + JsonNumber(c.ours_startup_ms, 1) + " ms, ffmpeg " + JsonNumber(c.ffmpeg_startup_ms, 1) +
        " ms)");
  }

  // Measurements: per clip, per stream count, `repeat` rounds of the trials in order.
  std::ostringstream results;
  results << "[";
  double min_ratio = INFINITY;
  bool all_ok = true;
  bool first_result = true;
  for (const auto& c : clips) {
    for (const int n : opt.streams) {
      const int passes =
          opt.passes > 0 ? opt.passes
                         : std::max<int>({1, int((opt.min_total_frames + int64_t(n) * c.frames - 1) / (int64_t(n) * c.frames)),
                                          int((opt.min_stream_frames + c.frames - 1) / c.frames)});
      const int64_t frames_per_stream = int64_t(passes) * c.frames;
      std::map<std::string, std::vector<RunResult>> runs;
      for (int round = 0; round < opt.repeat; ++round) {
        for (const auto& t : opt.trials) {
          RunResult r = (t == "ours" || t == "lavc-raw") ? RunInProcess(t, c.path, n, frames_per_stream, opt)
                                                         : RunFfmpeg(t, c.path, n, passes, opt, tmp_dir, 0, c.codec);
          char line[320];
          std::snprintf(line, sizeof(line),
                        "[%s N=%d round %d/%d] %-11s steady %7.1f fps  wall %7.1f fps  %5.1f s  cpu %5.1f %%%s%s",
                        c.name.c_str(), n, round + 1, opt.repeat, t.c_str(), r.steady_fps, r.fps(), r.wall_s,
                        r.cpu_percent(),
                        r.error.empty() ? "" : "  ERROR: ", r.error.substr(0, 120).c_str());
          log(line);
          if (!r.error.empty()) all_ok = false;
          runs[t].push_back(std::move(r));
        }
      }
      results << (first_result ? "" : ",") << "\n    {\"clip\":" << JsonString(c.name) << ",\"streams\":" << n
              << ",\"passesPerStream\":" << passes << ",\"framesPerStream\":" << frames_per_stream
              << ",\"trials\":{";
      first_result = false;
      bool first_trial = true;
      for (const auto& t : opt.trials) {
        const auto& rs = runs[t];
        std::vector<double> cpu;
        for (const auto& r : rs) cpu.push_back(r.cpu_percent());
        const double steady = MedianOrNan(Values(rs, Metric::kSteadyFps));
        results << (first_trial ? "" : ",") << "\n      " << JsonString(t) << ":{\"median\":{\"steadyFps\":"
                << JsonNumber(steady, 2) << ",\"steadyPerStreamFps\":" << JsonNumber(steady / n, 2)
                << ",\"fps\":" << JsonNumber(MedianOrNan(Values(rs, Metric::kWallFps)), 2)
                << ",\"cpuPercent\":" << JsonNumber(Median(cpu), 1) << ",\"fpsPerCore\":"
                << JsonNumber(MedianOrNan(Values(rs, Metric::kFpsPerCpu)), 2) << "},\"runs\":[";
        for (size_t i = 0; i < rs.size(); ++i) results << (i ? "," : "") << "\n        " << RunJson(rs[i]);
        results << "]}";
        first_trial = false;
      }
      results << "},\n      \"ratios\":{";
      bool first_ratio = true;
      auto add_ratio = [&](const char* name, const char* a, const char* b, Metric m) {
        if (!runs.count(a) || !runs.count(b)) return Ratio{};
        const Ratio r = RatioOf(runs[a], runs[b], m);
        results << (first_ratio ? "" : ",") << JsonString(name) << ":" << RatioJson(r);
        first_ratio = false;
        return r;
      };
      const Ratio main = add_ratio("oursVsFfmpeg", "ours", "ffmpeg", Metric::kSteadyFps);
      const Ratio wall = add_ratio("oursVsFfmpegWall", "ours", "ffmpeg", Metric::kWallFps);
      add_ratio("oursVsFfmpegPerCpu", "ours", "ffmpeg", Metric::kFpsPerCpu);
      add_ratio("oursVsFfmpegAuto", "ours", "ffmpeg-auto", Metric::kSteadyFps);
      add_ratio("oursVsLavcRaw", "ours", "lavc-raw", Metric::kSteadyFps);
      add_ratio("lavcRawVsFfmpeg", "lavc-raw", "ffmpeg", Metric::kSteadyFps);
      results << "}}";
      if (std::isfinite(main.of_medians)) {
        min_ratio = std::min(min_ratio, main.of_medians);
        log("  => " + c.name + " N=" + std::to_string(n) + ": ours/ffmpeg steady = " + JsonNumber(main.of_medians, 3) +
            " (paired " + JsonNumber(main.paired_median, 3) + "), wall = " + JsonNumber(wall.of_medians, 3));
      }
    }
  }
  results << "\n  ]";

  std::ostringstream clips_json;
  clips_json << "[";
  for (size_t i = 0; i < clips.size(); ++i) {
    const auto& c = clips[i];
    clips_json << (i ? "," : "") << "\n    {\"name\":" << JsonString(c.name) << ",\"path\":" << JsonString(c.path)
               << ",\"codec\":" << JsonString(c.codec) << ",\"width\":" << c.width << ",\"height\":" << c.height
               << ",\"fps\":" << JsonNumber(c.fps, 2) << ",\"framesPerPass\":" << c.frames
               << ",\"ffmpegFramesPerPass\":" << c.ffmpeg_frames_one_pass
               << ",\"nvdecFramesPerPass\":" << (gpu ? std::to_string(c.nvdec_frames_one_pass) : "null")
               << ",\"startupMs\":{\"ours\":" << JsonNumber(c.ours_startup_ms, 1)
               << ",\"ffmpeg\":" << JsonNumber(c.ffmpeg_startup_ms, 1) << "}}";
  }
  clips_json << "\n  ]";

  std::ostringstream trials_json;
  for (size_t i = 0; i < opt.trials.size(); ++i) trials_json << (i ? "," : "") << JsonString(opt.trials[i]);
  std::ostringstream streams_json;
  for (size_t i = 0; i < opt.streams.size(); ++i) streams_json << (i ? "," : "") << opt.streams[i];

  machine += ",\"loadAverageAfter\":" + LoadAverage() + "}";
  const bool has_ratio = std::isfinite(min_ratio);
  // Issue 3 sets 0.95 for the CPU path only; for NVDEC the ratio is reported without a target.
  std::string acceptance_target = "\"target\":0.95";
  std::string pass = has_ratio ? (min_ratio >= 0.95 ? "true" : "false") : "null";
  if (gpu) {
    acceptance_target = "\"target\":null,\"note\":\"no target set by issue 3 for NVDEC; ratio reported\"";
    pass = "null";
  }
  const std::string device = gpu && !clips.empty() ? JsonString(clips[0].gpu_device) : "null";
  std::ostringstream report;
  report << "{\n  \"tool\":\"camtrack_bench_decode_bench\",\"startedAt\":" << JsonString(started_at)
         << ",\"durationS\":" << JsonNumber(SecondsSince(started), 1) << ",\n  \"machine\":" << machine
         << ",\n  \"commit\":" << commit << ",\"decoder\":" << (gpu ? "\"gpu\"" : "\"cpu\"")
         << ",\"device\":" << device << ",\n  \"options\":{\"streams\":[" << streams_json.str()
         << "],\"trials\":[" << trials_json.str() << "],\"repeat\":" << opt.repeat
         << ",\"minTotalFrames\":" << opt.min_total_frames << ",\"passes\":" << (opt.passes > 0 ? std::to_string(opt.passes) : "null")
         << ",\"decoderThreads\":" << opt.decoder_threads << ",\"cudaDevice\":" << opt.device << ",\"ffmpeg\":" << JsonString(opt.ffmpeg)
         << ",\"ffmpegCommand\":" << JsonString(BaselineCommandTemplate(opt))
         << "},\n  \"hevc\":" << hevc_note << ",\n  \"clips\":" << clips_json.str() << ",\n  \"results\":" << results.str()
         << ",\n  \"acceptance\":{\"check\":\"ours steadyFps / ffmpeg steadyFps (ratio of medians) for every clip and stream count\","
         << acceptance_target << ",\"minRatio\":" << (has_ratio ? JsonNumber(min_ratio, 4) : "null")
         << ",\"pass\":" << pass << "}\n}\n";

  const std::string text = report.str();
  std::fputs(text.c_str(), stdout);
  std::string out = opt.out;
  if (out.empty()) {
    struct stat st;
    if (::stat("bench", &st) == 0 && S_ISDIR(st.st_mode)) {
      ::mkdir("bench/results", 0755);
      const std::time_t t = std::time(nullptr);
      char b[64];
      std::strftime(b, sizeof(b), "bench/results/decode-%Y%m%d-%H%M%S.json", std::localtime(&t));
      out = b;
    }
  }
  if (!out.empty()) {
    std::ofstream f(out);
    f << text;
    if (!f) {
      std::fprintf(stderr, "decode_bench: cannot write %s\n", out.c_str());
      exit_code = 1;
    } else {
      log("report: " + out);
    }
  }
  if (!opt.keep_tmp) {
    if (!hevc_path.empty()) ::unlink(hevc_path.c_str());
    for (const auto& [key, path] : LoopedCopies()) ::unlink(path.c_str());
    ::rmdir(tmp_dir.c_str());
  }
  if (!all_ok) exit_code = 1;
  return exit_code;
}
