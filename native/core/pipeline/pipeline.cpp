#include "core/pipeline/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "core/common/clock.h"
#include "core/common/redact.h"
#include "core/decode/nvdec_decoder.h"  // NvdecStats (GpuFrameSource::decoder_stats)

extern "C" {
#include <libavutil/frame.h>
}

namespace camtrack::pipeline {
namespace {

// Latency histogram: log-spaced buckets, 5 % wide, from 10 µs. Bucket k covers [0.01·1.05^k, 0.01·1.05^(k+1)) ms.
constexpr int kLatencyBuckets = 400;
constexpr double kLatencyBase = 0.01, kLatencyStep = 1.05;
int LatencyBucket(double ms) {
  if (ms <= kLatencyBase) return 0;
  const int b = int(std::log(ms / kLatencyBase) / std::log(kLatencyStep));
  return std::min(b, kLatencyBuckets - 1);
}
double BucketUpperMs(int b) { return kLatencyBase * std::pow(kLatencyStep, b + 1); }

}  // namespace

// Per-stream state. Fields are grouped by the thread that owns them; shared counters are atomics.
struct Pipeline::StreamState {
  int32_t handle = -1;
  StreamConfig config;
  bool live = false;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> removed{false};
  std::atomic<bool> paused{false};  // delivery credit: set from JS (SetStreamPaused), honoured by file streams only

  // Source thread only.
  preprocess::CpuLetterboxer letterboxer;
  int64_t frame_index = -1;       // continues across reconnects
  int64_t last_pts_ms = -1;       // of the newest decoded frame; a reconnect continues the time line from here
  bool got_frame = false;         // a frame was decoded on the current connection
  bool gpu_off = false;           // decode 'auto' fell back to the CPU once: NVDEC is not tried again
  // Damage bursts (TrackCorrupt): the connection's corrupt counter already seen, the burst being collected
  // (count 0: none) and its first / newest damaged frame time.
  uint64_t corrupt_seen = 0, burst_corrupt = 0;
  int64_t burst_first_pts = 0, burst_last_pts = 0;

  // [live config] fps gate (source thread), detection filter and tracker (postprocess thread); set by AddStream and
  // ConfigureStream (live_config.h).
  LiveConfigState live_state;

  // Postprocess thread only.
  uint64_t failed_batch = UINT64_MAX;  // seq of the last failed batch counted for this stream
  // Inference outage (see InferenceFailed): failed batches and frames since it started, and when.
  uint64_t outage_batches = 0, outage_frames = 0;
  int64_t outage_start_ns = 0;

  // Counters (written by one thread each, read by Stats()).
  std::atomic<uint64_t> submitted{0}, delivered{0}, dropped_busy{0}, dropped_fps{0}, dropped_inference{0};
  std::atomic<uint64_t> dropped_decoder_pool{0};  // live NVDEC: decoded, dropped because the surface pool was full
  std::atomic<uint64_t> reconnect_attempts{0}, reconnects{0};
  std::atomic<int64_t> last_age_ms{-1};
  std::atomic<int64_t> last_frame_ns{0};  // steady clock of the newest decoded frame
  RateMeter input_rate;      // decoded frames (source thread ticks)
  RateMeter delivered_rate;  // delivered frames (postprocess thread ticks)
  LatencyHistogram latency;  // of delivered frames; guarded by the pipeline's stats_mu_
  // Inference health (postprocess thread writes; Stats() reads): failing from a failed batch of this stream until
  // one of its frames is delivered again.
  std::atomic<bool> inference_failing{false};
  std::atomic<uint64_t> inference_failed_batches{0}, inference_consecutive{0};

  // Guarded by mu.
  mutable std::mutex mu;
  std::condition_variable wake_cv;  // backoff/pacer sleeps; notified on stop
  std::unique_ptr<decode::VideoSource> source;
  std::string state = "connecting", last_error, last_error_reason, codec;
  std::string inference_error;  // the error that started the current (or last) inference outage
  const char* decoder = "cpu";  // "cpu" | "nvdec" (of the current / last connection)
  ErrorCode last_error_code = ErrorCode::kInternal;
  int width = 0, height = 0;
  double nominal_fps = 0;
  bool eof = false, end_emitted = false;
  uint64_t base_packets = 0, base_decoded = 0, base_corrupt = 0;  // counters of connections already closed

  // Guarded by the pipeline's mu_ (batcher fairness, see Acquire).
  int64_t last_grant_ns = 0;  // when this stream last got a batch position
  int64_t want_ns = 0;        // last time it wanted one and did not get it (0: not contending)

  // Closes the current source, if any (the source thread owns it), keeping its counters in the totals. Caller
  // holds mu.
  void ReleaseSourceLocked() {
    if (!source) return;
    base_packets += source->counters().packets.load();
    base_decoded += source->counters().decoded.load();
    base_corrupt += source->counters().corrupt.load();
    source.reset();
  }
  // Source thread: replaces the current source (if any, see ReleaseSourceLocked) by a new, unopened one. Checked
  // under mu: once RemoveStream/Stop has set `stop` and interrupted the source it found, no new one may appear.
  decode::VideoSource* ReplaceSource(const decode::SourceOptions& so) {
    std::lock_guard<std::mutex> lock(mu);
    if (stop.load()) throw Error(ErrorCode::kSourceRead, "source", "interrupted");
    ReleaseSourceLocked();
    source = std::make_unique<decode::VideoSource>(so);
    return source.get();
  }
};

Pipeline::Pipeline(ModelConfig model, BatchingConfig batching, EventSink* sink, IngestConfig ingest)
    : model_(std::move(model)),
      batching_(batching),
      ingest_(ingest),
      sink_(sink),
      input_elems_per_image_(size_t(3) * model_.input.width * model_.input.height) {
  CAMTRACK_CHECK(model_.batch_size >= 1, ErrorCode::kInvalidArgument, "pipeline", "batch size must be >= 1");
  CAMTRACK_CHECK(model_.output_elems_per_image > 0, ErrorCode::kInvalidArgument, "pipeline",
                 "model output size unknown");
  const int cap = std::max(8, batching_.result_capacity);
  result_pool_.reserve(cap);
  result_free_.reserve(cap);
  result_ready_.reserve(cap);
  for (int i = 0; i < cap; ++i) {
    auto r = std::make_unique<FrameResult>();
    r->detections.reserve(model_.parser.max_detections);
    r->tracks.reserve(model_.parser.max_detections);
    r->track_events.reserve(64);
    result_free_.push_back(r.get());
    result_pool_.push_back(std::move(r));
  }
  latency_hist_.assign(kLatencyBuckets, 0);
  pacer_tokens_ = std::max(1.0, ingest_.reconnect_burst);
  pacer_refill_ns_ = SteadyNowNs();
  scratch_dets_.reserve(model_.parser.max_detections);
  end_check_.reserve(model_.batch_size);
  parser_ = std::make_unique<postprocess::OutputParser>(model_.parser);
  dispatcher_ = std::thread([this] { DispatcherLoop(); });
  postprocess_ = std::thread([this] { PostprocessLoop(); });
}

Pipeline::~Pipeline() { Stop(); }

int Pipeline::AddWorker(std::shared_ptr<infer::InferenceWorker> worker) {
  std::lock_guard<std::mutex> lock(mu_);
  CAMTRACK_CHECK(!stopping_, ErrorCode::kInvalidState, "pipeline", "pipeline is stopped");
  const int w = int(workers_.size());
  const auto& bufs = worker->slots();
  CAMTRACK_CHECK(!bufs.empty(), ErrorCode::kInvalidArgument, "pipeline", "worker has no batch slots");
  for (const auto& b : bufs) {  // all checked before anything is added: a refused worker leaves no trace
    CAMTRACK_CHECK(b.input && b.input_elems >= input_elems_per_image_ * model_.batch_size,
                   ErrorCode::kInvalidArgument, "pipeline", "worker input buffer too small for the model batch");
    CAMTRACK_CHECK(b.output && b.output_elems >= model_.output_elems_per_image * model_.batch_size,
                   ErrorCode::kInvalidArgument, "pipeline", "worker output buffer too small for the model batch");
  }
  const std::atomic<bool>* gone = &worker_gone_.emplace_back(false);
  for (size_t i = 0; i < bufs.size(); ++i) {
    Slot s;
    s.worker = w;
    s.gone = gone;
    s.local = int(i);
    s.buffers = bufs[i];
    s.images.resize(model_.batch_size);
    slots_.push_back(std::move(s));
  }
  worker_first_slot_.push_back(int(slots_.size() - bufs.size()));
  workers_.push_back(std::move(worker));
  slot_free_cv_.notify_all();
  return w;
}

int32_t Pipeline::AddStream(StreamConfig config) {
  auto s = std::make_shared<StreamState>();
  s->config = std::move(config);
  s->live_state.Set(s->config.live_config);  // [live config] validates: throws before the stream exists
  const decode::LiveMode live = s->config.source.live;
  s->live = live == decode::LiveMode::kAuto ? decode::IsLiveUrl(s->config.source.url) : live == decode::LiveMode::kLive;
  s->config.source.live = s->live ? decode::LiveMode::kLive : decode::LiveMode::kFile;  // the demuxer/decoder agree
  {
    std::lock_guard<std::mutex> lock(mu_);
    CAMTRACK_CHECK(!stopping_, ErrorCode::kInvalidState, "pipeline", "pipeline is stopped");
    s->handle = next_handle_++;
    streams_[s->handle] = s;
  }
  s->thread = std::thread([this, s] { SourceLoop(s); });
  return s->handle;
}

// [live config]
void Pipeline::ConfigureStream(int32_t handle, const LiveConfig& config) {
  std::shared_ptr<StreamState> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end())
      throw Error(ErrorCode::kInvalidState, "pipeline", "stream " + std::to_string(handle) + " is not running");
    s = it->second;
  }
  s->live_state.Set(config);
}

void Pipeline::RemoveStream(int32_t handle) {
  std::shared_ptr<StreamState> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end()) return;
    s = it->second;
    streams_.erase(it);
    // Under mu_: Acquire checks `stop` under mu_ and then waits on slot_free_cv_, so a store made without it could
    // fall between that check and the wait, and the notify below would be lost (the join would then wait for some
    // other batch to free a slot, or forever).
    s->removed.store(true);
    s->stop.store(true);
  }
  {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->source) s->source->Interrupt();
    s->wake_cv.notify_all();
  }
  slot_free_cv_.notify_all();
  if (s->thread.joinable()) s->thread.join();
}

void Pipeline::SetStreamPaused(int32_t handle, bool paused) {
  std::shared_ptr<StreamState> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end()) return;
    s = it->second;
  }
  std::lock_guard<std::mutex> lock(s->mu);
  s->paused.store(paused);
  if (!paused) s->wake_cv.notify_all();
}

// Source thread: waits while JS holds a lossless stream's delivery (SetStreamPaused); false once the stream stops.
bool Pipeline::WaitForCredit(StreamState& s) {
  if (s.live || !s.paused.load(std::memory_order_acquire)) return true;
  std::unique_lock<std::mutex> lock(s.mu);
  s.wake_cv.wait(lock, [&] { return !s.paused.load() || s.stop.load(); });
  return !s.stop.load();
}

void Pipeline::Stop() {
  std::vector<std::shared_ptr<StreamState>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [h, s] : streams_) streams.push_back(s);
  }
  // 1. Stop sources: no new frames enter. (`stop` under mu_: see RemoveStream.)
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : streams) s->stop.store(true);
  }
  for (auto& s : streams) {
    std::lock_guard<std::mutex> lock(s->mu);
    if (s->source) s->source->Interrupt();
    s->wake_cv.notify_all();
  }
  slot_free_cv_.notify_all();
  for (auto& s : streams)
    if (s->thread.joinable()) s->thread.join();
  // 2. Close the batcher; let in-flight batches finish (bounded: a worker that never answers is abandoned).
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (filling_ >= 0) {
      slots_[filling_].closed = true;
      MaybeDispatchLocked(filling_, lock);
      filling_ = -1;
    }
    stopping_ = true;
    dispatch_cv_.notify_all();
    done_cv_.notify_all();
  }
  {
    // Under ev_mu_, which AcquireResult holds from its check to its wait: a store outside it could be missed and
    // the postprocess thread (joined below, from the JS thread that alone could free a result) would sleep forever.
    std::lock_guard<std::mutex> lock(ev_mu_);
    stopping_flag_.store(true);
  }
  result_free_cv_.notify_all();
  // 3. Join our threads.
  if (dispatcher_.joinable()) dispatcher_.join();
  if (postprocess_.joinable()) postprocess_.join();
  std::lock_guard<std::mutex> lock(mu_);
  streams_.clear();
}

// ---------------------------------------------------------------------------------------------------------------
// Source threads

StreamEvent Pipeline::MakeStreamEvent(EventKind kind, const StreamState& s, ErrorCode code, std::string reason,
                                  const std::string& message, std::string hint, long long native_code) {
  StreamEvent ev;
  ev.kind = kind;
  ev.stream = s.handle;
  ev.code = code;
  ev.reason = std::move(reason);
  ev.message = RedactIn(message, s.config.source.url);
  ev.hint = std::move(hint);
  ev.native_code = native_code;
  return ev;
}

void Pipeline::PushEvent(StreamEvent ev) {
  std::lock_guard<std::mutex> lock(ev_mu_);
  events_.push_back(std::move(ev));
  if (!notify_pending_ && sink_) {
    notify_pending_ = true;
    sink_->Notify();
  }
}

void Pipeline::PushState(StreamState& s, const char* state, const char* reason, const StreamEvent* failure) {
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.state = state;
  }
  StreamEvent ev;
  if (failure) {
    ev = *failure;
    ev.has_error = true;
  }
  ev.kind = EventKind::kState;
  ev.stream = s.handle;
  ev.state = state;
  ev.reason = reason;
  PushEvent(std::move(ev));
}

void Pipeline::MaybeEmitEnd(StreamState& s) {
  bool emit = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    const uint64_t accounted = s.delivered.load() + s.dropped_inference.load();
    if (s.eof && !s.end_emitted && accounted >= s.submitted.load()) {
      s.end_emitted = true;
      emit = true;
    }
  }
  if (emit && !s.removed.load()) {
    StreamEvent ev;
    ev.kind = EventKind::kEnd;
    ev.stream = s.handle;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      ev.state = s.state;
      ev.message = s.last_error;
    }
    PushEvent(std::move(ev));
  }
}

// Reconnect behaviour (live streams; files end or fail at once):
//   connecting ─open ok→ live ─loss (error, EOF, stall)→ stalled → reconnecting ─open ok→ live …
//   a failed first connect goes connecting → reconnecting; after max_attempts consecutive failures (a decoded
//   frame resets the count) the stream ends: 'failed', or 'ended' when the last loss was a clean EOF.
// Each wait is backoff (exponential, jittered) followed by a token of the pipeline-wide reconnect pacer; both are
// interrupted at once by RemoveStream/Stop. frame_index, pts and the tracker continue across reconnects.
void Pipeline::SourceLoop(std::shared_ptr<StreamState> sp) {
  StreamState& s = *sp;
  const ReconnectPolicy& rp = s.config.reconnect;
  PushState(s, "connecting");
  const char* final_state = "ended";
  int failures = 0;  // consecutive losses/failed attempts since the last decoded frame
  std::mt19937 rng(uint32_t(std::random_device{}()) ^ uint32_t(s.handle * 2654435761u));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  StreamEvent failure;  // the last failure (kError shape)
  const char* end_reason = "eof";  // of the final 'ended' state: "truncated" for a file that ends early
  bool was_live = false;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      // Backoff, then a pacer token: a site-wide outage must not become a reconnect stampede.
      double delay = double(rp.initial_delay_ms) * std::pow(std::max(1.0, rp.multiplier), std::max(0, failures - 1));
      delay = std::min(delay, double(std::max(rp.initial_delay_ms, rp.max_delay_ms)));
      delay *= 1.0 - std::clamp(rp.jitter, 0.0, 1.0) * unit(rng);
      if (!SleepFor(s, int64_t(delay)) || !TakeReconnectToken(s)) {
        final_state = "stopped";
        break;
      }
      s.reconnect_attempts.fetch_add(1, std::memory_order_relaxed);
    }
    bool eof = false;
    bool failed = false;
    bool truncated = false;  // a file that ended early but delivered frames: ends with a warning, not a failure
    // A failure that is not the source's: its reason word, and whether another connection could help (decode 'gpu'
    // without a usable NVDEC, and bugs, end the stream at once, live or not).
    const char* forced_reason = nullptr;
    bool retry = true;
    s.got_frame = false;
    s.corrupt_seen = 0;  // a new source counts from 0
    try {
      decode::SourceOptions so = s.config.source;
      so.stall_timeout_ms = s.live ? rp.stall_timeout_ms : 0;
      if (s.last_pts_ms >= 0) {
        // Continue the time line: the outage counts as elapsed time, so ptsMs keeps increasing.
        const int64_t gap_ms = (SteadyNowNs() - s.last_frame_ns.load()) / 1000000;
        so.start_pts_ms = s.last_pts_ms + std::max<int64_t>(1, gap_ms);
      }
      // Decoder choice (gpu_source.h). 'cpu' never probes the GPU; 'auto' stops trying after one fallback.
      const DecodeMode mode = s.config.decode;
      std::string no_gpu;  // 'auto': why this connection decodes on the CPU (warned once, after the open)
      ErrorCode no_gpu_code = ErrorCode::kUnsupported;
      if (mode != DecodeMode::kCpu && !s.gpu_off) {
        const cuda::FeatureStatus st = GpuDecodeStatus(ingest_.decode_device);
        so.packets_only = st.available;
        if (!st.available) {
          if (mode == DecodeMode::kGpu) {
            forced_reason = "nvdec";
            retry = false;
            throw Error(ErrorCode::kUnsupported, "decode", "decode 'gpu': NVDEC is not available: " + st.reason,
                        "NVDEC needs an NVIDIA GPU with its driver (libcuda.so.1, libnvcuvid.so.1) and a CUDA build "
                        "of camtrack; use decode 'auto' to fall back to CPU decode");
          }
          // 'auto' on a machine without NVDEC is the ordinary CPU path, not a fallback: no per-stream warning
          // (camtrack doctor / capabilities() say why NVDEC is unavailable). Warnings are for streams NVDEC
          // could not take on a machine that has it (below).
          s.gpu_off = true;
        }
      }
      decode::VideoSource* srcp = s.ReplaceSource(so);
      srcp->Open();
      std::unique_ptr<GpuFrameSource> gpu;  // destroyed before the source it borrows (end of this scope)
      if (srcp->packets_only()) {
        GpuFrameSource::StartFailure f;
        gpu = GpuFrameSource::Start(*srcp, ingest_.decode_device, &f);
        if (!gpu) {
          const ErrorCode code = f.code == ErrorCode::kUnsupported ? ErrorCode::kUnsupported : ErrorCode::kDecode;
          if (mode == DecodeMode::kGpu) {
            forced_reason = "nvdec";
            retry = false;
            throw Error(code, "decode", "decode 'gpu': NVDEC cannot decode this stream: " + f.reason,
                        "use decode 'auto' to fall back to CPU decode for streams NVDEC cannot take (codec other "
                        "than H.264/HEVC, 10-bit, 4:2:2/4:4:4, beyond the GPU's limits)");
          }
          no_gpu = "NVDEC cannot decode this stream: " + f.reason;
          no_gpu_code = code;
          if (!f.reopen) {
            srcp->SwitchToCpuDecode();  // nothing was read yet: the open input continues on libavcodec
          } else {
            // Packets were consumed by the failed start: open the input again for the CPU decoder. The failed
            // source's counters stay in the totals (it decoded nothing: only GpuFrameSource::Next() stamps frames).
            so.packets_only = false;
            srcp = s.ReplaceSource(so);
            srcp->Open();
          }
        }
      }
      decode::VideoSource& src = *srcp;
      if (!no_gpu.empty() && mode == DecodeMode::kAuto) WarnCpuFallback(s, no_gpu_code, no_gpu);
      {
        std::lock_guard<std::mutex> lock(s.mu);
        s.width = src.width();
        s.height = src.height();
        s.nominal_fps = src.fps();
        s.codec = src.codec_name();
        s.decoder = gpu ? "nvdec" : "cpu";
      }
      // Tracker: created at the stream's first frame (kept across reconnects so ids continue).
      s.live_state.SetSourceFps(src.fps());  // [live config]
      if (attempt > 0) s.reconnects.fetch_add(1, std::memory_order_relaxed);
      PushState(s, "live", attempt == 0 ? "connected" : "reconnected");
      was_live = true;
      RunFrames(sp, src, gpu.get());
      eof = !s.stop.load();
      if (eof && src.truncated()) {
        // A file cut short: the frames before the cut were delivered, so it ends, with a warning and lastError;
        // one that gave no frame at all fails like an unreadable file.
        const Error e = src.TruncationError();
        if (!s.got_frame) throw e;
        failure = MakeStreamEvent(EventKind::kWarning, s, e.code(), "truncated", e.what(), e.hint(), e.native_code());
        truncated = true;
      }
    } catch (const Error& e) {
      if (!s.stop.load()) {
        failed = true;
        if (e.code() == ErrorCode::kInference) {
          forced_reason = "inference";  // no inference worker left (RetireWorker): another connection cannot help
          retry = false;
        }
        std::string reason;
        {
          std::lock_guard<std::mutex> lock(s.mu);
          reason = forced_reason                                       ? forced_reason
                   : s.source && *s.source->failure_reason() ? s.source->failure_reason()
                   : s.source && s.source->truncated()       ? "truncated"
                                                             : "error";
        }
        if (reason == "format") retry = false;  // inputFormats refused it: the same input is refused again
        failure =
            MakeStreamEvent(EventKind::kError, s, e.code(), std::move(reason), e.what(), e.hint(), e.native_code());
      }
    } catch (const std::exception& e) {
      if (!s.stop.load()) {
        failed = true;
        retry = false;
        failure = MakeStreamEvent(EventKind::kError, s, ErrorCode::kInternal, "internal", e.what(), {}, 0);
      }
    }
    uint64_t corrupt_end = 0;
    {
      // The demuxer/decoder are released here (this thread owns them); their counters stay in the totals.
      std::lock_guard<std::mutex> lock(s.mu);
      corrupt_end = s.source ? s.source->counters().corrupt.load() : 0;
      s.ReleaseSourceLocked();
      if (failed || truncated) {
        s.last_error = failure.message;
        s.last_error_reason = failure.reason;
        s.last_error_code = failure.code;
      }
    }
    if (s.stop.load()) {
      final_state = "stopped";
      break;
    }
    TrackCorrupt(s, corrupt_end, s.last_pts_ms, /*end=*/true);  // the burst this connection ended in, if any
    if (!s.live || !retry) {
      // Files (and failures another connection cannot help) do not reconnect: EOF ends, an error fails.
      final_state = failed ? "failed" : "ended";
      if (failed || truncated) PushEvent(failure);
      if (truncated) end_reason = "truncated";
      break;
    }
    if (eof) {
      failure = MakeStreamEvent(EventKind::kError, s, ErrorCode::kSourceRead, "eof",
                            "the server ended the session: " + s.config.source.url,
                            "a camera normally never ends its stream; set reconnect.maxAttempts 0 to end instead", 0);
    }
    if (s.got_frame) failures = 0;
    ++failures;
    if (rp.max_attempts >= 0 && failures > rp.max_attempts) {
      final_state = eof ? "ended" : "failed";
      if (!eof) PushEvent(failure);
      break;
    }
    failure.attempt = failures;
    if (was_live) PushState(s, "stalled", failure.reason.c_str(), &failure);
    was_live = false;
    StreamEvent warn = failure;
    warn.kind = EventKind::kWarning;
    PushEvent(std::move(warn));
    PushState(s, "reconnecting", failure.reason.c_str(), &failure);
  }
  // The final state goes out before `eof` is set: from then on the postprocess thread may emit 'end' (MaybeEmitEnd),
  // which must follow the state event.
  if (std::strcmp(final_state, "failed") == 0)
    PushState(s, final_state, failure.reason.c_str(), &failure);
  else
    PushState(s, final_state, std::strcmp(final_state, "stopped") == 0 ? "removed" : end_reason);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.eof = true;
  }
  MaybeEmitEnd(s);
}

void Pipeline::WarnCpuFallback(StreamState& s, ErrorCode code, const std::string& why) {
  s.gpu_off = true;  // one warning per stream: later connections go straight to the CPU decoder
  PushEvent(MakeStreamEvent(
      EventKind::kWarning, s, code, "nvdec", "decoding on the CPU: " + why,
      "decode 'auto' uses NVDEC where an NVIDIA GPU, its driver and a CUDA build of camtrack are present and the "
      "stream is 8-bit 4:2:0 H.264/HEVC; set decode 'cpu' for this stream to silence this warning", 0));
}

// A burst is over after this much presentation time without new damage; a longer one is reported every
// kCorruptReportMs while it lasts (a camera that sends damaged data for minutes warns a few times, not per frame).
constexpr int64_t kCorruptQuietMs = 1000, kCorruptReportMs = 10000;

void Pipeline::TrackCorrupt(StreamState& s, uint64_t corrupt, int64_t pts_ms, bool end) {
  if (corrupt > s.corrupt_seen) {
    if (s.burst_corrupt == 0) s.burst_first_pts = pts_ms;
    s.burst_corrupt += corrupt - s.corrupt_seen;
    s.burst_last_pts = pts_ms;
  }
  s.corrupt_seen = corrupt;
  if (s.burst_corrupt == 0) return;
  if (!end && pts_ms - s.burst_last_pts < kCorruptQuietMs && s.burst_last_pts - s.burst_first_pts < kCorruptReportMs)
    return;
  PushEvent(MakeStreamEvent(
      EventKind::kWarning, s, ErrorCode::kDecode, "corrupt",
      std::to_string(s.burst_corrupt) + " damaged packets/frames from " + s.config.source.url +
          (s.burst_last_pts < 0 ? std::string(" before the first frame")
                                : " between ptsMs " + std::to_string(std::max<int64_t>(0, s.burst_first_pts)) +
                                      " and " + std::to_string(s.burst_last_pts)) +
          " (skipped or concealed; decoding resumes at the next keyframe)",
      "the input carries damaged data (a corrupt file; packet loss on the network: try rtspTransport 'tcp'); "
      "stats().framesCorrupt counts it",
      0));
  s.burst_corrupt = 0;
}

void Pipeline::RunFrames(const std::shared_ptr<StreamState>& sp, decode::VideoSource& src, GpuFrameSource* gpu) {
  StreamState& s = *sp;
  AVFrame* frame = nullptr;
  // A new connection's input rate starts afresh: the outage is not averaged in, and after 250 ms the stream shows
  // its own rate so far, not 0 or the previous connection's (RateMeter).
  s.input_rate.Restart();
  // NVDEC's own drops (live streams, pool full) happen inside Next(): those frames were decoded, so they count
  // as decoded + dropped.decoderPool (Stats) and leave a gap in frame_index like any other skipped frame.
  uint64_t pool_drops_seen = 0;
  const auto count_pool_drops = [&] {
    const uint64_t d = gpu ? gpu->decoder_stats().dropped_pool_full : 0;
    if (d == pool_drops_seen) return;
    s.dropped_decoder_pool.fetch_add(d - pool_drops_seen, std::memory_order_relaxed);
    s.frame_index += int64_t(d - pool_drops_seen);
    pool_drops_seen = d;
  };
  while (WaitForCredit(s) && !s.stop.load(std::memory_order_relaxed) && (gpu ? gpu->Next() : src.NextFrame(&frame))) {
    if (gpu) count_pool_drops();
    ++s.frame_index;
    const int64_t now = SteadyNowNs();
    s.got_frame = true;
    s.last_frame_ns.store(now, std::memory_order_relaxed);
    const int64_t pts = src.last_pts_ms();
    s.last_pts_ms = pts;
    TrackCorrupt(s, src.counters().corrupt.load(std::memory_order_relaxed), pts, /*end=*/false);
    s.input_rate.Tick(now);
    const int frame_w = gpu ? gpu->width() : frame->width, frame_h = gpu ? gpu->height() : frame->height;
    if (frame_w != s.width || frame_h != s.height) {
      // Resolution change mid-stream: the letterboxer follows by itself; only the reported size changes.
      std::lock_guard<std::mutex> lock(s.mu);
      s.width = frame_w;
      s.height = frame_h;
    }
    if (!s.live_state.AdmitFrame(pts)) {  // [live config] fpsLimit
      s.dropped_fps.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    Acquired a;
    if (!Acquire(/*block=*/!s.live, s, &a)) {
      if (s.stop.load()) break;
      s.dropped_busy.fetch_add(1, std::memory_order_relaxed);  // live: keep the newest, count what we skip
      continue;
    }
    // Latency is measured from here: for a file the source may have waited for a free slot (backpressure),
    // which is not latency; for a live stream Acquire never waits, so this is right after decode.
    const int64_t decoded_at = SteadyNowNs();
    ImageMeta meta;
    meta.stream = sp;
    meta.frame_index = s.frame_index;
    meta.pts_ms = pts;
    meta.decoded_at_ns = decoded_at;
    meta.wall_ms = WallNowMs();
    float* dst = a.input + a.index * input_elems_per_image_;
    try {
      meta.letterbox = gpu ? gpu->LetterboxInto(model_.input, dst) : s.letterboxer.Run(*frame, model_.input, dst);
    } catch (...) {
      // The batch position is taken: commit it empty (postprocess skips an image without a stream), or the slot
      // never dispatches and every stream with a frame in it waits for good. Then this stream fails as usual.
      Commit(a, ImageMeta{});
      throw;
    }
    s.submitted.fetch_add(1, std::memory_order_relaxed);
    Commit(a, std::move(meta));
  }
  count_pool_drops();  // those of the last Next() (end of input, stop, or an error thrown out of it is not counted)
}

bool Pipeline::SleepFor(StreamState& s, int64_t ms) {
  std::unique_lock<std::mutex> lock(s.mu);
  if (ms > 0) s.wake_cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return s.stop.load(); });
  return !s.stop.load();
}

bool Pipeline::TakeReconnectToken(StreamState& s) {
  const double rate = ingest_.reconnect_rate_per_second;
  if (rate <= 0) return !s.stop.load();
  const double burst = std::max(1.0, ingest_.reconnect_burst);
  for (;;) {
    int64_t wait_ms;
    {
      std::lock_guard<std::mutex> lock(pacer_mu_);
      const int64_t now = SteadyNowNs();
      pacer_tokens_ = std::min(burst, pacer_tokens_ + double(now - pacer_refill_ns_) / 1e9 * rate);
      pacer_refill_ns_ = now;
      if (pacer_tokens_ >= 1.0) {
        pacer_tokens_ -= 1.0;
        return !s.stop.load();
      }
      wait_ms = std::max<int64_t>(1, int64_t(std::ceil((1.0 - pacer_tokens_) / rate * 1000.0)));
    }
    if (!SleepFor(s, wait_ms)) return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Batcher

// Fairness between streams when inference is the bottleneck: a stream may take a batch position only if no other
// stream that is contending right now (it failed to get one within kContendWindowNs) has waited longer since its
// last position. Without it the streams whose decode happens to line up with free slots take
// nearly all of them (measured: 74/47/47/23 frames for four identical RTSP cameras); with it they take turns.
// A contender that stops trying (dead camera, slow network) drops out after the window, so it cannot hold slots.
constexpr int64_t kContendWindowNs = 200'000'000;

bool Pipeline::Acquire(bool block, StreamState& stream, Acquired* out) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stopping_ || stream.stop.load()) return false;
    if (!workers_.empty() && retired_workers_ == workers_.size())
      throw Error(ErrorCode::kInference, "inference", "every inference worker has exited",
                  "the pipeline's 'workerError' event says why; create a new pipeline");
    {
      const int64_t now = SteadyNowNs();
      bool yield = false;
      for (const auto& [h, t] : streams_) {
        if (t.get() == &stream || t->want_ns == 0 || now - t->want_ns > kContendWindowNs) continue;
        if (t->last_grant_ns < stream.last_grant_ns) {
          yield = true;
          break;
        }
      }
      if (yield) {
        // Another stream has waited longer: a live stream drops this frame (it will have a newer one soon); a
        // file waits its turn (bounded by the window, so a contender that went away cannot block it).
        stream.want_ns = now;
        if (!block) return false;
        slot_free_cv_.wait_for(lock, std::chrono::nanoseconds(kContendWindowNs));
        continue;
      }
    }
    if (filling_ < 0) {
      // Open the next batch on the free slot of the least busy worker.
      int best = -1, best_busy = 1 << 30;
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].state != SlotState::kFree || slots_[i].retired) continue;
        int busy = 0;
        for (const Slot& o : slots_)
          if (o.worker == slots_[i].worker && o.state != SlotState::kFree) ++busy;
        if (busy < best_busy) {
          best = int(i);
          best_busy = busy;
        }
      }
      if (best >= 0) {
        Slot& sl = slots_[best];
        sl.state = SlotState::kFilling;
        sl.acquired = sl.committed = 0;
        sl.closed = false;
        sl.ok = true;
        sl.error.clear();
        sl.opened_ns = SteadyNowNs();
        // The batch's place in postprocess order is taken when it opens, not when it is dispatched: a batch waits
        // for its slowest writer, and a stream whose frame n sits in it may already have frame n+1 in a later batch
        // that fills and dispatches first; numbered at dispatch, that later batch would be postprocessed first and
        // the stream's results (and tracker updates) would leave frame order. (Found by camtrack_pipeline_driver.)
        sl.seq = next_seq_++;
        filling_ = best;
        dispatch_cv_.notify_all();
      }
    }
    if (filling_ >= 0) {
      Slot& sl = slots_[filling_];
      out->slot = filling_;
      out->index = sl.acquired++;
      out->input = sl.buffers.input;
      if (sl.acquired >= model_.batch_size) {
        sl.closed = true;
        filling_ = -1;
      }
      stream.last_grant_ns = SteadyNowNs();
      stream.want_ns = 0;
      return true;
    }
    stream.want_ns = SteadyNowNs();
    if (!block) return false;
    slot_free_cv_.wait(lock);
  }
}

void Pipeline::Commit(const Acquired& a, ImageMeta meta) {
  std::unique_lock<std::mutex> lock(mu_);
  Slot& sl = slots_[a.slot];
  sl.images[a.index] = std::move(meta);
  ++sl.committed;
  if (sl.retired) slot_free_cv_.notify_all();  // RetireWorker waits for the writers of its filling slot
  MaybeDispatchLocked(a.slot, lock);
}

void Pipeline::MaybeDispatchLocked(int slot_index, std::unique_lock<std::mutex>& lock) {
  Slot& sl = slots_[slot_index];
  if (sl.state != SlotState::kFilling || !sl.closed || sl.committed != sl.acquired) return;
  if (sl.committed == 0) {  // closed empty (shutdown, retired worker): nothing to infer
    // Done at once, so the postprocess thread passes its seq (taken at open) and frees it without processing.
    sl.state = SlotState::kDone;
    sl.submitted_ns = sl.completed_ns = SteadyNowNs();
    done_cv_.notify_all();
    return;
  }
  sl.state = SlotState::kInFlight;
  sl.submitted_ns = SteadyNowNs();
  const int images = model_.fixed_batch ? model_.batch_size : sl.committed;
  auto worker = workers_[sl.worker];
  const int local = sl.local, w = sl.worker;
  lock.unlock();
  const bool queued = worker->Submit(local, images);
  lock.lock();
  if (!queued) {
    lock.unlock();
    CompleteBatch(w, local, false, "inference worker " + worker->name() + " is gone");
    lock.lock();
  }
}

void Pipeline::DispatcherLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (filling_ < 0) {
      dispatch_cv_.wait(lock);
      continue;
    }
    const int idx = filling_;
    const int64_t deadline = slots_[idx].opened_ns + int64_t(batching_.max_wait_ms) * 1000000;
    const int64_t now = SteadyNowNs();
    if (now >= deadline) {
      slots_[idx].closed = true;
      filling_ = -1;
      MaybeDispatchLocked(idx, lock);
    } else {
      dispatch_cv_.wait_for(lock, std::chrono::nanoseconds(deadline - now));
    }
  }
}

void Pipeline::RetireWorker(int worker, const std::string& why) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (worker < 0 || worker >= int(worker_first_slot_.size()) || worker_gone_[worker].load()) return;
    worker_gone_[worker].store(true);
    ++retired_workers_;
    const int first = worker_first_slot_[worker];
    const int count = int(workers_[worker]->slots().size());
    const std::string error = "inference worker " + workers_[worker]->name() + " exited: " + why;
    for (int i = first; i < first + count; ++i) {
      Slot& sl = slots_[i];
      sl.retired = true;
      if (filling_ == i) {
        // Dispatched as soon as its last writer commits; Submit then fails and the batch completes as failed.
        sl.closed = true;
        filling_ = -1;
        MaybeDispatchLocked(i, lock);
      }
      if (sl.state == SlotState::kInFlight) {
        sl.state = SlotState::kDone;
        sl.ok = false;
        sl.error = error;
        sl.completed_ns = SteadyNowNs();
      }
    }
    done_cv_.notify_all();
    slot_free_cv_.notify_all();  // Acquire re-checks: the slots are gone, maybe every worker with them
    // Source threads may still be letterboxing into a filling slot of this worker: wait for their commits (a few
    // ms each; bounded anyway). Nothing here waits for the JS thread, which may be the one joining this worker.
    const auto no_writers = [&] {
      for (int i = first; i < first + count; ++i)
        if (slots_[i].state == SlotState::kFilling && slots_[i].committed != slots_[i].acquired) return false;
      return true;
    };
    slot_free_cv_.wait_for(lock, std::chrono::seconds(2), no_writers);
  }
  // A postprocess thread parsing this worker's output right now finishes that parse; every later parse sees the
  // flag (checked under output_mu_) and fails the image instead. A postprocess blocked on a full result ring for
  // one of its images is released (AcquireResult's abandon).
  { std::lock_guard<std::mutex> lock(output_mu_); }
  { std::lock_guard<std::mutex> lock(ev_mu_); }  // AcquireResult checks `abandon` under ev_mu_: no lost wake-up
  result_free_cv_.notify_all();
}

void Pipeline::CompleteBatch(int worker, int local_slot, bool ok, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (worker < 0 || worker >= int(worker_first_slot_.size())) return;
  const int idx = worker_first_slot_[worker] + local_slot;
  if (idx < 0 || idx >= int(slots_.size()) || slots_[idx].state != SlotState::kInFlight) return;
  Slot& sl = slots_[idx];
  sl.state = SlotState::kDone;
  sl.ok = ok;
  sl.error = error;
  sl.completed_ns = SteadyNowNs();
  done_cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------------------------
// Postprocess

void Pipeline::PostprocessLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    int ready = -1;
    bool pending = false;
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& sl = slots_[i];
      if (sl.state == SlotState::kInFlight || sl.state == SlotState::kDone) pending = true;
      if (sl.state == SlotState::kDone && sl.seq == next_post_seq_) ready = int(i);
    }
    if (ready < 0) {
      if (stopping_ && !pending) break;
      if (stopping_) {
        // Bounded wait for in-flight batches during shutdown; a worker that never answers is abandoned.
        if (done_cv_.wait_for(lock, std::chrono::seconds(10)) == std::cv_status::timeout) break;
      } else {
        done_cv_.wait(lock);
      }
      continue;
    }
    Slot& sl = slots_[ready];
    lock.unlock();
    if (sl.committed > 0) ProcessBatch(sl);  // 0: closed empty (MaybeDispatchLocked)
    lock.lock();
    sl.state = SlotState::kFree;
    sl.acquired = sl.committed = 0;
    ++next_post_seq_;
    slot_free_cv_.notify_all();
    // A stream's 'end' goes out only after its last batch slot is free again, so a caller that sees the end and
    // reads stats() finds nothing of it in flight.
    if (!end_check_.empty()) {
      lock.unlock();
      for (const auto& sp : end_check_) MaybeEmitEnd(*sp);
      end_check_.clear();
      lock.lock();
    }
  }
}

FrameResult* Pipeline::AcquireResult(const std::atomic<bool>* abandon) {
  std::unique_lock<std::mutex> lock(ev_mu_);
  if (result_free_.empty()) {
    {
      std::lock_guard<std::mutex> sl(stats_mu_);
      ++stat_result_waits_;
    }
    result_free_cv_.wait(lock, [&] {
      return !result_free_.empty() || stopping_flag_.load() || (abandon && abandon->load());
    });
    if (result_free_.empty()) return nullptr;
  }
  FrameResult* r = result_free_.back();
  result_free_.pop_back();
  return r;
}

void Pipeline::ProcessBatch(Slot& sl) {
  const double infer_ms = double(sl.completed_ns - sl.submitted_ns) / 1e6;
  int delivered = 0;
  for (int i = 0; i < sl.committed; ++i) {
    ImageMeta& meta = sl.images[i];
    std::shared_ptr<StreamState> sp = std::move(meta.stream);
    if (!sp || sp->removed.load()) continue;
    StreamState& s = *sp;
    end_check_.push_back(sp);
    if (!sl.ok) {
      InferenceFailed(s, sl.seq, sl.error);
      continue;
    }
    FrameResult* r = nullptr;
    try {
      switch (DeliverImage(sl, i, s, &r)) {
        case Delivery::kDelivered:
          ++delivered;
          if (s.inference_failing.load(std::memory_order_relaxed)) InferenceRecovered(s);
          break;
        case Delivery::kNoResult:
          break;
        case Delivery::kWorkerGone:
          InferenceFailed(s, sl.seq, "its inference worker exited before the results were read");
          break;
      }
    } catch (const std::exception& e) {
      // A parser or tracker failure (an internal error: LAPJV not converging, bad_alloc) costs this frame, not the
      // process: an uncaught exception here would std::terminate every stream.
      if (r) {
        std::lock_guard<std::mutex> lock(ev_mu_);
        result_free_.push_back(r);
      }
      s.dropped_inference.fetch_add(1, std::memory_order_relaxed);
      const Error* ce = dynamic_cast<const Error*>(&e);
      PushEvent(MakeStreamEvent(
          EventKind::kWarning, s, ce ? ce->code() : ErrorCode::kInternal, "internal",
          "postprocessing failed, frame " + std::to_string(meta.frame_index) + " dropped: " + e.what(),
          ce && !ce->hint().empty() ? ce->hint() : "this is a bug in camtrack; please report it with the message", 0));
    }
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stat_batches_;
    stat_images_ += sl.committed;
    if (sl.ok) {
      stat_consecutive_failed_ = 0;
    } else {
      ++stat_failed_batches_;
      if (++stat_consecutive_failed_ == 1) stat_inference_error_ = sl.error;  // the first error of the outage
    }
    stat_infer_ms_sum_ += infer_ms;
  }
  // One wake-up of JS per batch.
  std::lock_guard<std::mutex> lock(ev_mu_);
  if ((delivered > 0 || !events_.empty()) && !notify_pending_ && sink_) {
    notify_pending_ = true;
    sink_->Notify();
  }
}

void Pipeline::InferenceFailed(StreamState& s, uint64_t seq, const std::string& why) {
  s.dropped_inference.fetch_add(1, std::memory_order_relaxed);
  if (s.failed_batch != seq) {  // batches are counted once per stream
    s.failed_batch = seq;
    s.inference_failed_batches.fetch_add(1, std::memory_order_relaxed);
    s.inference_consecutive.fetch_add(1, std::memory_order_relaxed);
    if (!s.inference_failing.exchange(true)) {
      s.outage_batches = s.outage_frames = 0;
      s.outage_start_ns = SteadyNowNs();
      StreamEvent ev = MakeStreamEvent(
          EventKind::kWarning, s, ErrorCode::kInference, "inference_failing",
          "inference is failing, this stream's frames are dropped until it recovers: " + why,
          "check the model and the execution provider; stats().inference counts the failures, and one warning "
          "follows when inference recovers",
          0);
      {
        std::lock_guard<std::mutex> lock(s.mu);
        s.inference_error = RedactIn(why, s.config.source.url);
        s.last_error = ev.message;
        s.last_error_code = ErrorCode::kInference;
        s.last_error_reason = "inference";
      }
      PushEvent(std::move(ev));
    }
    ++s.outage_batches;
  }
  ++s.outage_frames;
}

void Pipeline::InferenceRecovered(StreamState& s) {
  s.inference_failing.store(false);
  s.inference_consecutive.store(0);
  std::string first_error;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    first_error = s.inference_error;
  }
  char counts[160];
  std::snprintf(counts, sizeof(counts), "inference recovered after %llu failed batches (%llu frames dropped) in %.1f s",
                static_cast<unsigned long long>(s.outage_batches), static_cast<unsigned long long>(s.outage_frames),
                double(SteadyNowNs() - s.outage_start_ns) / 1e9);
  PushEvent(MakeStreamEvent(EventKind::kWarning, s, ErrorCode::kInference, "inference_recovered",
                            std::string(counts) + "; it had started with: " + first_error, {}, 0));
}

Pipeline::Delivery Pipeline::DeliverImage(Slot& sl, int i, StreamState& s, FrameResult** out) {
  const ImageMeta& meta = sl.images[i];
  const std::atomic<bool>& gone = *sl.gone;
  {
    // The output buffer belongs to the worker: read only while it is known alive (see RetireWorker).
    std::lock_guard<std::mutex> lock(output_mu_);
    if (gone.load()) return Delivery::kWorkerGone;
    parser_->Parse(sl.buffers.output + size_t(i) * model_.output_elems_per_image, meta.letterbox, scratch_dets_);
  }
  FrameResult* r = AcquireResult(&gone);
  if (!r) {
    s.dropped_inference.fetch_add(1, std::memory_order_relaxed);
    return Delivery::kNoResult;
  }
  *out = r;
  r->stream = s.handle;
  r->frame_index = meta.frame_index;
  r->pts_ms = meta.pts_ms;
  r->decoded_at_ns = meta.decoded_at_ns;
  r->wall_ms = meta.wall_ms;
  r->width = meta.letterbox.src_width;
  r->height = meta.letterbox.src_height;
  r->track_events.clear();
  // [live config] detection options, then the tracker
  s.live_state.Postprocess(scratch_dets_, r->width, r->height, r->tracks, r->track_events);
  r->detections.assign(scratch_dets_.begin(), scratch_dets_.end());
  r->done_at_ns = SteadyNowNs();
  const double latency_ms = double(r->done_at_ns - r->decoded_at_ns) / 1e6;
  s.last_age_ms.store(int64_t(latency_ms), std::memory_order_relaxed);
  s.delivered_rate.Tick(r->done_at_ns);
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++latency_hist_[LatencyBucket(latency_ms)];
    ++latency_samples_;
    latency_max_ms_ = std::max(latency_max_ms_, latency_ms);
    latency_.Add(latency_ms);
    s.latency.Add(latency_ms);
  }
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    result_ready_.push_back(r);
  }
  *out = nullptr;  // handed over: nothing to give back from here on
  s.delivered.fetch_add(1, std::memory_order_relaxed);
  return Delivery::kDelivered;
}

void Pipeline::DrainEvents(std::vector<FrameResult*>& results, std::vector<StreamEvent>& events) {
  std::lock_guard<std::mutex> lock(ev_mu_);
  results.insert(results.end(), result_ready_.begin(), result_ready_.end());
  result_ready_.clear();
  for (auto& e : events_) events.push_back(std::move(e));
  events_.clear();
  notify_pending_ = false;
}

void Pipeline::ReleaseResults(const std::vector<FrameResult*>& results) {
  {
    std::lock_guard<std::mutex> lock(ev_mu_);
    for (FrameResult* r : results) result_free_.push_back(r);
  }
  result_free_cv_.notify_all();
}

PipelineStatsSnapshot Pipeline::Stats() const {
  PipelineStatsSnapshot out;
  out.batch_size = model_.batch_size;
  std::vector<std::shared_ptr<StreamState>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [h, s] : streams_) streams.push_back(s);
    for (const Slot& sl : slots_)
      if (sl.state == SlotState::kInFlight || sl.state == SlotState::kDone) ++out.in_flight;
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    out.batches = stat_batches_;
    out.images = stat_images_;
    out.failed_batches = stat_failed_batches_;
    out.consecutive_failed_batches = stat_consecutive_failed_;
    out.inference_error = stat_inference_error_;
    out.result_waits = stat_result_waits_;
    out.mean_batch_fill = stat_batches_ ? double(stat_images_) / double(stat_batches_) : 0;
    out.mean_infer_ms = stat_batches_ ? stat_infer_ms_sum_ / double(stat_batches_) : 0;
    out.latency_samples = latency_samples_;
    out.latency_max_ms = latency_max_ms_;
    out.latency = latency_;
    if (latency_samples_) {
      const uint64_t p50 = (latency_samples_ + 1) / 2, p99 = uint64_t(std::ceil(0.99 * double(latency_samples_)));
      uint64_t acc = 0;
      bool got50 = false;
      for (int b = 0; b < kLatencyBuckets; ++b) {
        acc += latency_hist_[b];
        if (!got50 && acc >= p50) {
          out.latency_p50_ms = std::min(BucketUpperMs(b), latency_max_ms_);
          got50 = true;
        }
        if (acc >= p99) {
          out.latency_p99_ms = std::min(BucketUpperMs(b), latency_max_ms_);
          break;
        }
      }
    }
  }
  const int64_t now = SteadyNowNs();
  out.streams.reserve(streams.size());
  for (const auto& sp : streams) out.streams.push_back(SnapshotStream(*sp, now));
  return out;
}

std::optional<StreamStatsSnapshot> Pipeline::StreamStats(int32_t handle) const {
  std::shared_ptr<StreamState> sp;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = streams_.find(handle);
    if (it == streams_.end()) return std::nullopt;
    sp = it->second;
  }
  return SnapshotStream(*sp, SteadyNowNs());
}

StreamStatsSnapshot Pipeline::SnapshotStream(const StreamState& s, int64_t now) const {
  StreamStatsSnapshot st;
  st.id = s.config.id;
  st.url = RedactUrl(s.config.source.url);
  st.live = s.live;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    st.state = s.state;
    st.codec = s.codec;
    st.decoder = s.decoder;
    st.last_error = s.last_error;
    st.last_error_reason = s.last_error_reason;
    st.last_error_code = s.last_error_code;
    st.inference_error = s.inference_error;
    st.width = s.width;
    st.height = s.height;
    st.nominal_fps = s.nominal_fps;
    st.packets = s.base_packets;
    st.decoded = s.base_decoded;
    st.corrupt = s.base_corrupt;
    if (s.source) {
      st.packets += s.source->counters().packets.load();
      st.decoded += s.source->counters().decoded.load();
      st.corrupt += s.source->counters().corrupt.load();
    }
  }
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    st.latency = s.latency;
  }
  const int64_t last_frame = s.last_frame_ns.load();
  const bool is_live = st.state == "live";
  st.frame_age_ms = is_live && last_frame > 0 ? (now - last_frame) / 1000000 : -1;
  st.input_fps = is_live ? s.input_rate.PerSecond(now) : 0;
  st.fps = s.delivered_rate.PerSecond(now);
  st.reconnect_attempts = s.reconnect_attempts.load();
  st.reconnects = s.reconnects.load();
  st.submitted = s.submitted.load();
  st.delivered = s.delivered.load();
  st.dropped_busy = s.dropped_busy.load();
  st.dropped_fps_limit = s.dropped_fps.load();
  st.dropped_inference = s.dropped_inference.load();
  st.dropped_decoder_pool = s.dropped_decoder_pool.load();
  st.inference_failing = s.inference_failing.load();
  st.inference_failed_batches = s.inference_failed_batches.load();
  st.inference_consecutive_failures = s.inference_consecutive.load();
  st.decoded += st.dropped_decoder_pool;  // decoded by NVDEC, dropped before the source thread saw them
  st.last_frame_age_ms = s.last_age_ms.load();
  return st;
}

}  // namespace camtrack::pipeline
