#include "core/pipeline/postprocess.h"

#include <cstdio>

#include "core/common/clock.h"
#include "core/common/redact.h"
#include "core/pipeline/result_ring.h"
#include "core/pipeline/stats_registry.h"
#include "core/pipeline/stream.h"

namespace camtrack::pipeline {

Postprocessor::Postprocessor(const ModelConfig& model, batch::Batcher& batcher, ResultRing& ring,
                             StatsRegistry& stats, infer::CircuitBreaker& breaker)
    : model_(model), batcher_(batcher), ring_(ring), stats_(stats), breaker_(breaker) {
  parser_ = std::make_unique<postprocess::OutputParser>(model_.parser);
  scratch_dets_.reserve(model_.parser.max_detections);
  end_check_.reserve(model_.batch_size);
  batch_latencies_.reserve(model_.batch_size);
  wake_list_.reserve(64);
  woken_.reserve(64);
}

Postprocessor::~Postprocessor() { Join(); }

void Postprocessor::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Postprocessor::Join() {
  if (thread_.joinable()) thread_.join();
}

void Postprocessor::Wake(std::shared_ptr<Stream> stream) {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    wake_list_.push_back(std::move(stream));  // grows only past the high-water mark of streams
  }
  wake_.store(true);
  batcher_.Wake();
}

void Postprocessor::Loop() {
  for (;;) {
    batch::Slot* sl = nullptr;
    const batch::Batcher::Next next = batcher_.WaitNext(&sl, wake_);
    if (next == batch::Batcher::Next::kClosed) break;
    if (next == batch::Batcher::Next::kWoken) {
      HandleWakes();
      continue;
    }
    if (sl->committed > 0) ProcessBatch(*sl);  // 0: closed empty
    batcher_.Release(*sl);
    // A stream's 'end' goes out only after its last batch slot is free again, so a caller that sees the end and
    // reads stats() finds nothing of it in flight.
    for (const auto& sp : end_check_) sp->MaybeEmitEnd();
    end_check_.clear();
  }
}

void Postprocessor::HandleWakes() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    woken_.swap(wake_list_);
    wake_.store(false);
  }
  int delivered = 0;
  for (const auto& sp : woken_) {
    {
      // Cleared before the flush: a frame queued from now on wakes this thread again.
      std::lock_guard<std::mutex> lock(sp->post.mu);
      sp->post.wake_queued = false;
    }
    delivered += FlushPassThrough(*sp, INT64_MIN);
    sp->MaybeEmitEnd();
  }
  woken_.clear();
  ring_.NotifyDelivered(delivered > 0);
}

int Postprocessor::FlushPassThrough(Stream& s, int64_t before) {
  int delivered = 0;
  for (;;) {
    batch::FrameMeta m;
    {
      std::lock_guard<std::mutex> lock(s.post.mu);
      PassThroughQueue& q = s.post.pass_through;
      if (q.empty()) break;
      if (s.removed.load()) {
        q.clear();
      } else {
        // Its turn: every inferred frame of the stream before it is through (none in flight, or the next one in
        // flight comes after it).
        if (s.post.in_flight > 0 && q.front().frame_index >= before) break;
        m = q.front();
        q.pop();
      }
    }
    s.post.room_cv.notify_all();
    if (s.removed.load()) break;
    FrameResult* r = ring_.Acquire();
    if (!r) {  // shutdown
      s.post.dropped_inference.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    try {
      r->detections.clear();
      Complete(s, r, m, /*inferred=*/false);
      ++delivered;
    } catch (const std::exception& e) {
      Failed(s, m.frame_index, r, e);
    }
  }
  return delivered;
}

void Postprocessor::BreakerMoved(const infer::BreakerTransition& t) {
  stats_.RecordBreakerTransition(t.reason);
  ingest::StreamEvent ev;  // rare (a transition): allocating here is fine
  ev.kind = ingest::EventKind::kBreaker;
  ev.reason = t.reason;
  ev.message = t.message;
  ev.breaker_from = infer::BreakerStateName(t.from);
  ev.breaker_to = infer::BreakerStateName(t.to);
  ring_.PushEvent(std::move(ev));
}

void Postprocessor::ProcessBatch(batch::Slot& sl) {
  const double infer_ms = double(sl.completed_ns - sl.submitted_ns) / 1e6;
  int delivered = 0;
  batch_latencies_.clear();  // capacity batch_size (reserved): no allocation
  bool batch_ok = sl.ok;  // for the breaker: also false when the worker was gone before its results were read
  // A batch of the breaker's fallback backend (inference.breaker.fallback): its frames are delivered as any others,
  // but it never feeds the breaker (the primary's probe decides), the batch controller or the primary's counters,
  // and a failure costs its frames with cause breaker, not the stream's inference health.
  const bool fallback = sl.pool == batch::Pool::kFallback;
  int fallback_delivered = 0;
  for (int i = 0; i < sl.committed; ++i) {
    batch::ImageMeta& meta = sl.images[i];
    std::shared_ptr<Stream> sp = std::static_pointer_cast<Stream>(std::move(meta.owner));
    if (!sp) continue;
    Stream& s = *sp;
    // The stream's frames passed through without inference before this one go first (frame order).
    delivered += FlushPassThrough(s, meta.frame.frame_index);
    if (!s.removed.load()) end_check_.push_back(sp);
    if (!meta.empty && !s.removed.load()) {  // empty: its letterbox failed (the lease committed it empty)
      if (!sl.ok) {
        if (fallback) {
          FallbackFailed(s);
        } else {
          InferenceFailed(s, sl.seq, sl.error);
        }
      } else {
        FrameResult* r = nullptr;
        try {
          switch (DeliverImage(sl, i, s, &r)) {
            case Delivery::kDelivered:
              ++delivered;
              if (fallback) {
                ++fallback_delivered;
                s.post.fallback_delivered.fetch_add(1, std::memory_order_relaxed);
              } else if (s.post.inference_failing.load(std::memory_order_relaxed)) {
                InferenceRecovered(s);
              }
              break;
            case Delivery::kNoResult:
              break;
            case Delivery::kWorkerGone:
              batch_ok = false;
              if (fallback) {
                FallbackFailed(s);
              } else {
                InferenceFailed(s, sl.seq, "its inference worker exited before the results were read");
              }
              break;
          }
        } catch (const std::exception& e) {
          // A parser, tracker or stage failure (an internal error: LAPJV not converging, bad_alloc) costs this
          // frame, not the process: an uncaught exception here would std::terminate every stream.
          Failed(s, meta.frame.frame_index, r, e);
        }
      }
    }
    bool clear;
    {
      std::lock_guard<std::mutex> lock(s.post.mu);
      clear = --s.post.in_flight == 0 && !s.post.pass_through.empty();
    }
    if (clear) delivered += FlushPassThrough(s, INT64_MIN);
  }
  if (fallback) {
    stats_.RecordFallbackBatch(batch_ok, fallback_delivered);
    ring_.NotifyDelivered(delivered > 0);
    return;
  }
  stats_.RecordBatch(sl.committed, sl.ok, sl.error, infer_ms);
  // The adaptive batch controller (batching.targetLatencyMs): only batches that were inferred tell it anything.
  if (sl.ok) batcher_.RecordBatch(sl.committed, infer_ms, batch_latencies_.data(), int(batch_latencies_.size()));
  // The backend's breaker: a failed batch (backend error, a retired worker's batch) counts against it.
  infer::BreakerTransition t;
  bool changed = false;
  static const std::string kWorkerGone = "its inference worker exited before the results were read";
  breaker_.OnBatch(batch_ok, SteadyNowNs() / 1000000, sl.ok ? kWorkerGone : sl.error, &t, &changed);
  if (changed) BreakerMoved(t);
  ring_.NotifyDelivered(delivered > 0);  // one wake-up of JS per batch
}

void Postprocessor::Failed(Stream& s, int64_t frame_index, FrameResult* r, const std::exception& e) {
  if (r) ring_.GiveBack(r);
  s.post.dropped_inference.fetch_add(1, std::memory_order_relaxed);
  const Error* ce = dynamic_cast<const Error*>(&e);
  ring_.PushEvent(ingest::MakeStreamEvent(
      ingest::EventKind::kWarning, s.handle, s.config.source.url, ce ? ce->code() : ErrorCode::kInternal, "internal",
      "postprocessing failed, frame " + std::to_string(frame_index) + " dropped: " + e.what(),
      ce && !ce->hint().empty() ? ce->hint() : "this is a bug in camtrack; please report it with the message", 0));
}

void Postprocessor::FallbackFailed(Stream& s) {
  s.post.fallback_failed.fetch_add(1, std::memory_order_relaxed);
  stats_.RecordBreakerDrop();
}

void Postprocessor::InferenceFailed(Stream& s, uint64_t seq, const std::string& why) {
  StreamPost& p = s.post;
  p.dropped_inference.fetch_add(1, std::memory_order_relaxed);
  if (p.failed_batch != seq) {  // batches are counted once per stream
    p.failed_batch = seq;
    p.inference_failed_batches.fetch_add(1, std::memory_order_relaxed);
    p.inference_consecutive.fetch_add(1, std::memory_order_relaxed);
    if (!p.inference_failing.exchange(true)) {
      p.outage_batches = p.outage_frames = 0;
      p.outage_start_ns = SteadyNowNs();
      ingest::StreamEvent ev = ingest::MakeStreamEvent(
          ingest::EventKind::kWarning, s.handle, s.config.source.url, ErrorCode::kInference, "inference_failing",
          "inference is failing, this stream's frames are dropped until it recovers: " + why,
          "check the model and the execution provider; stats().inference counts the failures, and one warning "
          "follows when inference recovers",
          0);
      {
        std::lock_guard<std::mutex> lock(p.mu);
        p.inference_error = RedactIn(why, s.config.source.url);
      }
      s.runner().SetLastError(ErrorCode::kInference, "inference", ev.message);
      ring_.PushEvent(std::move(ev));
    }
    ++p.outage_batches;
  }
  ++p.outage_frames;
}

void Postprocessor::InferenceRecovered(Stream& s) {
  StreamPost& p = s.post;
  p.inference_failing.store(false);
  p.inference_consecutive.store(0);
  std::string first_error;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    first_error = p.inference_error;
  }
  char counts[160];
  std::snprintf(counts, sizeof(counts), "inference recovered after %llu failed batches (%llu frames dropped) in %.1f s",
                static_cast<unsigned long long>(p.outage_batches), static_cast<unsigned long long>(p.outage_frames),
                double(SteadyNowNs() - p.outage_start_ns) / 1e9);
  ring_.PushEvent(ingest::MakeStreamEvent(ingest::EventKind::kWarning, s.handle, s.config.source.url,
                                          ErrorCode::kInference, "inference_recovered",
                                          std::string(counts) + "; it had started with: " + first_error, {}, 0));
}

Postprocessor::Delivery Postprocessor::DeliverImage(batch::Slot& sl, int i, Stream& s, FrameResult** out) {
  const batch::ImageMeta& meta = sl.images[i];
  // The output buffer belongs to the worker: read only while it is known alive (Batcher::RetireWorker).
  if (!batcher_.ReadOutput(sl, i, [&](const float* output) { parser_->Parse(output, meta.letterbox, scratch_dets_); }))
    return Delivery::kWorkerGone;
  FrameResult* r = ring_.Acquire(sl.gone);
  if (!r) {
    s.post.dropped_inference.fetch_add(1, std::memory_order_relaxed);
    return Delivery::kNoResult;
  }
  *out = r;
  r->detections.assign(scratch_dets_.begin(), scratch_dets_.end());
  Complete(s, r, meta.frame, /*inferred=*/true, /*fallback=*/sl.pool == batch::Pool::kFallback);
  *out = nullptr;  // handed over: nothing to give back from here on
  return Delivery::kDelivered;
}

void Postprocessor::Complete(Stream& s, FrameResult* r, const batch::FrameMeta& frame, bool inferred, bool fallback) {
  r->stream = s.handle;
  r->frame_index = frame.frame_index;
  r->input_seq = frame.input_seq;
  r->pts_ms = frame.pts_ms;
  r->decoded_at_ns = frame.decoded_at_ns;
  r->wall_ms = frame.wall_ms;
  r->width = frame.width;
  r->height = frame.height;
  r->inferred = inferred;
  r->fallback = fallback;
  r->track_events.clear();
  r->annotations.clear();
  // The stream's detection options, then its tracker (a frame that was not inferred is not a miss: the tracker
  // predicts and keeps its tracks, Tracker::Predict).
  s.live_state.Postprocess(r->detections, r->width, r->height, inferred, r->tracks, r->track_events);
  // Analytics (lines, zones, speed) over the tracks, on the frame's timestamp; its vectors live in the pooled result.
  analytics::AnalyticsEngine* analytics = s.live_state.analytics();
  r->has_analytics = analytics != nullptr;
  if (analytics) analytics->Update(r->tracks.data(), r->tracks.size(), r->pts_ms, inferred, &r->analytics);
  if (!s.post.stages.empty()) {
    PostTrackFrame f;
    f.stream = s.handle;
    f.frame_index = frame.frame_index;
    f.pts_ms = frame.pts_ms;
    f.inferred = inferred;
    f.detections = r->detections.data();
    f.num_detections = r->detections.size();
    f.tracks = r->tracks.data();
    f.num_tracks = r->tracks.size();
    for (const auto& stage : s.post.stages) {
      FrameOutput out(r->annotations, stage->name());
      stage->OnFrame(f, out);
    }
  }
  if (s.snapshot.captured() &&
      s.snapshot.OnResult(r->frame_index, r->detections.data(), r->detections.size(), r->tracks.data(), r->tracks.size()))
    s.SnapshotReady(r->frame_index);
  r->done_at_ns = SteadyNowNs();
  const double latency_ms = double(r->done_at_ns - r->decoded_at_ns) / 1e6;
  s.post.last_age_ms.store(int64_t(latency_ms), std::memory_order_relaxed);
  s.post.delivered_rate.Tick(r->done_at_ns);
  stats_.RecordLatency(latency_ms, s.post.latency);
  // The batch controller steers what batching adds: from the frame's batch position to its result. A wait for the
  // position (a pushed live frame waits until superseded, a high one up to the starvation bound) is overload, which
  // a larger cap relieves rather than adds to (the cap grows on scarcity); counted in, it shrank the cap at every
  // overload, down to 1 (16 cameras in bench/batching.mjs: 132.9 frames/s against fixed-2's 158.2).
  if (inferred && batch_latencies_.size() < batch_latencies_.capacity())
    batch_latencies_.push_back(frame.positioned_at_ns > 0 ? double(r->done_at_ns - frame.positioned_at_ns) / 1e6
                                                           : latency_ms);
  ring_.Publish(r);
  s.post.delivered.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace camtrack::pipeline

namespace camtrack::pipeline {

// Out of line so the vtable has one home (the core static library).
PostTrackStage::~PostTrackStage() = default;

}  // namespace camtrack::pipeline
