#include "core/batch/batcher.h"

#include <algorithm>
#include <chrono>

#include "core/common/clock.h"
#include "core/common/error.h"

namespace camtrack::batch {

// ---------------------------------------------------------------------------------------------------------------
// SlotLease

SlotLease& SlotLease::operator=(SlotLease&& other) noexcept {
  if (this != &other) {
    Drop();
    batcher_ = other.batcher_;
    slot_ = other.slot_;
    index_ = other.index_;
    input_ = other.input_;
    meta_ = std::move(other.meta_);
    other.batcher_ = nullptr;
  }
  return *this;
}

void SlotLease::Commit() {
  Batcher* b = batcher_;
  batcher_ = nullptr;
  meta_.empty = false;
  b->Commit(slot_, index_, std::move(meta_));
}

void SlotLease::Drop() noexcept {
  if (!batcher_) return;
  Batcher* b = batcher_;
  batcher_ = nullptr;
  // Committed empty (postprocess skips it), or the slot never dispatches and every stream with a frame in it waits
  // for good. The owner stays set, so the stream still learns that its image is through.
  meta_.empty = true;
  try {
    b->Commit(slot_, index_, std::move(meta_));
  } catch (...) {
    // Commit allocates only for a worker that is gone (its error message); nothing may leave a destructor.
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Batcher

Batcher::Batcher(BatcherConfig config) : config_(config) {
  CAMTRACK_CHECK(config_.batch_size >= 1, ErrorCode::kInvalidArgument, "pipeline", "batch size must be >= 1");
  if (!config_.fixed_batch && config_.target_latency_ms > 0) {
    BatchControllerConfig cc;
    cc.target_ms = config_.target_latency_ms;
    cc.max_batch = config_.batch_size;
    cc.initial_cap = 1;
    controller_ = std::make_unique<BatchController>(cc);
  }
  dispatcher_ = std::thread([this] { DispatcherLoop(); });
}

Batcher::~Batcher() {
  Close();
  JoinDispatcher();
}

int Batcher::AddWorker(std::shared_ptr<infer::InferenceWorker> worker, Pool pool) {
  std::lock_guard<std::mutex> lock(mu_);
  CAMTRACK_CHECK(!closed_, ErrorCode::kInvalidState, "pipeline", "pipeline is stopped");
  const int w = int(workers_.size());
  const auto& bufs = worker->slots();
  CAMTRACK_CHECK(!bufs.empty(), ErrorCode::kInvalidArgument, "pipeline", "worker has no batch slots");
  for (const auto& b : bufs) {  // all checked before anything is added: a refused worker leaves no trace
    CAMTRACK_CHECK(b.input && b.input_elems >= config_.input_elems_per_image * config_.batch_size,
                   ErrorCode::kInvalidArgument, "pipeline", "worker input buffer too small for the model batch");
    CAMTRACK_CHECK(b.output && b.output_elems >= config_.output_elems_per_image * config_.batch_size,
                   ErrorCode::kInvalidArgument, "pipeline", "worker output buffer too small for the model batch");
  }
  const std::atomic<bool>* gone = &worker_gone_.emplace_back(false);
  for (size_t i = 0; i < bufs.size(); ++i) {
    Slot s;
    s.worker = w;
    s.pool = pool;
    s.gone = gone;
    s.local = int(i);
    s.buffers = bufs[i];
    s.images.resize(config_.batch_size);
    slots_.push_back(std::move(s));
  }
  worker_first_slot_.push_back(int(slots_.size() - bufs.size()));
  worker_pool_.push_back(pool);
  ++pool_workers_[int(pool)];
  workers_.push_back(std::move(worker));
  NotifyWaitersLocked();
  return w;
}

void Batcher::Join(Contender& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (c.joined_) return;
  c.joined_ = true;
  contenders_.push_back(&c);
}

void Batcher::Leave(Contender& c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!c.joined_) return;
  c.joined_ = false;
  contenders_.erase(std::find(contenders_.begin(), contenders_.end(), &c));
}

void Batcher::NotifyWaitersLocked() {
  for (Contender* c : contenders_)
    if (c->blocked_) c->cv_.notify_one();
}

void Batcher::NewerFrame(Contender& c) {
  // Under mu_, as Cancel: Acquire reads `*newer` under mu_ and then waits, so the count's rise is seen either by
  // that read or by this notify. Only this stream's wait is woken.
  std::lock_guard<std::mutex> lock(mu_);
  if (c.blocked_) c.cv_.notify_one();
}

void Batcher::Cancel(Contender& c) {
  {
    // Under mu_: Acquire checks `cancelled_` under mu_ and then waits on the contender's cv_, so a store made without
    // it could fall between that check and the wait, and the notify would be lost.
    std::lock_guard<std::mutex> lock(mu_);
    c.cancelled_ = true;
    c.cv_.notify_one();
  }
}

// Fairness between streams when inference is the bottleneck: a stream may take a batch position only if no other
// stream that is contending right now (it failed to get one within kContendWindowNs) has waited longer since its
// last position. Without it the streams whose decode happens to line up with free slots take
// nearly all of them (measured: 74/47/47/23 frames for four identical RTSP cameras); with it they take turns.
// A contender that stops trying (dead camera, slow network) drops out after the window, so it cannot hold slots.
// A stream yields only while positions are scarce: when more are free right now (the rest of the open batch, whole
// batches on free slots) than there are contenders ahead of it, it takes one. Without that bound, live streams that
// send seldom (pushed sessions at 2 fps, which return only 500 ms after a drop) kept others yielding for the whole
// window while positions stood free: 50 such sessions lost half their frames as `busy` with the CPU 0.62 cores busy
// and onnxruntime able to do 2.5x the offered rate (docs/sessions.md, "Quiet machine"). And it yields to a
// contender that is not waiting right now (a live stream between two frames) only while every worker is busy, or
// for kIdleGraceNs at most while one is idle (work-conserving; see Acquire) — unless high-priority frames were about
// in the last contend window.
//
// Priorities (stream option `priority`): the rule above ranks contenders first by priority, then by how long they
// have waited. A normal stream never counts a high one as behind it, so while positions are scarce high streams'
// frames take them first. Starvation bound, with B = the target latency (batching.targetLatencyMs;
// kDefaultStarvationMs without one): a normal stream that has been refused positions for longer than B ranks as high
// (counted in stats as batching.starvationPromotions) when no normal stream got a position in the last B. So however
// much high load there is, normal streams get at least one position every B or so between them, the one that
// waited longest first: with N normal streams waiting, each gets one at least every N · B or so. A live stream's
// frame is dropped when it finds no position; a live HIGH stream's frame instead waits up to that same bound for one
// (see Acquire), and normal live frames yield to it meanwhile: so a high camera's frames are the ones inferred.
// A frame may also carry its own priority (Acquire's high_frame: a pushed frame's `priority`, e.g. a gRPC request's):
// for that one Acquire its stream ranks and waits as a high stream, whatever the stream's own priority.
constexpr int64_t kContendWindowNs = 200'000'000;
// How long a frame waits, while a worker is idle, for a contender ahead of it that is not waiting right now.
constexpr int64_t kIdleGraceNs = 10'000'000;

int64_t Batcher::StarvationBoundNs() const {
  return int64_t((config_.target_latency_ms > 0 ? config_.target_latency_ms : kDefaultStarvationMs) * 1e6);
}

namespace {
// Sets a contender's per-frame priority for one Acquire call and clears it when the call returns (under the
// batcher's mutex: declared after the lock, destroyed before it).
class FrameHighScope {
 public:
  FrameHighScope(bool& field, bool high) : field_(field) { field_ = high; }
  ~FrameHighScope() { field_ = false; }
  FrameHighScope(const FrameHighScope&) = delete;
  FrameHighScope& operator=(const FrameHighScope&) = delete;

 private:
  bool& field_;
};
}  // namespace

bool Batcher::AllWorkersBusyLocked(Pool pool) const {
  for (size_t w = 0; w < worker_first_slot_.size(); ++w) {
    if (worker_pool_[w] != pool || worker_gone_[w].load()) continue;
    const int first = worker_first_slot_[w];
    const int count = int(workers_[w]->slots().size());
    bool busy = false;
    for (int i = first; i < first + count && !busy; ++i) busy = slots_[size_t(i)].state == SlotState::kInFlight;
    if (!busy) return false;
  }
  return true;
}

int Batcher::Rank(const Contender& c, int64_t now) const {
  if (IsHigh(c)) return 1;
  const int64_t bound = StarvationBoundNs();
  return c.wait_since_ns_ != 0 && now - c.wait_since_ns_ > bound && now - last_normal_grant_ns_ > bound ? 1 : 0;
}

SlotLease Batcher::Acquire(bool block, Contender& stream, Pool pool, bool* no_worker, bool high_frame,
                           const std::atomic<uint64_t>* newer) {
  SlotLease lease;
  const int p = int(pool);
  if (no_worker) *no_worker = false;
  std::unique_lock<std::mutex> lock(mu_);
  // Only joined contenders are woken when positions free up (NotifyWaitersLocked).
  CAMTRACK_CHECK(stream.joined_, ErrorCode::kInternal, "batch", "a stream asked for a batch position before joining");
  const FrameHighScope frame_priority(stream.frame_high_, high_frame);
  // A live high-priority frame waits for a position up to the starvation bound instead of being dropped at once
  // (normal live frames yield to it meanwhile); then it is dropped as any live frame.
  // A live frame with `newer` waits until superseded instead (any priority; no bound of its own).
  const bool until_newer = !block && newer != nullptr;
  const int64_t give_up_ns = !block && !until_newer && IsHigh(stream) ? SteadyNowNs() + StarvationBoundNs() : 0;
  bool waited = false;
  // Whether to wait (else return the empty lease), and the wait: until `until_ns` at most (0: no bound of its own).
  // Until when this call waits for a contender ahead that is not here while a worker is idle (0: not yet).
  int64_t grace_until_ns = 0;
  const auto wait = [&](int64_t until_ns, bool grace = false) {
    if (until_newer) {
      if (newer->load() > 0) return false;  // superseded: a newer frame of this stream is queued
    } else if (!block && !grace) {
      const int64_t now = SteadyNowNs();
      if (give_up_ns == 0 || now >= give_up_ns) return false;
      until_ns = until_ns == 0 ? give_up_ns : std::min(until_ns, give_up_ns);
    }
    stream.blocked_ = true;
    if (until_ns == 0) {
      stream.cv_.wait(lock);
    } else {
      stream.cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(0, until_ns - SteadyNowNs())));
    }
    stream.blocked_ = false;
    waited = true;
    return true;
  };
  for (;;) {
    if (closed_ || stream.cancelled_) return lease;
    // Woken by NewerFrame (or by anything, with a newer frame there): this one is superseded.
    if (until_newer && waited && newer->load() > 0) return lease;
    // The primary backend decides whether the pipeline can go on (a fallback alone could never close the breaker).
    if (pool_workers_[0] > 0 && pool_retired_[0] == pool_workers_[0])
      throw Error(ErrorCode::kInference, "inference", "every inference worker has exited",
                  "the pipeline's 'workerError' event says why; create a new pipeline");
    if (pool == Pool::kFallback && pool_retired_[p] == pool_workers_[p]) {  // no fallback worker (left)
      if (no_worker) *no_worker = true;
      return lease;
    }
    const int64_t now = SteadyNowNs();
    const int mine = Rank(stream, now);
    if (IsHigh(stream)) last_high_ns_ = now;
    {
      // Contending streams ahead of this one: of a higher rank (priority), or of the same rank and waiting longer
      // since their last position.
      int ahead = 0, ahead_blocked = 0;
      for (const Contender* t : contenders_) {
        if (t == &stream || !(t->blocked_ || (t->want_ns_ != 0 && now - t->want_ns_ <= kContendWindowNs))) continue;
        const int r = Rank(*t, now);
        if (r > mine || (r == mine && t->last_grant_ns_ < stream.last_grant_ns_)) {
          ++ahead;
          if (t->blocked_) ++ahead_blocked;
        }
      }
      bool yield = false;
      const bool high_about = now - last_high_ns_ <= kContendWindowNs;
      // While high frames are about, a normal frame leaves one position per worker of the pool free for the next high
      // frames, so one can start on whichever worker frees first (one position in all: high p99 near the normal p50
      // at 32 live cameras, a quarter high; docs/scheduling.md).
      const int reserve = high_about && mine == 0 ? int(pool_workers_[p] - pool_retired_[p]) : 0;
      if (ahead > 0 || reserve > 0) {
        const int cap = CapLocked();
        int free_positions = filling_[p] >= 0 ? std::max(0, cap - slots_[filling_[p]].acquired) : 0;
        for (const Slot& sl : slots_)
          if (sl.state == SlotState::kFree && !sl.retired && sl.pool == pool) free_positions += cap;
        // Work-conserving: a contender blocked in Acquire takes a freed position at once, so yielding to it costs
        // nothing. One that is not blocked (a live stream that dropped its frame; its next one comes a frame period
        // later) is yielded to while every worker of the pool has a batch in flight: a position taken now could not
        // be inferred before one of those completes anyway. With a worker idle, this frame waits kIdleGraceNs for
        // such a contender to come back (and then yields to it, blocked), and takes the position after that. Until
        // 2026-12-05 it yielded for the whole contend window and the worker stayed idle: at 16 live cameras over
        // capacity fixed batch 1 delivered 53 frames/s against 87 at 12 cameras (bench/batching.mjs).
        // While high-priority frames are about (one asked within the contend window), none of this: free positions
        // are kept for the contenders ahead whether they wait or not, so a high frame finds one. That is what priority
        // costs; without it a normal request's p50 fell below a high request's p99 (test/e2e/serve-grpc-priority).
        const bool conserve = !high_about;
        if (!conserve) {
          yield = free_positions <= std::max(ahead, reserve);
        } else if (free_positions <= ahead_blocked || (free_positions <= ahead && AllWorkersBusyLocked(pool))) {
          yield = true;
        } else if (free_positions <= ahead) {
          if (grace_until_ns == 0) grace_until_ns = now + kIdleGraceNs;
          if (now < grace_until_ns) {
            if (!wait(grace_until_ns, true)) return lease;
            continue;
          }
        }
      }
      if (yield) {
        // Another stream goes first: a live stream drops this frame (it will have a newer one soon); a file waits
        // its turn (bounded by the window, so a contender that went away cannot block it).
        if (controller_ && pool == Pool::kPrimary) controller_->OnScarce();
        stream.want_ns_ = now;
        if (stream.wait_since_ns_ == 0) stream.wait_since_ns_ = now;
        if (!wait(now + kContendWindowNs)) return lease;
        continue;
      }
    }
    if (filling_[p] >= 0 && int64_t(slots_[filling_[p]].seq) < stream.last_seq_) {
      // This pool's open batch comes before the one holding the stream's previous frame in postprocess order (that
      // frame went to the other pool, in a batch opened later: the breaker switched pools). A frame taking a position
      // here would be delivered before its predecessor, so this batch is dispatched as it is and a new one opened.
      // (Found by pipeline_fallback_test: frame 91 delivered after 92, about one run in five.)
      CloseFillingLocked(p, lock);  // may unlock: look again from the start
      continue;
    }
    if (filling_[p] < 0) {
      // Open the next batch on the free slot of the pool's least busy worker.
      int best = -1, best_busy = 1 << 30;
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].state != SlotState::kFree || slots_[i].retired || slots_[i].pool != pool) continue;
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
        filling_[p] = best;
        dispatch_cv_.notify_all();
      }
    }
    if (filling_[p] >= 0) {
      Slot& sl = slots_[filling_[p]];
      lease.batcher_ = this;
      lease.slot_ = filling_[p];
      lease.index_ = sl.acquired++;
      lease.input_ = sl.buffers.input + size_t(lease.index_) * config_.input_elems_per_image;
      if (sl.acquired >= CapLocked()) {
        sl.closed = true;
        filling_[p] = -1;
      }
      if (!IsHigh(stream)) {
        if (mine > 0) ++starvation_promotions_;
        last_normal_grant_ns_ = SteadyNowNs();
      }
      stream.last_grant_ns_ = SteadyNowNs();
      stream.last_seq_ = int64_t(sl.seq);
      stream.want_ns_ = 0;
      stream.wait_since_ns_ = 0;
      return lease;
    }
    // No free position at all: every slot of the pool is filling, in flight or waiting for postprocess.
    if (controller_ && pool == Pool::kPrimary) controller_->OnScarce();
    stream.want_ns_ = SteadyNowNs();
    if (stream.wait_since_ns_ == 0) stream.wait_since_ns_ = stream.want_ns_;
    if (!wait(0)) return lease;
  }
}

void Batcher::Commit(int slot, int index, ImageMeta meta) {
  std::unique_lock<std::mutex> lock(mu_);
  Slot& sl = slots_[slot];
  sl.images[index] = std::move(meta);
  ++sl.committed;
  if (sl.retired) slot_free_cv_.notify_all();  // RetireWorker waits for the writers of its filling slot
  MaybeDispatchLocked(slot, lock);
}

void Batcher::MaybeDispatchLocked(int slot_index, std::unique_lock<std::mutex>& lock) {
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
  const int images = config_.fixed_batch ? config_.batch_size : sl.committed;
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

void Batcher::CloseFillingLocked(int p, std::unique_lock<std::mutex>& lock) {
  const int idx = filling_[p];
  if (idx < 0) return;
  slots_[idx].closed = true;
  filling_[p] = -1;
  MaybeDispatchLocked(idx, lock);
}

void Batcher::DispatcherLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!closed_) {
    // The earliest deadline of the pools' filling batches (re-read each time: the controller may change the wait).
    int64_t deadline = INT64_MAX;
    for (int p = 0; p < kPools; ++p) {
      if (filling_[p] < 0) continue;
      const int64_t d = slots_[filling_[p]].opened_ns + WaitNsLocked();
      if (d <= SteadyNowNs()) {
        CloseFillingLocked(p, lock);  // may unlock: look again from the start
        deadline = INT64_MIN;
        break;
      }
      deadline = std::min(deadline, d);
    }
    if (deadline == INT64_MIN) continue;
    if (deadline == INT64_MAX) {
      dispatch_cv_.wait(lock);
    } else {
      dispatch_cv_.wait_for(lock, std::chrono::nanoseconds(deadline - SteadyNowNs()));
    }
  }
}

void Batcher::RetireWorker(int worker, const std::string& why) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (worker < 0 || worker >= int(worker_first_slot_.size()) || worker_gone_[worker].load()) return;
    worker_gone_[worker].store(true);
    ++pool_retired_[int(worker_pool_[worker])];
    const int first = worker_first_slot_[worker];
    const int count = int(workers_[worker]->slots().size());
    const std::string error = "inference worker " + workers_[worker]->name() + " exited: " + why;
    for (int i = first; i < first + count; ++i) {
      Slot& sl = slots_[i];
      sl.retired = true;
      if (filling_[int(sl.pool)] == i) {
        // Dispatched as soon as its last writer commits; Submit then fails and the batch completes as failed.
        CloseFillingLocked(int(sl.pool), lock);
      }
      if (sl.state == SlotState::kInFlight) {
        sl.state = SlotState::kDone;
        sl.ok = false;
        sl.error = error;
        sl.completed_ns = SteadyNowNs();
      }
    }
    done_cv_.notify_all();
    NotifyWaitersLocked();  // Acquire re-checks: the slots are gone, maybe every worker with them
    // Source threads may still be letterboxing into a filling slot of this worker: wait for their commits (a few
    // ms each; bounded anyway). Nothing here waits for the JS thread, which may be the one joining this worker.
    const auto no_writers = [&] {
      for (int i = first; i < first + count; ++i)
        if (slots_[i].state == SlotState::kFilling && slots_[i].committed != slots_[i].acquired) return false;
      return true;
    };
    slot_free_cv_.wait_for(lock, std::chrono::seconds(2), no_writers);
  }
  // A postprocess thread reading this worker's output right now finishes that read; every later one sees the flag
  // (checked under output_mu_) and fails the image instead.
  { std::lock_guard<std::mutex> lock(output_mu_); }
}

Batcher::Completion Batcher::CompleteBatch(int worker, int local_slot, bool ok, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (worker < 0 || worker >= int(worker_first_slot_.size())) return Completion::kUnknown;
  if (local_slot < 0 || local_slot >= int(workers_[worker]->slots().size())) return Completion::kUnknown;
  Slot& sl = slots_[worker_first_slot_[worker] + local_slot];
  if (sl.state != SlotState::kInFlight) return Completion::kIgnored;
  sl.state = SlotState::kDone;
  sl.ok = ok;
  sl.error = error;
  sl.completed_ns = SteadyNowNs();
  done_cv_.notify_all();
  return Completion::kCompleted;
}

Batcher::Next Batcher::WaitNext(Slot** out, const std::atomic<bool>& wake) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (wake.load()) return Next::kWoken;
    int ready = -1;
    bool pending = false;
    for (size_t i = 0; i < slots_.size(); ++i) {
      const Slot& sl = slots_[i];
      if (sl.state == SlotState::kInFlight || sl.state == SlotState::kDone) pending = true;
      if (sl.state == SlotState::kDone && sl.seq == next_post_seq_) ready = int(i);
    }
    if (ready >= 0) {
      *out = &slots_[ready];
      return Next::kBatch;
    }
    if (closed_ && !pending) return Next::kClosed;
    if (closed_) {
      // Bounded wait for in-flight batches during shutdown; a worker that never answers is abandoned.
      if (done_cv_.wait_for(lock, std::chrono::seconds(10)) == std::cv_status::timeout) return Next::kClosed;
    } else {
      done_cv_.wait(lock);
    }
  }
}

void Batcher::Wake() {
  { std::lock_guard<std::mutex> lock(mu_); }  // WaitNext checks its flag under mu_: no lost wake-up
  done_cv_.notify_all();
}

void Batcher::Release(Slot& sl) {
  std::lock_guard<std::mutex> lock(mu_);
  sl.state = SlotState::kFree;
  sl.acquired = sl.committed = 0;
  ++next_post_seq_;
  NotifyWaitersLocked();
}

void Batcher::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return;
  for (int p = 0; p < kPools; ++p) CloseFillingLocked(p, lock);
  closed_ = true;
  dispatch_cv_.notify_all();
  done_cv_.notify_all();
  NotifyWaitersLocked();
}

void Batcher::JoinDispatcher() {
  if (dispatcher_.joinable()) dispatcher_.join();
}

void Batcher::SetPriority(Contender& c, bool high) {
  std::lock_guard<std::mutex> lock(mu_);
  c.high_ = high;
}

void Batcher::RecordBatch(int images, double infer_ms, const double* latencies_ms, int n) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!controller_) return;
  controller_->OnBatch(images, infer_ms);
  for (int i = 0; i < n; ++i) controller_->OnLatency(latencies_ms[i]);
  // A smaller cap closes the batches being filled once they have that many images.
  for (int p = 0; p < kPools; ++p)
    if (filling_[p] >= 0 && slots_[filling_[p]].acquired >= controller_->cap()) CloseFillingLocked(p, lock);
  dispatch_cv_.notify_all();  // the wait may have changed
}

BatchingState Batcher::batching_state() const {
  std::lock_guard<std::mutex> lock(mu_);
  BatchingState s;
  s.target_ms = config_.target_latency_ms;
  s.cap = CapLocked();
  s.wait_ms = double(WaitNsLocked()) / 1e6;
  s.starvation_promotions = starvation_promotions_;
  if (controller_) {
    s.mode = "adaptive";
    s.window_p99_ms = controller_->last_p99_ms();
    s.infer_ms = controller_->infer_estimate_ms(controller_->cap());
    s.increases = controller_->increases();
    s.decreases = controller_->decreases();
  } else if (config_.fixed_batch) {
    s.mode = "fixed-batch";
  }
  return s;
}

int Batcher::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const Slot& sl : slots_)
    if (sl.state == SlotState::kInFlight || sl.state == SlotState::kDone) ++n;
  return n;
}

}  // namespace camtrack::batch
