// camtrack_bench_decode_bench: ONE decode-only measurement of camtrack::decode::VideoSource (or of bare libavcodec,
// or of the pipeline's NVDEC source), printed as one JSON object on stdout (issue 3's bench; issue 15: native benches
// only measure). The driver, `node bench/decode.mjs` (bench/README.md "Decode only"), runs this executable once per
// run, runs the ffmpeg baseline itself, alternates the trials, repeats them, and computes the medians, ratios and
// the steady-state window from the samples printed here; it stamps the report (src/bench/report.ts).
//
//   camtrack_bench_decode_bench --clip f.mp4 [--trial ours] [--streams 1] [--frames-per-stream 2700]
//                               [--decoder cpu] [--decoder-threads 1] [--device 0]        one run
//   camtrack_bench_decode_bench --probe --clip f.mp4 [--decoder cpu] [--decoder-threads 1] [--device 0]
//   camtrack_bench_decode_bench --check [--decoder gpu] [--device 0]
//
// Run (one measurement configuration): N streams decoding the same clip at once, each `--frames-per-stream` frames.
//   ours        N std::threads, each with its own camtrack::decode::VideoSource (loop = true, file semantics,
//               decoder_threads = --decoder-threads), calling NextFrame() until it has the stream's frames. Nothing
//               but the decode (no letterbox, no copy): what the pipeline's source thread pays per frame.
//               --decoder gpu: each thread runs the pipeline's NVDEC path instead, decode::GpuFrameSource
//               (VideoSource in packet mode → decode::NvdecDecoder, PoolFullPolicy::kBlock as for files, loop),
//               without its letterbox: every frame is waited for (its ready event) and stays in device memory.
//   lavc-raw    the same loop written directly on libavformat/libavcodec in this file (read, send, receive, seek
//               at EOF): the ceiling of what VideoSource's own bookkeeping can cost. Diagnostic; CPU only.
// Printed: wall time (first thread start → last end), CPU seconds of this process over it (getrusage: all threads),
// each stream's frames and seconds (its own start → end), NVDEC counters (gpu), and every stream's frame count
// sampled every 50 ms by the main thread (`samples`: [t, allRunning 0|1, count per stream…]), from which the
// driver takes the steady-state window (report.ts steadyWindow, the same code as for the ffmpeg processes).
//
// Probe: what the driver needs to know about a clip: codec, size, fps, frames of one pass (decoded with
// VideoSource, which also warms the page cache), our start-up (Open + first frame; gpu: + NVDEC decoder, median of
// 3), our NVDEC path's frames of one pass and the GPU's name (gpu), and the libavcodec version.
//
// Check: prints {"decoder", "libavcodec"} when the decoder can run. --decoder gpu where NVDEC cannot run (no
// driver, no GPU, a build without CUDA): "SKIP: NVDEC not available: <reason>" on stderr and exit 77, whatever the
// mode, before anything is measured.
//
// Exit 0 when the measurement ran (a stream's error is in the JSON, `error`), 1 when the clip cannot be opened,
// 2 on bad options, 77 as above.
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "bench_json.h"
#include "core/common/error.h"
#include "core/decode/gpu_frame_source.h"
#include "core/decode/nvdec_decoder.h"
#include "core/decode/video_source.h"

namespace {

using Clock = std::chrono::steady_clock;
using camtrack::bench::Json;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr int kExitNoNvdec = 77;  // like camtrack_gpu_tests: test/gpu and bench/decode.mjs turn it into a skip
constexpr int kSamplePeriodMs = 50;

const char* kHelp =
    "camtrack_bench_decode_bench: ONE decode-only measurement, printed as JSON on stdout.\n"
    "Run it through `node bench/decode.mjs` (trials, rounds, the ffmpeg baseline, ratios, report).\n"
    "  --clip FILE              clip to decode (required)\n"
    "  --trial ours             ours (camtrack VideoSource / NVDEC source) or lavc-raw (bare libavcodec, CPU only)\n"
    "  --streams 1              concurrent streams\n"
    "  --frames-per-stream 2700 frames each stream decodes (the clip is looped)\n"
    "  --decoder cpu            cpu (libavcodec) or gpu (NVDEC on --device; exit 77 without NVDEC)\n"
    "  --decoder-threads 1      libavcodec threads per stream (cpu)\n"
    "  --device 0               CUDA device of --decoder gpu\n"
    "  --probe                  instead of a run: describe --clip (codec, size, frames per pass, start-up)\n"
    "  --check                  instead of a run: exit 0 when --decoder can run (77 for gpu without NVDEC)\n";

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

constexpr int64_t kAllFrames = std::numeric_limits<int64_t>::max();  // GpuDecode's max_frames: the whole input

// Every VideoSource of the bench reads a file with file semantics (live = kFile: blocking, no frame dropped).
camtrack::decode::SourceOptions FileSource(const std::string& path, bool loop, int decoder_threads) {
  camtrack::decode::SourceOptions so;  // every field set: SourceOptions has no defaults
  so.url = path;
  so.rtsp_transport = "tcp";
  so.open_timeout_ms = 10000;
  so.read_timeout_ms = 10000;
  so.loop = loop;
  so.decoder_threads = decoder_threads;
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
  camtrack::decode::SourceOptions so = FileSource(path, loop, 1);
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
      camtrack::decode::VideoSource src(FileSource(clip, /*loop=*/true, decoder_threads));
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

double CpuSeconds(const struct rusage& r) {
  return double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + 1e-6 * double(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

std::string LibavcodecVersion() {
  return std::string("FFmpeg ") + av_version_info() + ", libavcodec " +
         AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR) "." AV_STRINGIFY(LIBAVCODEC_VERSION_MINOR) "." AV_STRINGIFY(
             LIBAVCODEC_VERSION_MICRO);
}

// One run: `streams` threads of `trial`, sampled every kSamplePeriodMs; prints its JSON.
void Run(const std::string& trial, const std::string& clip, int streams, int64_t frames_per_stream,
         int decoder_threads, int gpu_device) {
  std::vector<StreamResult> per_stream(static_cast<size_t>(streams));
  struct rusage ru0, ru1;
  ::getrusage(RUSAGE_SELF, &ru0);
  const auto t0 = Clock::now();
  std::unique_ptr<Progress[]> progress(new Progress[size_t(streams)]);
  std::vector<std::thread> threads;
  threads.reserve(size_t(streams));
  for (int i = 0; i < streams; ++i) {
    StreamResult* out = &per_stream[size_t(i)];
    if (trial == "ours")
      threads.emplace_back(OursStream, clip, frames_per_stream, decoder_threads, gpu_device, out, &progress[size_t(i)]);
    else
      threads.emplace_back(LavcRawStream, clip, frames_per_stream, decoder_threads, out, &progress[size_t(i)]);
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
  const double wall_s = SecondsSince(t0);
  ::getrusage(RUSAGE_SELF, &ru1);

  NvdecTotals nvdec;
  std::string error;
  int64_t frames = 0;
  for (const auto& s : per_stream) {
    frames += s.frames;
    if (error.empty() && !s.error.empty()) error = s.error;
    if (s.has_nvdec) nvdec.Add(s.nvdec);
  }
  Json j;
  j.Begin().Key("trial").Str(trial).Key("streams").Int(streams).Key("framesPerStream").Int(frames_per_stream);
  j.Key("frames").Int(frames).Key("wallS").Num(wall_s, 4).Key("cpuS").Num(CpuSeconds(ru1) - CpuSeconds(ru0), 4);
  j.Key("perStream").BeginArray();
  for (const auto& s : per_stream) {
    j.Begin().Key("frames").Int(s.frames).Key("seconds").Num(s.seconds, 4);
    if (!s.error.empty()) j.Key("error").Str(s.error);
    j.End();
  }
  j.End();
  j.Key("samplePeriodMs").Int(kSamplePeriodMs).Key("samples").BeginArray();
  for (const auto& s : samples) {
    j.BeginArray().Num(s.t, 4).Int(s.all_running ? 1 : 0);
    for (const int64_t c : s.counts) j.Int(c);
    j.End();
  }
  j.End();
  if (nvdec.streams > 0) {
    j.Key("nvdec").Begin().Key("streams").Int(nvdec.streams).Key("packets").Int(int64_t(nvdec.packets));
    j.Key("decoded").Int(int64_t(nvdec.decoded)).Key("displayed").Int(int64_t(nvdec.displayed));
    j.Key("delivered").Int(int64_t(nvdec.delivered)).Key("droppedPoolFull").Int(int64_t(nvdec.dropped_pool_full));
    j.Key("corrupt").Int(int64_t(nvdec.corrupt)).Key("sequenceChanges").Int(int64_t(nvdec.sequence_changes));
    j.Key("sequenceFlushes").Int(int64_t(nvdec.sequence_flushes)).Key("poolSizeMax").Int(nvdec.pool_size_max);
    j.Key("poolInUseMax").Int(nvdec.pool_in_use_max).End();
  }
  if (!error.empty()) j.Key("error").Str(error);
  j.End();
  std::puts(j.str().c_str());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Describes a clip (see the header); throws when it cannot be opened or decoded.
void Probe(const std::string& path, int decoder_threads, int gpu_device) {
  const camtrack::decode::SourceOptions so = FileSource(path, /*loop=*/false, decoder_threads);
  camtrack::decode::VideoSource src(so);
  src.Open();
  int64_t frames = 0;
  AVFrame* frame = nullptr;
  while (src.NextFrame(&frame)) ++frames;  // also warms the page cache
  if (frames == 0) throw std::runtime_error("no frame decoded from " + path);
  const bool gpu = gpu_device >= 0;
  std::string device_name;
  int64_t nvdec_frames = -1;
  // --decoder gpu: our NVDEC path's count for one pass (no loop, every frame), then its start-up time below.
  if (gpu) nvdec_frames = GpuDecode(path, /*loop=*/false, gpu_device, kAllFrames, nullptr, nullptr, &device_name);
  std::vector<double> startup;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    if (gpu) {
      GpuDecode(path, /*loop=*/false, gpu_device, 1, nullptr, nullptr, &device_name);  // open + NVDEC + 1st frame
    } else {
      camtrack::decode::VideoSource s(so);
      s.Open();
      s.NextFrame(&frame);
    }
    startup.push_back(1000 * SecondsSince(t0));
  }
  Json j;
  j.Begin().Key("path").Str(path).Key("codec").Str(src.codec_name()).Key("width").Int(src.width());
  j.Key("height").Int(src.height()).Key("fps").Num(src.fps(), 3).Key("framesPerPass").Int(frames);
  j.Key("startupMs").Num(Median(startup), 2);
  if (gpu) j.Key("nvdecFramesPerPass").Int(nvdec_frames).Key("device").Str(device_name);
  j.Key("libavcodec").Str(LibavcodecVersion()).End();
  std::puts(j.str().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  camtrack::bench::Args args(argc, argv, "camtrack_bench_decode_bench", kHelp);
  const bool probe = args.Flag("probe");
  const bool check = args.Flag("check");
  const std::string decoder = args.Choice("decoder", "cpu", {"cpu", "gpu"});
  const int device = int(args.Int("device", 0, 0, 255));
  const int decoder_threads = int(args.Int("decoder-threads", 1, 1, 256));
  const std::string trial = args.Choice("trial", "ours", {"ours", "lavc-raw"});
  const int streams = int(args.Int("streams", 1, 1, 4096));
  const int64_t frames_per_stream = args.Int("frames-per-stream", 2700, 1, int64_t(1) << 40);
  const std::string clip = args.Str("clip", "");
  args.Done();
  const bool gpu = decoder == "gpu";
  if (gpu && trial == "lavc-raw") args.Fail("trial lavc-raw is the libavcodec (CPU) loop and does not apply to --decoder gpu");
  if (!check && clip.empty()) args.Fail("--clip is required");
  if (gpu) {
    // The pipeline's own check: NvdecDecoder::Probe (driver libraries, device, H.264 caps), or "built without
    // CUDA". Before anything is measured, so a machine without NVDEC costs nothing but this line.
    const camtrack::cuda::FeatureStatus st = camtrack::decode::GpuDecodeStatus(device);
    if (!st.available) {
      std::fprintf(stderr, "SKIP: NVDEC not available: %s\n", st.reason.c_str());
      return kExitNoNvdec;
    }
  }
  av_log_set_level(AV_LOG_ERROR);
  try {
    if (check) {
      Json j;
      j.Begin().Key("decoder").Str(decoder).Key("libavcodec").Str(LibavcodecVersion()).End();
      std::puts(j.str().c_str());
    } else if (probe) {
      Probe(clip, decoder_threads, gpu ? device : -1);
    } else {
      Run(trial, clip, streams, frames_per_stream, decoder_threads, gpu ? device : -1);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "camtrack_bench_decode_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
