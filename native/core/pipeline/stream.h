#pragma once
// Stream: one stream of the pipeline — its configuration and the per-stream state of each stage, each part owned by
// one thread:
//   - the StreamRunner (core/ingest): the source thread, its connection state and ingest counters;
//   - the batcher's Contender base (core/batch): fairness bookkeeping, guarded by the batcher;
//   - StreamPost: the postprocess thread's tracker, post-track stages, inference health, delivery counters, and the
//     queue of frames that are passed through without inference (shared with the source thread under its mutex).
// It is the runner's FrameSink: the glue from a source thread to the batcher (image leases) and to the postprocess
// thread (pass-through frames), and the end check that needs both.
//
// Lifetime: shared (shared_ptr) by the pipeline's stream registry, by its images in flight (batch::ImageMeta::owner)
// and by the postprocess thread's wake list; the services it uses are the pipeline's and outlive it.
#include "core/infer/breaker.h"
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/batch/batcher.h"
#include "core/batch/motion.h"
#include "core/batch/schedule.h"
#include "core/common/meters.h"
#include "core/ingest/stream_runner.h"
#include "core/pipeline/config.h"
#include "core/pipeline/stats.h"
#include "core/snapshot/snapshot_slot.h"
#include "core/track/tracker.h"

namespace camtrack::pipeline {

class Postprocessor;
class ResultRing;
class StatsRegistry;

// The pipeline's services a stream uses.
struct StreamServices {
  batch::Batcher* batcher = nullptr;
  ResultRing* ring = nullptr;
  Postprocessor* post = nullptr;
  StatsRegistry* stats = nullptr;
  ingest::ReconnectPacer* pacer = nullptr;
  const ModelConfig* model = nullptr;
  const IngestConfig* ingest = nullptr;
  infer::CircuitBreaker* breaker = nullptr;  // the backend's (Pipeline::breaker_)
  bool breaker_fallback = false;              // frames the breaker refuses go to the fallback pool
};

// Frames not inferred, in frame order, waiting until every earlier inferred frame of their stream is postprocessed.
// A fixed ring: pushing and popping never allocates.
class PassThroughQueue {
 public:
  static constexpr size_t kCapacity = 16;
  bool empty() const noexcept { return count_ == 0; }
  bool full() const noexcept { return count_ == kCapacity; }
  const batch::FrameMeta& front() const noexcept { return items_[head_]; }
  void push(const batch::FrameMeta& m) noexcept {
    items_[(head_ + count_) % kCapacity] = m;
    ++count_;
  }
  void pop() noexcept {
    head_ = (head_ + 1) % kCapacity;
    --count_;
  }
  void clear() noexcept { head_ = count_ = 0; }

 private:
  std::array<batch::FrameMeta, kCapacity> items_{};
  size_t head_ = 0, count_ = 0;
};

// The postprocess thread's state of one stream.
struct StreamPost {
  std::vector<std::shared_ptr<PostTrackStage>> stages;  // seam d, in order
  uint64_t failed_batch = UINT64_MAX;  // seq of the last failed batch counted for this stream
  // Inference outage (Postprocessor::InferenceFailed): failed batches and frames since it started, and when.
  uint64_t outage_batches = 0, outage_frames = 0;
  int64_t outage_start_ns = 0;

  // Written by the postprocess thread, read by stats.
  std::atomic<uint64_t> delivered{0}, dropped_inference{0};
  // The breaker's fallback: delivered frames it inferred, and submitted frames lost with its failed batches (these
  // are dropped with cause breaker: dropped.breaker counts them too).
  std::atomic<uint64_t> fallback_delivered{0}, fallback_failed{0};
  std::atomic<int64_t> last_age_ms{-1};
  RateMeter delivered_rate;
  LatencyHistogram latency;  // guarded by the StatsRegistry
  // Failing from a failed batch of this stream until one of its frames is delivered again.
  std::atomic<bool> inference_failing{false};
  std::atomic<uint64_t> inference_failed_batches{0}, inference_consecutive{0};

  // Guarded by mu.
  mutable std::mutex mu;
  std::string inference_error;  // the error that started the current (or last) inference outage
  PassThroughQueue pass_through;
  int in_flight = 0;  // inferred frames with a batch image that the postprocess thread has not finished
  bool wake_queued = false;  // in the Postprocessor's wake list
  std::condition_variable room_cv;  // a file source waits here for room in pass_through
};

class Stream final : public batch::Contender,
                     public ingest::FrameSink,
                     public std::enable_shared_from_this<Stream> {
 public:
  // `config.source.live` already resolved (kLive / kFile) to `live`.
  Stream(int32_t handle, StreamConfig config, bool live, const StreamServices& services);
  ~Stream() override;

  const int32_t handle;
  const StreamConfig config;
  const bool live;
  std::atomic<bool> removed{false};
  // fps gate (source thread), detection filter and tracker (postprocess thread); set at construction (throws
  // Error(kInvalidArgument) for an unusable config) and by Pipeline::ConfigureStream.
  LiveConfigState live_state;
  StreamPost post;
  // The on-demand snapshot (requested by JS, taken by the source thread, boxes drawn by the postprocess thread).
  snapshot::SnapshotSlot snapshot;

  void Start() { runner_->Start(); }
  // Pushed streams (config.push): the stream's queue of pushed frames (push_frame_source.h); null otherwise.
  const std::shared_ptr<ingest::PushInput>& push_input() const noexcept { return push_input_; }
  // Any thread: the source thread stops at once (its reads, waits for a batch image or for room are interrupted).
  void RequestStop();
  void Join() { runner_->Join(); }
  ingest::StreamRunner& runner() { return *runner_; }

  // Emits the stream's 'end' once its final state is out and every submitted frame is delivered or dropped (and not
  // when it was removed). Any thread; idempotent.
  void MaybeEmitEnd();
  StreamStatsSnapshot Snapshot(int64_t now_ns) const;

  // ingest::FrameSink (source thread).
  void OnEvent(ingest::StreamEvent ev) override;
  void OnOpened(double source_fps) override;
  bool AdmitFrame(int64_t pts_ms) override { return live_state.AdmitFrame(pts_ms); }
  batch::SlotLease AcquireImage(bool block, bool high_frame, bool* no_backend,
                                const std::atomic<uint64_t>* newer) override;
  bool PassThrough(const batch::FrameMeta& frame, bool block) override;
  batch::FrameDecision Schedule(ingest::FrameSource& src, int64_t pts_ms) override;
  bool AllowInference() override;
  void OnSubmit(ingest::FrameSource& src, int64_t frame_index, int64_t pts_ms) override;
  void OnFinished() override;
  // The snapshot is ready: tells the consumer (EventKind::kSnapshot). Any pipeline thread.
  void SnapshotReady(int64_t frame_index);

 private:
  // Source thread only: the inference schedule (interval, motion gating) and the motion measure's state.
  batch::InferenceSchedule schedule_;
  batch::MotionDetector motion_;
  bool motion_measured_ = false;  // the previous frame was measured (else the background restarts)
  batch::Pool pool_ = batch::Pool::kPrimary;  // AllowInference's choice for the current frame

  const StreamServices svc_;
  std::shared_ptr<ingest::PushInput> push_input_;  // before runner_: the source thread uses it
  std::unique_ptr<ingest::StreamRunner> runner_;  // last: its thread is joined before anything above goes
};

}  // namespace camtrack::pipeline
