#pragma once
// Pipeline: streams → (decode + letterbox on each stream's own thread, straight into a batch slot) → cross-stream
// batcher → inference worker → in-order postprocess (parse + NMS + per-stream tracker + post-track stages) → result
// ring → JS. This is the composition root: it owns one object per concern and wires them together.
//
//   core/ingest   StreamRunner (one source thread per stream: FrameSource, reconnect policy, pacer, fps limit)
//   core/batch    Batcher (fair image positions as SlotLeases, dispatch on its own thread, worker retirement)
//   core/pipeline Postprocessor (its own thread), ResultRing (results + events to JS), StatsRegistry, Stream (the
//                 per-stream record that joins the stages)
//
// Threads (all owned by those objects; none is the libuv pool): one source thread per stream, the batcher's
// dispatcher thread, the postprocess thread. The JS side is woken through EventSink::Notify() at most once per
// completed batch and drains with DrainEvents().
//
// Backpressure: files block their source thread when no batch slot is free (no drops); live streams never block:
// when no slot is free the decoded frame is dropped and counted, so the next frame taken is always the newest.
// The result ring is bounded; when JS does not drain it the postprocess thread waits (and that is counted).
//
// Shutdown order: Stop() → interrupt and join sources → close the batcher → wait for in-flight batches (bounded)
// → join postprocess/dispatcher → the caller then releases workers and the JS wake-up function.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/batch/batcher.h"
#include "core/common/error.h"
#include "core/infer/backend.h"
#include "core/ingest/reconnect.h"
#include "core/ingest/stream_event.h"
#include "core/pipeline/config.h"
#include "core/pipeline/frame_result.h"
#include "core/pipeline/postprocess.h"
#include "core/pipeline/result_ring.h"
#include "core/pipeline/stats.h"
#include "core/pipeline/stats_registry.h"
#include "core/snapshot/snapshot_slot.h"

namespace camtrack::pipeline {

using ingest::EventKind;
using ingest::StreamEvent;
using ingest::StreamState;
using ingest::StreamStateName;

class Stream;

class Pipeline {
 public:
  Pipeline(ModelConfig model, BatchingConfig batching, EventSink* sink, IngestConfig ingest);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Registers an inference worker with its slots. Thread-safe. Slots must match the model's tensor sizes. `pool`
  // kFallback: a worker of the breaker's fallback backend (BatchingConfig::breaker_fallback), used only for frames
  // the breaker refuses; its batches never feed the breaker.
  int AddWorker(std::shared_ptr<infer::InferenceWorker> worker, batch::Pool pool = batch::Pool::kPrimary);
  // Worker `worker` finished `local_slot`. Thread-safe (called from the worker's thread). kUnknown: no such worker
  // or slot; kIgnored: that batch was not in flight (already failed: a retired worker).
  using Completion = batch::Batcher::Completion;
  Completion CompleteBatch(int worker, int local_slot, bool ok, const std::string& error);
  // Worker `worker` is gone (its thread exited, maybe without finishing its batches) and its batch buffers are
  // about to be freed: its in-flight batches fail (their frames count as dropped.inference), its slots are never
  // handed out again, and this returns once no thread reads or writes them (bounded: 10 s). When no worker is
  // left, streams fail with ERR_CAMTRACK_INFERENCE. Thread-safe, idempotent.
  void RetireWorker(int worker, const std::string& why);

  // Starts a stream; returns its handle. Errors opening the source arrive later as events (never thrown here); an
  // unusable live config throws Error(kInvalidArgument) and no stream is added.
  int32_t AddStream(StreamConfig config);
  // Replaces stream `handle`'s live config (fps limit, tracker, detection options; live_config.h) from its next
  // frame, without reopening its source. Throws Error(kInvalidArgument) for an unusable config (nothing changes) and
  // Error(kInvalidState) when `handle` is not a current stream. Thread-safe.
  void ConfigureStream(int32_t handle, const LiveConfig& config);
  // Changes stream `handle`'s cumulative line counts before its next frame's analytics (LiveConfigState::ChangeCounts:
  // a reset, counts brought back from Redis). Error(kInvalidState) when `handle` is not a current stream.
  void ChangeAnalyticsCounts(int32_t handle, CountsCommand cmd);
  // Stops one stream: interrupts and joins its thread; results still in flight for it are discarded. Idempotent.
  void RemoveStream(int32_t handle);
  // Delivery credit (src/delivery.ts): JS pauses a lossless (file) stream whose results its consumer has not taken
  // yet, and resumes it once they are drained; the source thread waits before its next frame. No effect on live
  // streams, whose results JS drops oldest-first instead. Unknown handles are ignored (the stream may have ended).
  void SetStreamPaused(int32_t handle, bool paused);
  // Pushed streams (StreamConfig::push; ingest/push_frame_source.h): queues the compressed frame number `seq` (the
  // count of frames accepted for this stream so far) with its bytes (held until decoded or dropped) and its
  // presentation time (< 0: the time since the first push). Returns what PushInput::Push() returns. Throws
  // Error(kInvalidState) when `handle` is not a running pushed stream, after EndPush(), or when a lossless queue is
  // full. `high`: the frame's own priority 'high' (its batch position goes ahead of normal frames, whatever the
  // stream's priority: Batcher::Acquire). Thread-safe (one pushing thread per stream).
  ingest::PushInput::Pushed PushFrame(int32_t handle, int64_t seq, std::unique_ptr<ingest::PushedBytes> bytes,
                                      int64_t pts_ms, bool high = false);
  // No more frames for pushed stream `handle`: it ends ('ended', reason "eof") once its queue is decoded and its
  // frames delivered. Unknown handles are ignored (the stream may have ended); Error(kInvalidState) for a stream
  // that is not pushed.
  void EndPush(int32_t handle);
  // Snapshots (snapshot/snapshot_slot.h): asks stream `handle` for its next frame as a JPEG (false: one is already
  // in progress). Error(kInvalidState) when `handle` is not a current stream. Thread-safe.
  bool RequestSnapshot(int32_t handle, bool boxes, int quality);
  // Withdraws a request no frame was taken for yet (true when it did). Unknown handles: false.
  bool CancelSnapshot(int32_t handle);
  // The consumer, after a kSnapshot event: calls `take` with the ready snapshot (if any) and releases it. Returns
  // false when there was none (unknown handle, or not ready).
  bool TakeSnapshot(int32_t handle, const std::function<void(const snapshot::SnapshotView&)>& take);
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
  std::shared_ptr<Stream> Find(int32_t handle) const;  // null when not a current stream

  const ModelConfig model_;
  const BatchingConfig batching_;
  const IngestConfig ingest_;

  // Declared in dependency order: each is constructed after, and destroyed before, what it uses.
  StatsRegistry stats_;
  ResultRing ring_;
  ingest::ReconnectPacer pacer_;
  batch::Batcher batcher_;
  infer::CircuitBreaker breaker_;  // one per backend: failed batches feed it, open drops frames (cause breaker)
  Postprocessor post_;

  // The stream registry.
  mutable std::mutex streams_mu_;
  std::map<int32_t, std::shared_ptr<Stream>> streams_;
  int32_t next_handle_ = 1;
  bool stopped_ = false;
};

}  // namespace camtrack::pipeline
