#pragma once
// StreamRunner: the source thread of one stream. It connects through the stream's FrameSourceFactory, reads
// frames, applies the fps limit, letterboxes each frame into a batch image its FrameSink lends it (or passes it on
// without inference), and runs the reconnect state machine around that:
//
//   connecting ─open ok→ live ─loss (error, EOF, stall)→ stalled → reconnecting ─open ok→ live …
//   a failed first connect goes connecting → reconnecting; after max_attempts consecutive failures (a decoded
//   frame resets the count) the stream ends: 'failed', or 'ended' when the last loss was a clean EOF.
//   Files (and failures another connection cannot help) do not reconnect: EOF ends, an error fails.
//
// Each wait is backoff (exponential, jittered) followed by a token of the pipeline-wide reconnect pacer; both are
// interrupted at once by RequestStop(). frame_index and pts continue across reconnects. The stall watchdog is the
// source's (a live connection is opened with the policy's stall timeout, which bounds its blocking reads); its
// failure ("stalled") is a loss like any other. Damaged input is collected into bursts, one warning each.
//
// Threads: the source thread (owned here) runs everything above; RequestStop(), the stats and the end check are
// called from other threads and read what is guarded by the runner's mutex or kept in atomics.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/batch/schedule.h"
#include "core/batch/slot_lease.h"
#include "core/ingest/frame_source.h"
#include "core/ingest/reconnect.h"
#include "core/ingest/stream_event.h"
#include "core/common/meters.h"
#include "core/preprocess/letterbox.h"

namespace camtrack::ingest {

// Where a runner's frames and events go: the pipeline, one sink per stream. Called on the runner's source thread.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void OnEvent(StreamEvent ev) = 0;
  // A connection is open and about to deliver frames (`source_fps`: its nominal rate, 0 when unknown).
  virtual void OnOpened(double source_fps) = 0;
  // Whether the decoded frame at `pts_ms` goes on (false: dropped, counted as dropped.fpsLimit): the stream's fps
  // limit, which may change while it runs (pipeline/live_config.h). Source thread, once per decoded frame.
  virtual bool AdmitFrame(int64_t pts_ms) = 0;
  // A batch image for the next frame, from the backend AllowInference() chose for it. Empty when there is none:
  // `block` (files) waits for one and returns empty only when stopping; live returns at once. Empty with
  // *no_backend set: the chosen backend has no worker (the breaker's fallback is gone): dropped, cause breaker.
  // Throws Error(kInference) when no primary inference worker is left.
  // `high_frame`: the frame has priority 'high' of its own (FrameSource::frame_high_priority). `newer` (live pushed
  // streams: FrameSource::newer_frames): the frame waits for a position until a newer one is queued (Batcher::Acquire).
  virtual batch::SlotLease AcquireImage(bool block, bool high_frame, bool* no_backend,
                                        const std::atomic<uint64_t>* newer = nullptr) = 0;
  // A frame that is not inferred, to be postprocessed in frame order. False when it cannot be taken: `block`
  // (files) waits for room and returns false only when stopping; live returns false when full.
  virtual bool PassThrough(const batch::FrameMeta& frame, bool block) = 0;
  // Whether the current frame of `src` (admitted by AdmitFrame, at `pts_ms`) is inferred or skipped, and why: the
  // stream's inference interval and motion gating (batch/schedule.h). Source thread, once per admitted frame; no
  // allocation in steady state. Not called when RunnerConfig::infer_frame is set.
  virtual batch::FrameDecision Schedule(FrameSource& src, int64_t pts_ms) {
    (void)src;
    (void)pts_ms;
    return batch::FrameDecision::kInfer;
  }
  // The current frame of `src` goes on to postprocess (about to be passed through or committed to its batch image):
  // the stream's snapshot request, if any, takes it (snapshot/snapshot_slot.h). Source thread; one atomic load
  // per frame while nobody asks.
  // A frame wants inference: false drops it (counted as dropped.breaker: the backend's circuit breaker is open and
  // there is no fallback). True: it goes on to AcquireImage (on the primary backend, or on the breaker's fallback:
  // the sink remembers which). Source thread; a short lock per frame, no allocation.
  virtual bool AllowInference() { return true; }
  virtual void OnSubmit(FrameSource& src, int64_t frame_index, int64_t pts_ms) {
    (void)src;
    (void)frame_index;
    (void)pts_ms;
  }
  // The final state was reported; nothing more will come from this runner.
  virtual void OnFinished() = 0;
};

struct RunnerConfig {
  int32_t handle = -1;
  std::string url;  // for messages (redacted)
  bool live = false;
  ReconnectPolicy reconnect;
  // One connection only (pushed frames): its end ends the stream and its failure fails it, live or not; no
  // reconnect, no backoff.
  bool single_connection = false;
  preprocess::ModelInputSpec input;  // the batch images' geometry
  // Which frames are inferred, by frame index (a test seam): null = FrameSink::Schedule() decides (the stream's
  // interval and motion gating); else a frame for which it returns false is passed through without inference
  // (FrameSink::PassThrough). Called on the source thread. Only native tests and the sanitizer driver set it.
  std::function<bool(int64_t frame_index)> infer_frame;
};

// What the stats of a stream take from its runner.
struct RunnerStats {
  StreamState state = StreamState::kConnecting;
  std::string codec, last_error, last_error_reason;
  const char* decoder = "cpu";
  ErrorCode last_error_code = ErrorCode::kInternal;
  int width = 0, height = 0;
  double nominal_fps = 0;
  FrameSourceCounters source;  // all connections
  uint64_t submitted = 0, dropped_busy = 0, dropped_fps = 0, dropped_decoder_pool = 0;
  uint64_t dropped_breaker = 0;  // wanted inference while FrameSink::AllowInference() said no
  uint64_t skipped_interval = 0, skipped_motion = 0;  // submitted without inference, by FrameSink::Schedule()
  uint64_t reconnect_attempts = 0, reconnects = 0;
  double input_fps = 0;        // while live
  int64_t frame_age_ms = -1;   // while live
};

class StreamRunner {
 public:
  StreamRunner(RunnerConfig config, std::unique_ptr<FrameSourceFactory> factory, ReconnectPacer& pacer,
               FrameSink& sink);
  ~StreamRunner();  // RequestStop() + Join()
  StreamRunner(const StreamRunner&) = delete;
  StreamRunner& operator=(const StreamRunner&) = delete;

  void Start();
  // Any thread: stop at once (interrupts a blocked open/read and any backoff or pacer sleep). Idempotent.
  void RequestStop();
  void Join();
  bool stopping() const noexcept { return stop_.load(); }
  // Any thread. Delivery credit (src/delivery.ts): while paused, a file stream's source thread waits before its next
  // frame; live streams ignore it (their consumers drop the oldest results instead).
  void SetPaused(bool paused);

  // Any thread.
  RunnerStats Stats(int64_t now_ns) const;
  uint64_t submitted() const noexcept { return submitted_.load(); }
  // The last error a later stage wants reported with the stream (inference outages).
  void SetLastError(ErrorCode code, const std::string& reason, const std::string& message);
  // The end check: true exactly once, when the final state is out and `accounted` (frames delivered or dropped
  // after submission) covers every submitted frame; `*end` is then the 'end' event.
  bool TakeEnd(uint64_t accounted, StreamEvent* end);

 private:
  void Run();
  // Decodes frames of an open source until its end (returns) or a failure (throws).
  void RunFrames(FrameSource& src);
  // Damaged input: `corrupt` is the connection's count so far, `pts_ms` the newest frame's time. Collects counts
  // into bursts and emits ONE warning per burst (ERR_CAMTRACK_DECODE, reason "corrupt") when it is over: after
  // kCorruptQuietMs of presentation time without new damage, after kCorruptReportMs of continuous damage, or at the
  // connection's end (`end`). Per frame: compares, no allocation unless it warns.
  void TrackCorrupt(uint64_t corrupt, int64_t pts_ms, bool end);
  StreamEvent MakeEvent(EventKind kind, ErrorCode code, std::string reason, const std::string& message,
                        std::string hint, long long native_code) const;
  void PushState(StreamState state, const char* reason = "", const StreamEvent* failure = nullptr);
  // Makes `source` the current one (counted in the stats), unless stopping (then throws "interrupted"): once
  // RequestStop() has interrupted the source it found, no new one may appear.
  FrameSource* InstallSource(std::unique_ptr<FrameSource> source);
  void ReleaseSourceLocked();  // keeps its counters in the totals; caller holds mu_
  // Interruptible waits; false when stopping.
  bool SleepFor(int64_t ms);
  bool WaitWhilePaused();
  bool TakeReconnectToken();

  const RunnerConfig config_;
  const std::unique_ptr<FrameSourceFactory> factory_;
  ReconnectPacer& pacer_;
  FrameSink& sink_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};

  // Source thread only.
  int64_t frame_index_ = -1;        // continues across reconnects
  int64_t last_pts_ms_ = -1;        // of the newest decoded frame; a reconnect continues the time line from here
  bool got_frame_ = false;          // a frame was decoded on the current connection
  bool lag_loss_ = false;           // the current connection was dropped by the lag bound (ReconnectPolicy::max_lag_ms)
  int64_t shed_lag_ms_ = 0;         // the lag that drop shed: camera time the next connection's ptsMs skips over
  // Damage bursts (TrackCorrupt): the connection's corrupt counter already seen, the burst being collected (count 0:
  // none) and its first / newest damaged frame time.
  uint64_t corrupt_seen_ = 0, burst_corrupt_ = 0;
  int64_t burst_first_pts_ = 0, burst_last_pts_ = 0;

  // Written by the source thread, read by Stats().
  std::atomic<uint64_t> submitted_{0}, dropped_busy_{0}, dropped_fps_{0}, dropped_breaker_{0};
  std::atomic<uint64_t> dropped_decoder_pool_{0};
  std::atomic<uint64_t> skipped_interval_{0}, skipped_motion_{0};  // live NVDEC: decoded, dropped because the surface pool was full
  std::atomic<uint64_t> reconnect_attempts_{0}, reconnects_{0};
  std::atomic<int64_t> last_frame_ns_{0};  // steady clock of the newest decoded frame
  RateMeter input_rate_;           // decoded frames

  // Guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable wake_cv_;  // backoff/pacer sleeps; notified on stop
  std::unique_ptr<FrameSource> source_;
  StreamState state_ = StreamState::kConnecting;
  std::string last_error_, last_error_reason_, codec_;
  const char* decoder_ = "cpu";  // "cpu" | "nvdec" (of the current / last connection)
  ErrorCode last_error_code_ = ErrorCode::kInternal;
  int width_ = 0, height_ = 0;
  double nominal_fps_ = 0;
  bool eof_ = false, end_emitted_ = false;
  FrameSourceCounters base_;  // counters of connections already closed
};

}  // namespace camtrack::ingest
