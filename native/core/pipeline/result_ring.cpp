#include "core/pipeline/result_ring.h"

#include <algorithm>

namespace camtrack::pipeline {

ResultRing::ResultRing(int capacity, int max_detections, EventSink* sink) : sink_(sink) {
  const int cap = std::max(8, capacity);
  pool_.reserve(cap);
  free_.reserve(cap);
  ready_.reserve(cap);
  for (int i = 0; i < cap; ++i) {
    auto r = std::make_unique<FrameResult>();
    r->detections.reserve(max_detections);
    r->tracks.reserve(max_detections);
    r->track_events.reserve(64);
    r->annotations.reserve(FrameResult::kMaxAnnotations);
    r->analytics.Reserve(0, 0, 256);
    free_.push_back(r.get());
    pool_.push_back(std::move(r));
  }
}

FrameResult* ResultRing::Acquire(const std::atomic<bool>* abandon) {
  std::unique_lock<std::mutex> lock(mu_);
  if (free_.empty()) {
    ++waits_;
    free_cv_.wait(lock, [&] { return !free_.empty() || stopping_.load() || (abandon && abandon->load()); });
    if (free_.empty()) return nullptr;
  }
  FrameResult* r = free_.back();
  free_.pop_back();
  return r;
}

void ResultRing::GiveBack(FrameResult* result) {
  std::lock_guard<std::mutex> lock(mu_);
  free_.push_back(result);
}

void ResultRing::Publish(FrameResult* result) {
  std::lock_guard<std::mutex> lock(mu_);
  ready_.push_back(result);
}

void ResultRing::NotifyDelivered(bool delivered) {
  std::lock_guard<std::mutex> lock(mu_);
  if ((delivered || !events_.empty()) && !notify_pending_ && sink_) {
    notify_pending_ = true;
    sink_->Notify();
  }
}

void ResultRing::PushEvent(ingest::StreamEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(std::move(event));
  if (!notify_pending_ && sink_) {
    notify_pending_ = true;
    sink_->Notify();
  }
}

void ResultRing::Drain(std::vector<FrameResult*>& results, std::vector<ingest::StreamEvent>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  results.insert(results.end(), ready_.begin(), ready_.end());
  ready_.clear();
  for (auto& e : events_) events.push_back(std::move(e));
  events_.clear();
  notify_pending_ = false;
}

void ResultRing::Release(const std::vector<FrameResult*>& results) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (FrameResult* r : results) free_.push_back(r);
  }
  free_cv_.notify_all();
}

void ResultRing::Stop() {
  {
    // Under mu_, which Acquire holds from its check to its wait: a store outside it could be missed and the
    // postprocess thread (joined at shutdown, from the JS thread that alone could free a result) would sleep forever.
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true);
  }
  free_cv_.notify_all();
}

void ResultRing::WakeWaiters() {
  { std::lock_guard<std::mutex> lock(mu_); }  // Acquire checks `abandon` under mu_: no lost wake-up
  free_cv_.notify_all();
}

uint64_t ResultRing::result_waits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waits_;
}

}  // namespace camtrack::pipeline
