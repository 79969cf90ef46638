#include "core/ingest/stream_runner.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "core/common/clock.h"

namespace camtrack::ingest {

StreamRunner::StreamRunner(RunnerConfig config, std::unique_ptr<FrameSourceFactory> factory, ReconnectPacer& pacer,
                           FrameSink& sink)
    : config_(std::move(config)), factory_(std::move(factory)), pacer_(pacer), sink_(sink) {}

StreamRunner::~StreamRunner() {
  RequestStop();
  Join();
}

void StreamRunner::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StreamRunner::RequestStop() {
  stop_.store(true);
  std::lock_guard<std::mutex> lock(mu_);
  if (source_) source_->Interrupt();
  wake_cv_.notify_all();
}

void StreamRunner::Join() {
  if (thread_.joinable()) thread_.join();
}

StreamEvent StreamRunner::MakeEvent(EventKind kind, ErrorCode code, std::string reason, const std::string& message,
                                    std::string hint, long long native_code) const {
  return MakeStreamEvent(kind, config_.handle, config_.url, code, std::move(reason), message, std::move(hint),
                         native_code);
}

void StreamRunner::PushState(StreamState state, const char* reason, const StreamEvent* failure) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = state;
  }
  StreamEvent ev;
  if (failure) {
    ev = *failure;
    ev.has_error = true;
  }
  ev.kind = EventKind::kState;
  ev.stream = config_.handle;
  ev.state = state;
  ev.reason = reason;
  sink_.OnEvent(std::move(ev));
}

FrameSource* StreamRunner::InstallSource(std::unique_ptr<FrameSource> source) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_.load()) throw Error(ErrorCode::kSourceRead, "source", "interrupted");
  ReleaseSourceLocked();
  source_ = std::move(source);
  return source_.get();
}

void StreamRunner::ReleaseSourceLocked() {
  if (!source_) return;
  const FrameSourceCounters c = source_->counters();
  base_.packets += c.packets;
  base_.decoded += c.decoded;
  base_.corrupt += c.corrupt;
  source_.reset();
}

void StreamRunner::SetPaused(bool paused) {
  std::lock_guard<std::mutex> lock(mu_);
  paused_.store(paused);
  if (!paused) wake_cv_.notify_all();
}

bool StreamRunner::WaitWhilePaused() {
  if (config_.live || !paused_.load(std::memory_order_acquire)) return !stop_.load(std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(mu_);
  wake_cv_.wait(lock, [&] { return !paused_.load() || stop_.load(); });
  return !stop_.load();
}

bool StreamRunner::SleepFor(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (ms > 0) wake_cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
  return !stop_.load();
}

bool StreamRunner::TakeReconnectToken() {
  for (;;) {
    const int64_t wait_ms = pacer_.TryTake();
    if (wait_ms == 0) return !stop_.load();
    if (!SleepFor(wait_ms)) return false;
  }
}

// The reconnect state machine (see the header).
void StreamRunner::Run() {
  const ReconnectPolicy& rp = config_.reconnect;
  PushState(StreamState::kConnecting);
  StreamState final_state = StreamState::kEnded;
  int failures = 0;  // consecutive losses/failed attempts since the last decoded frame
  Backoff backoff(rp, uint32_t(std::random_device{}()) ^ uint32_t(config_.handle * 2654435761u));
  StreamEvent failure;  // the last failure (kError shape)
  const char* end_reason = "eof";  // of the final 'ended' state: "truncated" for a file that ends early
  bool was_live = false;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      // Backoff, then a pacer token: a site-wide outage must not become a reconnect stampede.
      if (!SleepFor(backoff.DelayMs(failures)) || !TakeReconnectToken()) {
        final_state = StreamState::kStopped;
        break;
      }
      reconnect_attempts_.fetch_add(1, std::memory_order_relaxed);
    }
    bool eof = false;
    bool failed = false;
    bool truncated = false;  // a file that ended early but delivered frames: ends with a warning, not a failure
    // A failure that is not the source's: its reason word, and whether another connection could help (no inference
    // worker left, and bugs, end the stream at once, live or not; so do the source's "format" and "nvdec").
    const char* forced_reason = nullptr;
    bool retry = true;
    got_frame_ = false;
    lag_loss_ = false;
    corrupt_seen_ = 0;  // a new source counts from 0
    try {
      Connection c;
      c.stall_timeout_ms = config_.live && !config_.single_connection ? rp.stall_timeout_ms : 0;
      // A source's per-frame warnings (pushed frames that cannot be decoded) go out at once, on this thread.
      c.warn = [this](const SourceWarning& w) {
        StreamEvent ev = MakeEvent(EventKind::kWarning, w.code, w.reason, w.message, w.hint, 0);
        ev.frame = w.frame;
        sink_.OnEvent(std::move(ev));
      };
      if (last_pts_ms_ >= 0) {
        // Continue the time line: the outage counts as elapsed time, so ptsMs keeps increasing. After the lag bound
        // dropped a connection, the camera time of the backlog it shed counts too (the next frames are the camera's
        // live edge), so that ptsMs stays the camera's clock.
        const int64_t gap_ms = (SteadyNowNs() - last_frame_ns_.load()) / 1000000;
        c.start_pts_ms = last_pts_ms_ + std::max<int64_t>(1, gap_ms) + shed_lag_ms_;
      }
      FrameSource& src = *InstallSource(factory_->Create(c));
      src.Open();
      if (const SourceWarning* w = src.open_warning())
        sink_.OnEvent(MakeEvent(EventKind::kWarning, w->code, w->reason, w->message, w->hint, 0));
      {
        std::lock_guard<std::mutex> lock(mu_);
        width_ = src.width();
        height_ = src.height();
        nominal_fps_ = src.fps();
        codec_ = src.codec_name();
        decoder_ = src.decoder_name();
      }
      sink_.OnOpened(src.fps());
      if (attempt > 0) reconnects_.fetch_add(1, std::memory_order_relaxed);
      PushState(StreamState::kLive, attempt == 0 ? "connected" : "reconnected");
      was_live = true;
      RunFrames(src);
      eof = !stop_.load();
      if (eof && src.truncated()) {
        // A file cut short: the frames before the cut were delivered, so it ends, with a warning and lastError;
        // one that gave no frame at all fails like an unreadable file.
        const Error e = src.TruncationError();
        if (!got_frame_) throw e;
        failure = MakeEvent(EventKind::kWarning, e.code(), "truncated", e.what(), e.hint(), e.native_code());
        truncated = true;
      }
    } catch (const Error& e) {
      if (!stop_.load()) {
        failed = true;
        if (e.code() == ErrorCode::kInference) {
          forced_reason = "inference";  // no inference worker left (RetireWorker): another connection cannot help
          retry = false;
        } else if (lag_loss_) {
          forced_reason = "lag";  // the lag bound dropped the connection: a new one starts at the live edge
        }
        std::string reason;
        {
          std::lock_guard<std::mutex> lock(mu_);
          reason = forced_reason                                ? forced_reason
                   : source_ && *source_->failure_reason()      ? source_->failure_reason()
                   : source_ && source_->truncated()            ? "truncated"
                                                                : "error";
        }
        // inputFormats refused it (the same input is refused again), or decode 'gpu' without a usable NVDEC.
        if (reason == "format" || reason == "nvdec") retry = false;
        failure = MakeEvent(EventKind::kError, e.code(), std::move(reason), e.what(), e.hint(), e.native_code());
      }
    } catch (const std::exception& e) {
      if (!stop_.load()) {
        failed = true;
        retry = false;
        failure = MakeEvent(EventKind::kError, ErrorCode::kInternal, "internal", e.what(), {}, 0);
      }
    }
    uint64_t corrupt_end = 0;
    {
      // The source is released here (this thread owns it); its counters stay in the totals.
      std::lock_guard<std::mutex> lock(mu_);
      corrupt_end = source_ ? source_->corrupt() : 0;
      ReleaseSourceLocked();
      if (failed || truncated) {
        last_error_ = failure.message;
        last_error_reason_ = failure.reason;
        last_error_code_ = failure.code;
      }
    }
    if (stop_.load()) {
      final_state = StreamState::kStopped;
      break;
    }
    TrackCorrupt(corrupt_end, last_pts_ms_, /*end=*/true);  // the burst this connection ended in, if any
    if (!config_.live || !retry || config_.single_connection) {
      // Files, pushed streams (and failures another connection cannot help) do not reconnect: EOF ends, an error
      // fails.
      final_state = failed ? StreamState::kFailed : StreamState::kEnded;
      if (failed || truncated) sink_.OnEvent(failure);
      if (truncated) end_reason = "truncated";
      break;
    }
    if (eof) {
      failure = MakeEvent(EventKind::kError, ErrorCode::kSourceRead, "eof",
                          "the server ended the session: " + config_.url,
                          "a camera normally never ends its stream; set reconnect.maxAttempts 0 to end instead", 0);
    }
    if (got_frame_) failures = 0;
    ++failures;
    if (rp.max_attempts >= 0 && failures > rp.max_attempts) {
      final_state = eof ? StreamState::kEnded : StreamState::kFailed;
      if (!eof) sink_.OnEvent(failure);
      break;
    }
    failure.attempt = failures;
    if (was_live) PushState(StreamState::kStalled, failure.reason.c_str(), &failure);
    was_live = false;
    StreamEvent warn = failure;
    warn.kind = EventKind::kWarning;
    sink_.OnEvent(std::move(warn));
    PushState(StreamState::kReconnecting, failure.reason.c_str(), &failure);
  }
  // The final state goes out before `eof_` is set: from then on the postprocess thread may emit 'end' (TakeEnd),
  // which must follow the state event.
  if (final_state == StreamState::kFailed)
    PushState(final_state, failure.reason.c_str(), &failure);
  else
    PushState(final_state, final_state == StreamState::kStopped ? "removed" : end_reason);
  {
    std::lock_guard<std::mutex> lock(mu_);
    eof_ = true;
  }
  sink_.OnFinished();
}

// A burst is over after this much presentation time without new damage; a longer one is reported every
// kCorruptReportMs while it lasts (a camera that sends damaged data for minutes warns a few times, not per frame).
constexpr int64_t kCorruptQuietMs = 1000, kCorruptReportMs = 10000;

void StreamRunner::TrackCorrupt(uint64_t corrupt, int64_t pts_ms, bool end) {
  if (corrupt > corrupt_seen_) {
    if (burst_corrupt_ == 0) burst_first_pts_ = pts_ms;
    burst_corrupt_ += corrupt - corrupt_seen_;
    burst_last_pts_ = pts_ms;
  }
  corrupt_seen_ = corrupt;
  if (burst_corrupt_ == 0) return;
  if (!end && pts_ms - burst_last_pts_ < kCorruptQuietMs && burst_last_pts_ - burst_first_pts_ < kCorruptReportMs)
    return;
  sink_.OnEvent(MakeEvent(
      EventKind::kWarning, ErrorCode::kDecode, "corrupt",
      std::to_string(burst_corrupt_) + " damaged packets/frames from " + config_.url +
          (burst_last_pts_ < 0 ? std::string(" before the first frame")
                               : " between ptsMs " + std::to_string(std::max<int64_t>(0, burst_first_pts_)) + " and " +
                                     std::to_string(burst_last_pts_)) +
          " (skipped or concealed; decoding resumes at the next keyframe)",
      "the input carries damaged data (a corrupt file; packet loss on the network: try rtspTransport 'tcp'); "
      "stats().framesCorrupt counts it",
      0));
  burst_corrupt_ = 0;
}

void StreamRunner::RunFrames(FrameSource& src) {
  const bool live = config_.live;
  // A new connection's input rate starts afresh: the outage is not averaged in, and after 250 ms the stream shows
  // its own rate so far, not 0 or the previous connection's (RateMeter).
  input_rate_.Restart();
  // Drops inside the source (NVDEC, live streams, pool full) happen inside Next(): those frames were decoded, so
  // they count as decoded + dropped.decoderPool (stats) and leave a gap in frame_index like any other skipped frame.
  uint64_t pool_drops_seen = 0;
  // The lag bound (ReconnectPolicy::max_lag_ms): arrival time − pts of each decoded frame, against the smallest seen
  // on this connection (the frame that came through fastest). A link slower than the stream's bit rate makes it grow
  // without end (the backlog waits in kernel and server buffers, where no drop of ours can reach it); past the
  // bound the connection is given up, and the next one starts at the camera's live edge. Live, reconnecting
  // streams only (not files, not pushed frames).
  const int64_t max_lag_ms =
      live && !config_.single_connection ? int64_t(config_.reconnect.max_lag_ms) : int64_t(0);
  int64_t lag_base_ms = INT64_MAX;
  const auto count_pool_drops = [&] {
    const uint64_t d = src.dropped_before_delivery();
    if (d == pool_drops_seen) return;
    dropped_decoder_pool_.fetch_add(d - pool_drops_seen, std::memory_order_relaxed);
    frame_index_ += int64_t(d - pool_drops_seen);
    pool_drops_seen = d;
  };
  while (WaitWhilePaused() && src.Next()) {
    count_pool_drops();
    ++frame_index_;
    // A pushed frame is numbered by its push (gaps: pushes dropped or rejected before decode), unless pictures come
    // out of order (H.264/HEVC with reordered pictures): frame indexes only go up.
    const int64_t seq = src.frame_seq();
    if (seq > frame_index_) frame_index_ = seq;
    const int64_t now = SteadyNowNs();
    if (!got_frame_) shed_lag_ms_ = 0;  // this connection's time line has taken it into account
    got_frame_ = true;
    last_frame_ns_.store(now, std::memory_order_relaxed);
    const int64_t pts = src.pts_ms();
    last_pts_ms_ = pts;
    if (max_lag_ms > 0) {
      const int64_t offset_ms = now / 1000000 - pts;
      if (offset_ms < lag_base_ms) {
        lag_base_ms = offset_ms;
      } else if (offset_ms - lag_base_ms > max_lag_ms) {
        lag_loss_ = true;
        shed_lag_ms_ = offset_ms - lag_base_ms;
        throw Error(ErrorCode::kSourceRead, "source",
                    "frames arrive " + std::to_string(offset_ms - lag_base_ms) +
                        " ms behind the camera's clock (reconnect.maxLagMs " + std::to_string(max_lag_ms) +
                        "): dropping the backlog and reconnecting to " + config_.url,
                    "the link (or this machine's decoding) is slower than the stream: lower the camera's bit rate, "
                    "resolution or frame rate, or use its sub-stream");
      }
    }
    TrackCorrupt(src.corrupt(), pts, /*end=*/false);
    input_rate_.Tick(now);
    const int frame_w = src.frame_width(), frame_h = src.frame_height();
    if (frame_w != width_ || frame_h != height_) {
      // Resolution change mid-stream: the letterboxer follows by itself; only the reported size changes.
      std::lock_guard<std::mutex> lock(mu_);
      width_ = frame_w;
      height_ = frame_h;
    }
    if (!sink_.AdmitFrame(pts)) {
      dropped_fps_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const batch::FrameDecision decision =
        config_.infer_frame ? (config_.infer_frame(frame_index_) ? batch::FrameDecision::kInfer
                                                                 : batch::FrameDecision::kSkipInterval)
                            : sink_.Schedule(src, pts);
    if (decision != batch::FrameDecision::kInfer) {
      // Not inferred: no batch image; postprocessed in frame order with the stream's other frames.
      batch::FrameMeta m;
      m.frame_index = frame_index_;
      m.pts_ms = pts;
      m.decoded_at_ns = SteadyNowNs();
      m.wall_ms = WallNowMs();
      m.width = frame_w;
      m.height = frame_h;
      m.input_seq = seq;
      sink_.OnSubmit(src, frame_index_, pts);
      if (!sink_.PassThrough(m, /*block=*/!live)) {
        if (stop_.load()) break;
        dropped_busy_.fetch_add(1, std::memory_order_relaxed);  // live: keep the newest, count what we skip
        continue;
      }
      submitted_.fetch_add(1, std::memory_order_relaxed);
      if (!config_.infer_frame)
        (decision == batch::FrameDecision::kSkipMotion ? skipped_motion_ : skipped_interval_)
            .fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!sink_.AllowInference()) {  // the backend's circuit breaker is open: dropped, counted (cause breaker)
      dropped_breaker_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    const int64_t before_acquire_ns = SteadyNowNs();
    bool no_backend = false;
    batch::SlotLease lease =
        sink_.AcquireImage(/*block=*/!live, src.frame_high_priority(), &no_backend, live ? src.newer_frames() : nullptr);
    if (!lease) {
      if (stop_.load()) break;
      // live: keep the newest, count what we skip; no backend (the breaker's fallback is gone): cause breaker
      (no_backend ? dropped_breaker_ : dropped_busy_).fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // Latency is measured from here for a file, which may have waited for a free slot (backpressure, not latency);
    // for a live stream from before AcquireImage, which returns at once except for a high-priority stream's frame
    // waiting for a position, or a pushed frame waiting until a newer one is pushed (batch/batcher.h): that wait is
    // latency.
    batch::ImageMeta& meta = lease.meta();
    meta.frame.frame_index = frame_index_;
    meta.frame.pts_ms = pts;
    meta.frame.positioned_at_ns = SteadyNowNs();
    meta.frame.decoded_at_ns = live ? before_acquire_ns : meta.frame.positioned_at_ns;
    meta.frame.wall_ms = WallNowMs();
    meta.frame.input_seq = seq;
    // Before the letterbox: an NVDEC frame's surface goes back to the decoder there, and a snapshot copies it down.
    sink_.OnSubmit(src, frame_index_, pts);
    // A throw here drops the lease: its position is committed empty and this stream fails as usual.
    meta.letterbox = src.LetterboxInto(config_.input, lease.input());
    meta.frame.width = meta.letterbox.src_width;
    meta.frame.height = meta.letterbox.src_height;
    submitted_.fetch_add(1, std::memory_order_relaxed);
    lease.Commit();
  }
  count_pool_drops();  // those of the last Next() (end of input, stop, or an error thrown out of it is not counted)
}

void StreamRunner::SetLastError(ErrorCode code, const std::string& reason, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = message;
  last_error_code_ = code;
  last_error_reason_ = reason;
}

bool StreamRunner::TakeEnd(uint64_t accounted, StreamEvent* end) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!eof_ || end_emitted_ || accounted < submitted_.load()) return false;
  end_emitted_ = true;
  end->kind = EventKind::kEnd;
  end->stream = config_.handle;
  end->state = state_;
  end->message = last_error_;
  return true;
}

RunnerStats StreamRunner::Stats(int64_t now) const {
  RunnerStats st;
  {
    std::lock_guard<std::mutex> lock(mu_);
    st.state = state_;
    st.codec = codec_;
    st.decoder = decoder_;
    st.last_error = last_error_;
    st.last_error_reason = last_error_reason_;
    st.last_error_code = last_error_code_;
    st.width = width_;
    st.height = height_;
    st.nominal_fps = nominal_fps_;
    st.source = base_;
    if (source_) {
      const FrameSourceCounters c = source_->counters();
      st.source.packets += c.packets;
      st.source.decoded += c.decoded;
      st.source.corrupt += c.corrupt;
    }
  }
  const int64_t last_frame = last_frame_ns_.load();
  const bool is_live = st.state == StreamState::kLive;
  st.frame_age_ms = is_live && last_frame > 0 ? (now - last_frame) / 1000000 : -1;
  st.input_fps = is_live ? input_rate_.PerSecond(now) : 0;
  st.reconnect_attempts = reconnect_attempts_.load();
  st.reconnects = reconnects_.load();
  st.submitted = submitted_.load();
  st.dropped_busy = dropped_busy_.load();
  st.dropped_breaker = dropped_breaker_.load();
  st.dropped_fps = dropped_fps_.load();
  st.dropped_decoder_pool = dropped_decoder_pool_.load();
  st.skipped_interval = skipped_interval_.load();
  st.skipped_motion = skipped_motion_.load();
  return st;
}

}  // namespace camtrack::ingest
