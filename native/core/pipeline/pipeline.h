#pragma once
// Pipeline: streams → (decode + letterbox on each stream's own thread, straight into a batch slot) → cross-stream
// batcher → inference worker → in-order postprocess (parse + NMS + per-stream tracker) → result ring → JS.
//
// Threads (all owned here; none is the libuv pool):
//   - one source thread per stream: open, demux, decode, letterbox into the slot it acquired, commit;
//   - one dispatcher thread: closes a partly filled batch when its max wait is reached;
//   - one postprocess thread: takes completed batches in dispatch order, so every stream's results and tracker
//     updates stay in frame order even when several batches are in flight on several workers.
// The JS side is woken through EventSink::Notify() at most once per completed batch and drains with DrainEvents().
//
// Backpressure: files block their source thread when no batch slot is free (no drops); live streams never block:
// when no slot is free the decoded frame is dropped and counted, so the next frame taken is always the newest.
// The result ring is bounded; when JS does not drain it the postprocess thread waits (and that is counted).
//
// Shutdown order: Stop() → interrupt and join sources → close the batcher → wait for in-flight batches (bounded)
// → join postprocess/dispatcher → the caller then releases workers and the JS wake-up function.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.h"
#include "core/common/geometry.h"
#include "core/decode/video_source.h"
#include "core/infer/backend.h"
#include "core/decode/gpu_frame_source.h"
#include "core/pipeline/stats.h"
#include "core/postprocess/output_parser.h"
#include "core/preprocess/letterbox.h"
#include "core/track/factory.h"

namespace camtrack::pipeline {

// Per-stream decode choice (StreamConfig::decode). kAuto: NVDEC when it can take the stream, else the CPU with
// one warning; kCpu: libavcodec only (never probes the GPU); kGpu: NVDEC or the stream fails.
enum class DecodeMode { kAuto, kCpu, kGpu };
using decode::GpuDecodeStatus;
using decode::GpuFrameSource;

struct ModelConfig {
  preprocess::ModelInputSpec input;  // size, channel order, scaling, letterbox alignment, pad
  postprocess::ParserConfig parser;  // layout, thresholds, NMS
  int batch_size = 1;                // images per batch (the model's fixed batch, or maxBatchSize when dynamic)
  bool fixed_batch = true;           // true: every batch is exactly batch_size (unused images padded)
  size_t output_elems_per_image = 0;
};

// The configs below come complete from the binding (defaults and ranges: src/config/schema.ts, the one place they
// are written); their members are zero-initialised only so that nothing is left indeterminate.
struct BatchingConfig {
  int max_wait_ms = 0;       // a partly filled batch is sent after this long
  int result_capacity = 0;   // frames the result ring holds before postprocess waits for JS
};

// Pipeline-wide ingest settings.
struct IngestConfig {
  // Token bucket over all streams' reconnect attempts (first connects are not paced): at most this many attempts
  // per second on average, bursts of up to reconnect_burst. 0 = unpaced. Keeps a site-wide outage from turning
  // into a stampede of simultaneous reconnects when the network comes back.
  double reconnect_rate_per_second = 0;
  double reconnect_burst = 0;
  // CUDA device (runtime ordinal) of every stream's NVDEC decoder and letterbox kernel (PipelineConfig.gpu.device).
  int decode_device = 0;
};

// What a live stream does when it loses its input (read error, server gone, EOF, stall). Files never reconnect.
struct ReconnectPolicy {
  int stall_timeout_ms = 0;  // watchdog: no decoded frame for this long while live → stalled (0 = off)
  int initial_delay_ms = 0;  // wait before the first reconnect attempt
  int max_delay_ms = 0;      // cap of the exponential backoff
  double multiplier = 0;     // delay n = initial · multiplier^(n-1), capped
  double jitter = 0;         // 0..1: each delay is shortened by a random fraction in [0, jitter)
  int max_attempts = 0;      // consecutive failed attempts before 'failed' (-1 = forever, 0 = never reconnect)
};

struct StreamConfig {
  std::string id;  // user's id (for messages only; the pipeline addresses streams by handle)
  decode::SourceOptions source;
  double fps_limit = 0;     // 0 = every frame; else at most this many frames per second (by PTS)
  bool tracking = true;             // false: detections only
  track::TrackerConfig tracker;     // kind (ByteTrack, SORT, IoU) and its parameters
  double track_buffer_seconds = 0;  // >0: lost-track buffer in seconds, converted with the stream's real fps
  ReconnectPolicy reconnect;        // live streams only
  // Decoder (gpu_source.h): kAuto = NVDEC when it can take the stream, else CPU with one 'warning' event
  // (reason "nvdec"); kCpu = libavcodec; kGpu = NVDEC or the stream fails (reason "nvdec", not retried).
  DecodeMode decode = DecodeMode::kAuto;
};

// One delivered frame. Lives in the pipeline's result pool; JS reads it during DrainEvents' callback.
struct FrameResult {
  int32_t stream = -1;  // stream handle
  int64_t frame_index = 0;  // 0-based index among this stream's decoded frames; continues across reconnects
  int64_t pts_ms = 0;
  int64_t decoded_at_ns = 0;  // steady clock when decode finished
  int64_t done_at_ns = 0;     // steady clock when the result entered the ring
  int64_t wall_ms = 0;        // wall clock at decode
  int32_t width = 0, height = 0;
  std::vector<Detection> detections;            // capacity reserved once
  std::vector<track::TrackedObject> tracks;     // capacity reserved once
  std::vector<track::TrackEvent> track_events;  // lifecycle events of this frame (new/lost/refound/removed)
};

enum class EventKind { kState, kWarning, kError, kEnd };

// State changes: "connecting" → "live" → "stalled" → "reconnecting" → "live" | "failed" | "ended"; "stopped" on
// removal/shutdown. A state event carries `reason` (a short stable word: "connected", "reconnected", "eof",
// "stalled", "disconnected", "read_timeout", "refused", "not_found", "unauthorized", "timeout", …) and, when the
// change was caused by a failure, has_error with the code/message/hint of that failure.
struct StreamEvent {
  EventKind kind = EventKind::kState;
  int32_t stream = -1;
  std::string state;   // kState: the new state; kEnd: the final state
  std::string reason;  // kState/kWarning/kError: why (see above)
  bool has_error = false;  // kState: code/message/hint describe the failure behind the change
  int attempt = 0;         // kState "reconnecting" and kWarning: consecutive failed attempts so far
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // redacted
  std::string hint;
  long long native_code = 0;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called from pipeline threads when events are waiting; must be cheap and non-blocking (a TSFN NonBlockingCall).
  virtual void Notify() = 0;
};

class Pipeline {
 public:
  Pipeline(ModelConfig model, BatchingConfig batching, EventSink* sink, IngestConfig ingest);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Registers an inference worker with its slots. Thread-safe. Slots must match the model's tensor sizes.
  int AddWorker(std::shared_ptr<infer::InferenceWorker> worker);
  // Worker `worker` finished `local_slot`. Thread-safe (called from the worker's thread).
  void CompleteBatch(int worker, int local_slot, bool ok, const std::string& error);
  // Worker `worker` is gone (its thread exited, maybe without finishing its batches) and its batch buffers are
  // about to be freed: its in-flight batches fail (their frames count as dropped.inference), its slots are never
  // handed out again, and this returns once no thread reads or writes them (bounded: 10 s). When no worker is
  // left, streams fail with ERR_CAMTRACK_INFERENCE. Thread-safe, idempotent.
  void RetireWorker(int worker, const std::string& why);

  // Starts a stream; returns its handle. Errors opening the source arrive later as events (never thrown here).
  int32_t AddStream(StreamConfig config);
  // Stops one stream: interrupts and joins its thread; results still in flight for it are discarded. Idempotent.
  void RemoveStream(int32_t handle);
  // Stops everything (see shutdown order above). Idempotent; called by the destructor.
  void Stop();

  // Moves waiting results and events out. Results must be returned with ReleaseResults() after use.
  void DrainEvents(std::vector<FrameResult*>& results, std::vector<StreamEvent>& events);
  void ReleaseResults(const std::vector<FrameResult*>& results);

  // Snapshots of the counters (stats.h), taken under short locks the hot path also takes per batch or per frame;
  // reading changes nothing (rates included). Thread-safe.
  PipelineStatsSnapshot Stats() const;
  // One stream's; nullopt when `handle` is not a current stream.
  std::optional<StreamStatsSnapshot> StreamStats(int32_t handle) const;
  const ModelConfig& model() const { return model_; }

 private:
  struct StreamState;
  struct ImageMeta {
    std::shared_ptr<StreamState> stream;  // keeps the stream's tracker alive while its frame is in flight
    int64_t frame_index = 0, pts_ms = 0, decoded_at_ns = 0, wall_ms = 0;
    LetterboxInfo letterbox;
  };
  enum class SlotState { kFree, kFilling, kReady, kInFlight, kDone };
  struct Slot {
    int worker = 0, local = 0;
    infer::BatchBuffers buffers;
    SlotState state = SlotState::kFree;
    int acquired = 0, committed = 0;
    bool closed = false;  // no more images will be added
    bool ok = true;
    std::string error;
    int64_t opened_ns = 0, submitted_ns = 0, completed_ns = 0;
    uint64_t seq = 0;
    std::vector<ImageMeta> images;
    bool retired = false;  // its worker exited: never handed out again (RetireWorker)
    const std::atomic<bool>* gone = nullptr;  // its worker's worker_gone_ flag (stable: a deque element)
  };
  struct Acquired {
    int slot = -1, index = -1;
    float* input = nullptr;  // the slot's input tensor; image `index` starts at index · 3·H·W
  };

  void SourceLoop(std::shared_ptr<StreamState> stream);
  // Decodes frames of an open source until EOF (returns) or a failure (throws); frame_index/pts continue.
  // With `gpu`, frames come from NVDEC and are letterboxed on the GPU (gpu_source.h); else libavcodec + CPU.
  void RunFrames(const std::shared_ptr<StreamState>& sp, decode::VideoSource& src, GpuFrameSource* gpu);
  // 'auto' decode that is not on NVDEC for this stream: one kWarning event (then never tried again).
  void WarnCpuFallback(StreamState& s, ErrorCode code, const std::string& why);
  // Damaged input: `corrupt` is the current connection's counters().corrupt, `pts_ms` the newest frame's time.
  // Collects corrupt counts into bursts and emits ONE kWarning per burst (ERR_CAMTRACK_DECODE, reason "corrupt")
  // when it is over: after kCorruptQuietMs of presentation time without new damage, after kCorruptReportMs of
  // continuous damage, or at the connection's end (`end`). Per frame: compares, no allocation unless it warns.
  void TrackCorrupt(StreamState& s, uint64_t corrupt, int64_t pts_ms, bool end);
  // An error or warning event about stream s (its source, or its frames in postprocess); the message is redacted of
  // the secrets in s's URL.
  static StreamEvent MakeStreamEvent(EventKind kind, const StreamState& s, ErrorCode code, std::string reason,
                                 const std::string& message, std::string hint, long long native_code);
  void CreateTracker(StreamState& s, double source_fps);  // tracker creation (one place; see SourceLoop)
  // Interruptible waits of a source thread; false when the stream is being stopped.
  bool SleepFor(StreamState& s, int64_t ms);
  bool TakeReconnectToken(StreamState& s);
  bool Acquire(bool block, StreamState& stream, Acquired* out);
  void Commit(const Acquired& a, ImageMeta meta);
  void MaybeDispatchLocked(int slot, std::unique_lock<std::mutex>& lock);
  void DispatcherLoop();
  void PostprocessLoop();
  void ProcessBatch(Slot& slot);
  // Inference health of stream s (postprocess thread): one of its frames was lost to failed batch `seq` (counted as
  // dropped.inference), or one was delivered while failing. An outage gives two warnings, one when it starts (with
  // its first error, also the stream's last error) and one when it ends (with its counts), nothing per frame.
  void InferenceFailed(StreamState& s, uint64_t seq, const std::string& why);
  void InferenceRecovered(StreamState& s);
  void PushEvent(StreamEvent ev);
  void PushState(StreamState& s, const char* state, const char* reason = "", const StreamEvent* failure = nullptr);
  void MaybeEmitEnd(StreamState& s);
  StreamStatsSnapshot SnapshotStream(const StreamState& s, int64_t now_ns) const;
  FrameResult* AcquireResult(const std::atomic<bool>* abandon = nullptr);  // null: shutdown, or `abandon` set
  // Parses image i of a completed batch, tracks it and queues its result. kNoResult: no result could be had
  // (shutdown, or the worker went away while waiting for one; counted as dropped); kWorkerGone: the worker was
  // retired before its output was read (nothing counted yet). Throws on a parser/tracker failure, with *out the
  // result to give back (or null).
  enum class Delivery { kDelivered, kNoResult, kWorkerGone };
  Delivery DeliverImage(Slot& sl, int i, StreamState& s, FrameResult** out);

  const ModelConfig model_;
  const BatchingConfig batching_;
  const IngestConfig ingest_;

  // Reconnect pacer (token bucket), guarded by pacer_mu_.
  std::mutex pacer_mu_;
  double pacer_tokens_ = 0;
  int64_t pacer_refill_ns_ = 0;
  EventSink* const sink_;
  const size_t input_elems_per_image_;

  // Batcher state, guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable slot_free_cv_;   // a slot became free (sources wait here)
  std::condition_variable dispatch_cv_;    // a batch started filling (dispatcher waits here)
  std::condition_variable done_cv_;        // a batch completed (postprocess waits here)
  std::vector<std::shared_ptr<infer::InferenceWorker>> workers_;
  std::deque<Slot> slots_;            // deque: AddWorker appends without moving existing slots
  size_t retired_workers_ = 0;        // RetireWorker
  // Per worker (index = worker), appended by AddWorker under mu_: set by RetireWorker. The postprocess thread reads
  // it without mu_, under output_mu_, before it parses a worker's output buffer, so once RetireWorker has set it
  // and taken output_mu_ once, no parse reads that worker's (soon freed) buffers again.
  std::deque<std::atomic<bool>> worker_gone_;
  std::mutex output_mu_;
  std::vector<int> worker_first_slot_;
  int filling_ = -1;
  uint64_t next_seq_ = 1, next_post_seq_ = 1;
  bool stopping_ = false;
  bool stopped_ = false;

  // Streams, guarded by mu_.
  std::map<int32_t, std::shared_ptr<StreamState>> streams_;
  int32_t next_handle_ = 1;

  // Results and events, guarded by ev_mu_.
  mutable std::mutex ev_mu_;
  std::condition_variable result_free_cv_;
  std::vector<std::unique_ptr<FrameResult>> result_pool_;
  std::vector<FrameResult*> result_free_;
  std::vector<FrameResult*> result_ready_;
  std::vector<StreamEvent> events_;
  bool notify_pending_ = false;
  std::atomic<bool> stopping_flag_{false};  // lets AcquireResult stop waiting without taking mu_

  // Stats (postprocess thread writes; Stats() reads under stats_mu_).
  mutable std::mutex stats_mu_;
  uint64_t stat_batches_ = 0, stat_images_ = 0, stat_failed_batches_ = 0, stat_result_waits_ = 0;
  uint64_t stat_consecutive_failed_ = 0;
  std::string stat_inference_error_;
  double stat_infer_ms_sum_ = 0;
  std::vector<uint64_t> latency_hist_;  // log-spaced buckets for p50/p99, see LatencyBucket()
  uint64_t latency_samples_ = 0;
  double latency_max_ms_ = 0;
  LatencyHistogram latency_;  // the same latencies in fixed buckets (streams have their own, also under stats_mu_)

  std::thread dispatcher_;
  std::thread postprocess_;
  std::unique_ptr<postprocess::OutputParser> parser_;  // postprocess thread only
  std::vector<Detection> scratch_dets_;                // postprocess thread only
  std::vector<std::shared_ptr<StreamState>> end_check_;  // postprocess thread only: streams of the last batch
};

}  // namespace camtrack::pipeline
