#include "core/pipeline/stream.h"

#include <algorithm>

#include "core/common/clock.h"
#include "core/common/redact.h"
#include "core/pipeline/postprocess.h"
#include "core/pipeline/result_ring.h"
#include "core/pipeline/stats_registry.h"

namespace camtrack::pipeline {

Stream::Stream(int32_t handle_in, StreamConfig config_in, bool live_in, const StreamServices& services)
    : handle(handle_in), config(std::move(config_in)), live(live_in), svc_(services) {
  live_state.Set(config.live_config);
  post.stages = config.post_track_stages;
  ingest::RunnerConfig rc;
  rc.handle = handle;
  rc.url = config.source.url;
  rc.live = live;
  rc.reconnect = config.reconnect;
  rc.input = svc_.model->input;
  rc.infer_frame = config.infer_frame;
  std::unique_ptr<ingest::FrameSourceFactory> factory;
  if (config.push) {
    // Frames pushed from JS: one connection for the stream's life (it ends with end(), never reconnects).
    push_input_ = std::make_shared<ingest::PushInput>(*config.push);
    push_input_->SetDrainCallback([this] {
      ingest::StreamEvent ev;
      ev.kind = ingest::EventKind::kDrain;
      ev.stream = handle;
      svc_.ring->PushEvent(std::move(ev));
    });
    // A live stream's frame waiting for a batch position is superseded by the next push (Batcher::Acquire).
    if (config.push->live) push_input_->SetPushCallback([this] { svc_.batcher->NewerFrame(*this); });
    rc.single_connection = true;
    factory = std::make_unique<ingest::PushFrameSourceFactory>(push_input_, svc_.model->input);
  } else {
    factory = std::make_unique<ingest::AvFrameSourceFactory>(config.source, config.decode, svc_.ingest->decode_device);
  }
  runner_ = std::make_unique<ingest::StreamRunner>(std::move(rc), std::move(factory), *svc_.pacer, *this);
}

void Stream::OnFinished() {
  // A pushed stream that ended, failed or stopped takes no more frames; frames still queued are released.
  if (push_input_) push_input_->Close();
  MaybeEmitEnd();
}

Stream::~Stream() = default;

void Stream::RequestStop() {
  runner_->RequestStop();
  // After the runner's flag: a source thread that finds its Acquire cancelled checks that flag next.
  svc_.batcher->Cancel(*this);
  { std::lock_guard<std::mutex> lock(post.mu); }  // PassThrough checks the flag under post.mu: no lost wake-up
  post.room_cv.notify_all();
}

void Stream::OnEvent(ingest::StreamEvent ev) { svc_.ring->PushEvent(std::move(ev)); }

void Stream::OnSubmit(ingest::FrameSource& src, int64_t frame_index, int64_t pts_ms) {
  if (!snapshot.requested()) return;  // the per-frame cost while nobody asks
  if (snapshot.Capture(src.SnapshotFrame(), src.frame_width(), src.frame_height(), frame_index, pts_ms))
    SnapshotReady(frame_index);
}

void Stream::SnapshotReady(int64_t frame_index) {
  ingest::StreamEvent ev;
  ev.kind = ingest::EventKind::kSnapshot;
  ev.stream = handle;
  ev.frame = frame_index;
  svc_.ring->PushEvent(std::move(ev));
}

void Stream::OnOpened(double source_fps) {
  // The tracker converts trackBufferSeconds with it; it is created (and kept across reconnects, so ids continue) by
  // the postprocess thread at the stream's first frame (LiveConfigState::Postprocess).
  live_state.SetSourceFps(source_fps);
  // A new connection: its first frame is inferred and the motion background starts again.
  schedule_.Reset();
  motion_.Reset();
}

batch::FrameDecision Stream::Schedule(ingest::FrameSource& src, int64_t pts_ms) {
  uint64_t version = 0;
  const LiveConfig& c = live_state.SourceConfig(&version);
  bool motion = true;  // a frame the motion measure cannot see counts as moving
  if (c.motion.enabled) {
    // Turned on (again) after frames without it: the background starts from this frame.
    if (!motion_measured_) motion_.Reset();
    uint8_t* thumb = motion_.Prepare(src.frame_width(), src.frame_height());
    motion_measured_ = src.GrayThumbnail(motion_.width(), motion_.height(), thumb);
    if (motion_measured_) motion = motion_.Measure(c.motion, version).motion;
  } else {
    motion_measured_ = false;
  }
  return schedule_.Decide(c.schedule(), pts_ms, motion);
}

bool Stream::AllowInference() {
  infer::BreakerTransition t;
  bool changed = false;
  const bool allow = svc_.breaker->AllowFrame(SteadyNowNs() / 1000000, &t, &changed);
  if (changed) svc_.post->BreakerMoved(t);
  // Refused (open, or half-open with the probe's frames taken): to the fallback backend when there is one. The
  // primary's probe alone decides when the breaker closes.
  pool_ = allow ? batch::Pool::kPrimary : batch::Pool::kFallback;
  if (!allow && !svc_.breaker_fallback) {
    svc_.stats->RecordBreakerDrop();
    return false;
  }
  return true;
}

batch::SlotLease Stream::AcquireImage(bool block, bool high_frame, bool* no_backend,
                                      const std::atomic<uint64_t>* newer) {
  batch::SlotLease lease = svc_.batcher->Acquire(block, *this, pool_, no_backend, high_frame, newer);
  if (*no_backend) svc_.stats->RecordBreakerDrop();  // the fallback has no worker (left): cause breaker
  if (lease) {
    lease.meta().owner = shared_from_this();
    // Counted before the image can reach the postprocess thread (which uncounts it there): a pass-through frame
    // queued after this one must wait for it.
    std::lock_guard<std::mutex> lock(post.mu);
    ++post.in_flight;
  }
  return lease;
}

bool Stream::PassThrough(const batch::FrameMeta& frame, bool block) {
  bool wake = false;
  {
    std::unique_lock<std::mutex> lock(post.mu);
    while (post.pass_through.full()) {
      if (!block || runner_->stopping()) return false;
      post.room_cv.wait(lock);
    }
    if (runner_->stopping()) return false;
    post.pass_through.push(frame);
    // With an inferred frame of this stream still in flight, the postprocess thread takes this one right after it;
    // else it must be woken for it.
    wake = post.in_flight == 0 && !post.wake_queued;
    if (wake) post.wake_queued = true;
  }
  if (wake) svc_.post->Wake(shared_from_this());
  return true;
}

void Stream::MaybeEmitEnd() {
  const uint64_t accounted = post.delivered.load() + post.dropped_inference.load() + post.fallback_failed.load();
  ingest::StreamEvent end;
  if (runner_->TakeEnd(accounted, &end) && !removed.load()) svc_.ring->PushEvent(std::move(end));
}

StreamStatsSnapshot Stream::Snapshot(int64_t now) const {
  const ingest::RunnerStats r = runner_->Stats(now);
  StreamStatsSnapshot st;
  st.id = config.id;
  st.url = RedactUrl(config.source.url);
  st.live = live;
  st.state = r.state;
  st.codec = r.codec;
  st.decoder = r.decoder;
  st.last_error = r.last_error;
  st.last_error_reason = r.last_error_reason;
  st.last_error_code = r.last_error_code;
  st.width = r.width;
  st.height = r.height;
  st.nominal_fps = r.nominal_fps;
  st.packets = r.source.packets;
  st.decoded = r.source.decoded;
  st.corrupt = r.source.corrupt;
  {
    std::lock_guard<std::mutex> lock(post.mu);
    st.inference_error = post.inference_error;
  }
  st.latency = svc_.stats->StreamLatency(post.latency);
  st.frame_age_ms = r.frame_age_ms;
  st.input_fps = r.input_fps;
  st.fps = post.delivered_rate.PerSecond(now);
  st.reconnect_attempts = r.reconnect_attempts;
  st.reconnects = r.reconnects;
  st.submitted = r.submitted;
  st.delivered = post.delivered.load();
  st.dropped_busy = r.dropped_busy;
  st.dropped_fps_limit = r.dropped_fps;
  st.dropped_inference = post.dropped_inference.load();
  st.dropped_breaker = r.dropped_breaker + post.fallback_failed.load();
  st.fallback_frames = post.fallback_delivered.load();
  st.fallback_failed = post.fallback_failed.load();
  st.dropped_decoder_pool = r.dropped_decoder_pool;
  st.skipped_interval = r.skipped_interval;
  st.skipped_motion = r.skipped_motion;
  st.inference_failing = post.inference_failing.load();
  st.inference_failed_batches = post.inference_failed_batches.load();
  st.inference_consecutive_failures = post.inference_consecutive.load();
  st.decoded += st.dropped_decoder_pool;  // decoded by NVDEC, dropped before the source thread saw them
  st.last_frame_age_ms = post.last_age_ms.load();
  if (push_input_) {
    st.push = true;
    st.push_stats = push_input_->Stats();
  }
  return st;
}

}  // namespace camtrack::pipeline
