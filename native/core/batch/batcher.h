#pragma once
// Batcher: the cross-stream batcher. It owns the batch slots (the inference workers' lent buffers, two or so per
// worker), hands out image positions of the batch being filled as SlotLeases (fairly between streams), dispatches a
// batch to its worker when it is full and committed or when it has waited max_wait_ms (its own dispatcher thread),
// takes the workers' completions, retires workers that die, and gives completed batches to the postprocess thread
// strictly in the order they were opened.
//
// Threads: source threads (Acquire, and Commit through their leases), the dispatcher thread (owned here), worker
// threads (CompleteBatch, RetireWorker), the postprocess thread (WaitNext, ReadOutput, Release). Everything is
// guarded by one mutex, except the reads of a worker's output buffer, which are guarded by a second one so that a
// retired worker's buffers are never read after RetireWorker returns.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/batch/batch_controller.h"
#include "core/batch/image.h"
#include "core/batch/slot_lease.h"
#include "core/infer/backend.h"

namespace camtrack::batch {

struct BatcherConfig {
  int batch_size = 1;                 // images per batch
  bool fixed_batch = true;            // every batch is inferred as batch_size images (unused ones padded)
  size_t input_elems_per_image = 0;   // 3 · H · W
  size_t output_elems_per_image = 0;
  int max_wait_ms = 0;                // a partly filled batch is dispatched after this long
  // batching.targetLatencyMs (0 = none). With a dynamic batch (!fixed_batch) it turns on the BatchController, which
  // then chooses the batch cap (<= batch_size) and the wait instead of batch_size and max_wait_ms. It is also the
  // starvation bound of normal-priority streams (kDefaultStarvationMs without it): see Acquire.
  double target_latency_ms = 0;
};

// How batches are sized right now (pipeline stats `batching`).
struct BatchingState {
  const char* mode = "static";  // "adaptive" (controller on), "fixed-batch" (the model's own size), "static"
  int cap = 1;                  // images a batch takes before it is dispatched
  double wait_ms = 0;           // how long a partly filled batch waits
  double target_ms = 0;         // targetLatencyMs (0: none)
  double window_p99_ms = 0;     // the controller's last decision window's p99 (adaptive only)
  double infer_ms = 0;          // the controller's inference time estimate for `cap` (adaptive only)
  uint64_t increases = 0, decreases = 0;
  uint64_t starvation_promotions = 0;  // normal streams' positions granted as high by the starvation rule
};

enum class SlotState { kFree, kFilling, kReady, kInFlight, kDone };

// Which backend a worker (and so its slots) belongs to: the primary backend, or the circuit breaker's fallback
// (inference.breaker.fallback: one CPU worker that takes frames while the breaker is open; docs/scheduling.md). The
// pools share the batcher (one open order, so a stream's frames stay in frame order whichever pool inferred them)
// but never each other's slots: each pool fills its own batch.
enum class Pool { kPrimary = 0, kFallback = 1 };
inline constexpr int kPools = 2;

// One batch slot. The postprocess thread reads a kDone slot's fields between WaitNext() and Release().
struct Slot {
  int worker = 0, local = 0;
  Pool pool = Pool::kPrimary;  // its worker's
  infer::BatchBuffers buffers;
  SlotState state = SlotState::kFree;
  int acquired = 0, committed = 0;
  bool closed = false;  // no more images will be added
  bool ok = true;
  std::string error;
  int64_t opened_ns = 0, submitted_ns = 0, completed_ns = 0;
  uint64_t seq = 0;  // postprocess order, taken when the batch opens
  std::vector<ImageMeta> images;
  bool retired = false;                     // its worker exited: never handed out again (RetireWorker)
  const std::atomic<bool>* gone = nullptr;  // its worker's gone flag (stable: a deque element)
};

class Batcher {
 public:
  explicit Batcher(BatcherConfig config);
  ~Batcher();  // Close() and join the dispatcher
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Registers an inference worker with its slots (checked against the model's sizes first: a refused worker leaves
  // no trace) in `pool`. Returns its index (one numbering over both pools).
  int AddWorker(std::shared_ptr<infer::InferenceWorker> worker, Pool pool = Pool::kPrimary);
  // Worker `worker` finished `local_slot`. kUnknown: no such worker or slot (a caller's bug); kIgnored: the slot was
  // not in flight (a retired worker's batch, already failed).
  enum class Completion { kCompleted, kIgnored, kUnknown };
  Completion CompleteBatch(int worker, int local_slot, bool ok, const std::string& error);
  // Worker `worker` is gone and its buffers are about to be freed: its in-flight batches fail, its slots are never
  // handed out again, and this returns once no thread reads or writes them (bounded). Idempotent.
  void RetireWorker(int worker, const std::string& why);

  // Sources. A stream joins before its first Acquire and leaves when it is removed; Cancel makes its Acquire return
  // false at once (and from then on).
  void Join(Contender& c);
  void Leave(Contender& c);
  void Cancel(Contender& c);
  // An image position for `c`'s next frame, or an empty lease when there is none: `block` (files) waits for one
  // (its turn, a free slot), else (live) returns at once — a high-priority live stream waits up to the starvation
  // bound first; all return empty once cancelled or closed. Throws
  // Error(kInference) when every primary worker has exited.
  // `newer` (live only; a pushed stream's count of frames queued behind this one): the frame waits for a position,
  // whatever its priority, until one is free or a newer frame of its stream is there (`*newer` > 0; the pusher calls
  // NewerFrame), and then returns empty (superseded: the caller drops it as busy). Keep-the-newest at the batcher
  // rather than at the instant the frame was decoded (docs/scheduling.md, "Live frames wait until superseded").
  // `pool`: whose slots. kFallback with no live fallback worker (none attached, or every one exited) returns an
  // empty lease at once with *no_worker set (the caller drops the frame, cause breaker); files wait for a fallback
  // slot as for a primary one. `high_frame`: this one frame has priority 'high' (a pushed frame's own priority,
  // e.g. a gRPC request's), whatever the stream's: while this call lasts the stream ranks as a high stream (and a
  // live one waits up to the bound); its next frame ranks by its own priority again.
  SlotLease Acquire(bool block, Contender& c, Pool pool = Pool::kPrimary, bool* no_worker = nullptr,
                    bool high_frame = false, const std::atomic<uint64_t>* newer = nullptr);
  // A newer frame of `c` is there (its `newer` count went up): wakes its Acquire if it waits (see `newer`). Any
  // thread; takes the batcher's lock briefly.
  void NewerFrame(Contender& c);

  // Postprocess thread. Waits for the next batch in open order to be done (kBatch, *out set), for `wake` to be set
  // (kWoken; the caller clears it), or for the end (kClosed: closed and nothing in flight, or in-flight batches did
  // not complete within 10 s of Close()).
  enum class Next { kBatch, kWoken, kClosed };
  Next WaitNext(Slot** out, const std::atomic<bool>& wake);
  // Wakes WaitNext (after setting its `wake` flag).
  void Wake();
  // Calls f(output of image `image`) under the output lock, unless the slot's worker was retired (then false).
  template <class F>
  bool ReadOutput(const Slot& slot, int image, F&& f) {
    std::lock_guard<std::mutex> lock(output_mu_);
    if (slot.gone->load()) return false;
    f(static_cast<const float*>(slot.buffers.output + size_t(image) * config_.output_elems_per_image));
    return true;
  }
  // The slot WaitNext gave is processed: free it for the next batch.
  void Release(Slot& slot);

  // Closes the batch being filled (it dispatches once committed), stops handing out positions, wakes everyone.
  // Idempotent. In-flight batches still complete and reach WaitNext.
  void Close();
  void JoinDispatcher();
  // Batches dispatched or done and not yet released.
  int in_flight() const;

  // Priorities: a high stream's frames take positions ahead of normal ones (see Acquire). Any time.
  void SetPriority(Contender& c, bool high);
  // The postprocess thread, once per processed batch: its size, inference time and the latencies (ms) of the frames
  // it delivered. Feeds the controller (adaptive mode only; else nothing). `n` values, no allocation.
  void RecordBatch(int images, double infer_ms, const double* latencies_ms, int n);
  BatchingState batching_state() const;

  static constexpr double kDefaultStarvationMs = 200;

 private:
  friend class SlotLease;
  void Commit(int slot, int index, ImageMeta meta);
  void MaybeDispatchLocked(int slot, std::unique_lock<std::mutex>& lock);
  void DispatcherLoop();
  // Every live worker of `pool` has a batch in flight (submitted, not completed). Under mu_.
  bool AllWorkersBusyLocked(Pool pool) const;
  // Wakes every contender waiting in Acquire (positions may have freed, a worker came or went, closing).
  void NotifyWaitersLocked();
  int Rank(const Contender& c, int64_t now) const;
  // The priority a contender asks with now: its stream's, or its current frame's own (Acquire's high_frame).
  static bool IsHigh(const Contender& c) { return c.high_ || c.frame_high_; }
  int64_t StarvationBoundNs() const;  // targetLatencyMs, else kDefaultStarvationMs  // 1: high (or a starving normal stream), 0: normal
  int CapLocked() const { return controller_ ? controller_->cap() : config_.batch_size; }
  // Closes pool `p`'s filling batch (it dispatches once committed).
  void CloseFillingLocked(int p, std::unique_lock<std::mutex>& lock);
  int64_t WaitNsLocked() const {
    return controller_ ? int64_t(controller_->wait_ms() * 1e6) : int64_t(config_.max_wait_ms) * 1000000;
  }

  const BatcherConfig config_;
  std::unique_ptr<BatchController> controller_;  // adaptive mode only
  uint64_t starvation_promotions_ = 0;
  int64_t last_high_ns_ = INT64_MIN / 2;  // when a high-priority frame last asked for a position (the yield rule)
  int64_t last_normal_grant_ns_ = 0;  // when a normal-priority stream last got a position (the starvation rule)
  mutable std::mutex mu_;
  // A retired worker's filling slot got its last commit (RetireWorker waits here). Acquire waits on its contender's
  // own cv_ (image.h), woken by NotifyWaitersLocked.
  std::condition_variable slot_free_cv_;
  std::condition_variable dispatch_cv_;   // a batch started filling (dispatcher waits here)
  std::condition_variable done_cv_;       // a batch completed, or Wake() (postprocess waits here)
  std::vector<std::shared_ptr<infer::InferenceWorker>> workers_;
  std::deque<Slot> slots_;   // deque: AddWorker appends without moving existing slots
  std::vector<Pool> worker_pool_;  // per worker
  size_t pool_workers_[kPools] = {0, 0}, pool_retired_[kPools] = {0, 0};
  // Per worker (index = worker), appended by AddWorker under mu_: set by RetireWorker. The postprocess thread reads
  // it without mu_, under output_mu_, before it reads a worker's output buffer, so once RetireWorker has set it and
  // taken output_mu_ once, no read touches that worker's (soon freed) buffers again.
  std::deque<std::atomic<bool>> worker_gone_;
  std::mutex output_mu_;
  std::vector<int> worker_first_slot_;
  std::vector<Contender*> contenders_;  // joined streams (fairness)
  int filling_[kPools] = {-1, -1};  // per pool: the slot whose batch is being filled (-1: none)
  uint64_t next_seq_ = 1, next_post_seq_ = 1;
  bool closed_ = false;
  std::thread dispatcher_;
};

}  // namespace camtrack::batch
