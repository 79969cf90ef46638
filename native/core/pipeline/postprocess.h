#pragma once
// Postprocessor: the postprocess thread. It takes completed batches from the batcher strictly in the order they
// were opened, and for each image parses the model output (detections + NMS), advances the stream's tracker, runs
// the stream's post-track stages and publishes the result; frames passed through without inference (seam a) take
// the same path in their stream's frame order (the tracker predicts; no detections). Hence every stream's results
// and tracker updates are in frame order, even with several batches in flight on several workers.
//
// It also keeps each stream's inference health: a failed batch costs its frames (dropped.inference), and an outage
// gives two warnings, one when it starts and one when it ends, never one per frame.
//
// Threads: its own (owned here). Wake() is called by source threads. Trackers, stages, the parser and the scratch
// vectors are touched by this thread only.
#include "core/infer/breaker.h"
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/batch/batcher.h"
#include "core/pipeline/config.h"
#include "core/pipeline/frame_result.h"
#include "core/postprocess/output_parser.h"

namespace camtrack::pipeline {

class ResultRing;
class StatsRegistry;
class Stream;

class Postprocessor {
 public:
  Postprocessor(const ModelConfig& model, batch::Batcher& batcher, ResultRing& ring, StatsRegistry& stats,
                infer::CircuitBreaker& breaker);
  ~Postprocessor();  // joins
  Postprocessor(const Postprocessor&) = delete;
  Postprocessor& operator=(const Postprocessor&) = delete;

  void Start();
  // Any thread: the backend's breaker moved (counted in stats; a 'breaker' event to JS).
  void BreakerMoved(const infer::BreakerTransition& t);
  // Returns once the batcher is closed and its in-flight batches are processed (or abandoned after its bound).
  void Join();
  // Source thread: `stream` has pass-through frames and nothing in flight ahead of them.
  void Wake(std::shared_ptr<Stream> stream);

 private:
  void Loop();
  void ProcessBatch(batch::Slot& slot);
  // Publishes `stream`'s pass-through frames that may go now: those before frame `before`, and all of them once
  // no inferred frame of the stream is in flight. Returns how many were delivered.
  int FlushPassThrough(Stream& stream, int64_t before);
  void HandleWakes();
  enum class Delivery { kDelivered, kNoResult, kWorkerGone };
  // Parses image i of a completed batch, tracks it and queues its result. kNoResult: no result could be had
  // (shutdown, or the worker went away while waiting for one; counted as dropped); kWorkerGone: the worker was
  // retired before its output was read (nothing counted yet). Throws on a parser/tracker/stage failure, with *out
  // the result to give back (or null).
  Delivery DeliverImage(batch::Slot& slot, int i, Stream& s, FrameResult** out);
  // Fills the rest of `r` (frame, tracker, stages), records its latency and publishes it. `fallback`: inferred by the
  // breaker's fallback backend.
  void Complete(Stream& s, FrameResult* r, const batch::FrameMeta& frame, bool inferred, bool fallback = false);
  // A frame of a failed batch of the breaker's fallback backend: dropped, cause breaker (the stream's inference
  // health, which follows the primary backend, does not change).
  void FallbackFailed(Stream& s);
  // A frame could not be postprocessed because of an exception: it is dropped with a warning.
  void Failed(Stream& s, int64_t frame_index, FrameResult* r, const std::exception& e);
  // Inference health of stream s: one of its frames was lost to failed batch `seq` (counted as dropped.inference),
  // or one was delivered while failing. An outage gives two warnings, one when it starts (with its first error, also
  // the stream's last error) and one when it ends (with its counts), nothing per frame.
  void InferenceFailed(Stream& s, uint64_t seq, const std::string& why);
  void InferenceRecovered(Stream& s);

  const ModelConfig& model_;
  batch::Batcher& batcher_;
  ResultRing& ring_;
  StatsRegistry& stats_;
  infer::CircuitBreaker& breaker_;
  std::thread thread_;

  // This thread only.
  std::unique_ptr<postprocess::OutputParser> parser_;
  std::vector<Detection> scratch_dets_;
  std::vector<std::shared_ptr<Stream>> end_check_;  // streams of the last batch
  std::vector<double> batch_latencies_;              // the current batch's delivered inferred frames' latencies, ms
  std::vector<std::shared_ptr<Stream>> woken_;      // taken from wake_list_

  // Streams to look at for pass-through frames (Wake), guarded by wake_mu_.
  std::mutex wake_mu_;
  std::vector<std::shared_ptr<Stream>> wake_list_;
  std::atomic<bool> wake_{false};
};

}  // namespace camtrack::pipeline
