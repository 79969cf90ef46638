#pragma once
// ResultRing: the pooled results and the event queue between the postprocess thread (and source threads, for
// events) and the consumer (the binding's delivery on the JS main thread; the sanitizer driver's consumer thread).
//
// Results come from a fixed pool (FrameResult's vectors keep their reserved capacity), so the hot path does not
// allocate; when the consumer holds every result, the postprocess thread waits in Acquire() (counted:
// result_waits()). The consumer is woken through EventSink::Notify(), at most once until it drains.
//
// Thread-safe: one mutex guards everything here.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/ingest/stream_event.h"
#include "core/pipeline/frame_result.h"

namespace camtrack::pipeline {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Called from pipeline threads when events are waiting; must be cheap and non-blocking (a TSFN NonBlockingCall).
  virtual void Notify() = 0;
};

class ResultRing {
 public:
  // `capacity` results (at least 8), each reserved for `max_detections` detections and tracks.
  ResultRing(int capacity, int max_detections, EventSink* sink);

  // Postprocess thread: a free result, waiting for one while the consumer holds them all. Null at shutdown, or when
  // `abandon` is set (RetireWorker: the worker whose output this result was for is gone).
  FrameResult* Acquire(const std::atomic<bool>* abandon = nullptr);
  // Postprocess thread: an acquired result that will not be published (its frame failed).
  void GiveBack(FrameResult* result);
  // Postprocess thread: a filled result, ready for the consumer (woken by NotifyDelivered).
  void Publish(FrameResult* result);
  // Wakes the consumer when results or events wait (once per batch or group of frames).
  void NotifyDelivered(bool delivered);
  // Any thread: queues an event and wakes the consumer.
  void PushEvent(ingest::StreamEvent event);

  // Consumer: moves waiting results and events out; results go back with Release() after use.
  void Drain(std::vector<FrameResult*>& results, std::vector<ingest::StreamEvent>& events);
  void Release(const std::vector<FrameResult*>& results);

  // Shutdown: Acquire returns null from now on.
  void Stop();
  // Re-checks the `abandon` flags of waiting Acquire() calls (after RetireWorker set one).
  void WakeWaiters();
  uint64_t result_waits() const;

 private:
  EventSink* const sink_;
  mutable std::mutex mu_;
  std::condition_variable free_cv_;
  std::vector<std::unique_ptr<FrameResult>> pool_;
  std::vector<FrameResult*> free_;
  std::vector<FrameResult*> ready_;
  std::vector<ingest::StreamEvent> events_;
  bool notify_pending_ = false;
  uint64_t waits_ = 0;
  std::atomic<bool> stopping_{false};  // set under mu_ (see Stop)
};

}  // namespace camtrack::pipeline
