#pragma once
// camtrack::track::Tracker — the per-stream multi-object tracker interface, what it outputs per frame, and its
// track lifecycle events.
//
// One Tracker instance holds the state of ONE stream (tracks, Kalman states, id counter). It is not thread-safe:
// the thread that processes that stream's frames calls Update() — or Predict() for a frame that was not inferred —
// (and TakeEvents()) for each frame, in frame order.
// Different streams use different instances, which share nothing and may run on different threads at the same time.
// Ownership: the tracker owns its track state and its pending events; callers own the detection arrays and output
// vectors they pass in.
// Implementations: ByteTracker (byte_tracker.h), SortTracker (sort_tracker.h), IouTracker (iou_tracker.h); create
// them by kind with CreateTracker (factory.h).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/common/geometry.h"

namespace camtrack {
namespace track {

// One confirmed track in one frame. Plain value, trivially copyable.
struct TrackedObject {
  int64_t track_id = 0;        // unique per tracker instance, starting at 1; never reused (until Reset())
  Box box;                     // the track's box (Kalman state, or last detection for IouTracker), x1y1x2y2 in
                               // source-frame pixels (not clipped)
  float score = 0.f;           // score of the detection last matched to this track
  int32_t class_id = 0;        // class of the detection last matched to this track
  int32_t frames_tracked = 0;  // frames of the stream since the track started (1 on its first frame), counting
                               // the frames that were not inferred (Predict()) as well as the inferred ones
};

// A change in a track's life, as seen in the tracker's OUTPUT (the TrackedObject lists of Update()):
//   kNew      the track appears in the output for the first time (it was just confirmed);
//   kLost     a track that was output is not output in this frame but is still kept (it may come back);
//   kRefound  a track that was reported kLost is output again (same id);
//   kRemoved  a track that was ever output is deleted for good (its id will never be output again).
// Tracks that are never output (unconfirmed, then dropped) produce no events. Plain value, trivially copyable.
struct TrackEvent {
  enum class Kind { kNew, kLost, kRefound, kRemoved };
  int64_t track_id = 0;
  Kind kind = Kind::kNew;
  Box box;               // the track's box in that frame (kLost/kRemoved: its last box, predicted where it has a
                         // motion model)
  int32_t class_id = 0;  // class of the detection last matched to the track
  int64_t frame = 0;     // the tracker's frame number of the event (1 = first Update() since construction/Reset();
                         // each later Update() or Predict() is one more)
};

// Bounded queue of pending TrackEvents, owned by a tracker. Reserves kReserve up front; keeps at most kMaxPending
// (a consumer that never takes events costs bounded memory; further events are dropped and counted). A consumer
// that takes events every frame never allocates. Thread-safety: none (owned by one tracker).
class TrackEventLog {
 public:
  static constexpr size_t kReserve = 512;
  static constexpr size_t kMaxPending = 4096;

  TrackEventLog() { events_.reserve(kReserve); }
  void Push(int64_t track_id, TrackEvent::Kind kind, const Box& box, int32_t class_id, int64_t frame) {
    if (events_.size() >= kMaxPending) {
      ++dropped_;
      return;
    }
    TrackEvent e;
    e.track_id = track_id;
    e.kind = kind;
    e.box = box;
    e.class_id = class_id;
    e.frame = frame;
    events_.push_back(e);
  }
  // Appends the pending events to `out` (oldest first) and empties the queue (capacity kept).
  void TakeInto(std::vector<TrackEvent>& out) {
    out.insert(out.end(), events_.begin(), events_.end());
    events_.clear();
  }
  void Clear() { events_.clear(); }
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<TrackEvent> events_;
  uint64_t dropped_ = 0;
};

class Tracker {
 public:
  virtual ~Tracker();

  // Advances the tracker by one frame with that frame's detections (source pixels; `dets` may be null when n == 0).
  // `out` is cleared and filled with the confirmed tracks of this frame; its capacity is reused, so a caller that
  // keeps the vector between frames does not allocate in steady state. Call once per frame, including frames with
  // no detections (so that lost tracks age correctly).
  virtual void Update(const Detection* dets, size_t n, std::vector<TrackedObject>& out) = 0;

  // Advances the tracker by one frame that was NOT inferred (no detector ran on it: inference intervals, motion
  // gating). Such a frame is a frame of the stream, but it is not a miss of the tracks that were being tracked:
  //   - tracked tracks (matched on the last inferred frame, or carried since by Predict(); confirmed or not yet) are
  //     carried: motion models take their one-frame step (Kalman predict), they are not aged, and their last-seen
  //     frame moves to this frame (ByteTrack's end_frame; SORT's and the IoU tracker's time_since_update stays 0).
  //     So a static object keeps its id through a skip of any length, and a track carried through a skip that is
  //     then not detected on the next inferred frame becomes lost there and starts its buffer from that frame, as
  //     after a frame where it was detected;
  //   - lost tracks (not matched on the last inferred frame and not re-found since) age by this frame exactly as on
  //     an inferred frame without their detection, so the lost-track buffer (ByteTrack track_buffer /
  //     trackBufferSeconds, SORT's and the IoU tracker's max_age) is measured in frames of the stream, inferred or
  //     not; one whose buffer runs out is removed (kRemoved) at the same frame number as it would be on inferred
  //     frames without detections.
  // `out` gets the confirmed tracked tracks, at their predicted boxes (trackers without a motion model: their last
  // boxes); lost tracks are not output. The frame number (TrackEvent::frame) advances, and so does frames_tracked
  // (TrackedObject: every frame of the stream since the track started, inferred or not). Events: kRemoved only (a
  // lost track timed out, or a track whose prediction stops being a finite box); nothing is confirmed, lost or
  // re-found. Before the first Update() (nothing seen yet) it outputs nothing and changes nothing, so the first
  // inferred frame is frame 1. `out` as for Update(). Same thread and order rules as Update().
  virtual void Predict(std::vector<TrackedObject>& out) = 0;

  // Forgets every track and restarts ids at 1 (e.g. after a stream reconnects to a different scene). Pending
  // events are discarded too (no kRemoved events are produced for the forgotten tracks).
  void Reset() {
    events_.Clear();
    ResetState();
  }

  // Lifecycle output, recorded by implementations into events_. APPENDS the events of all Update() and Predict()
  // calls since the previous TakeEvents() to `out`, in order (frame by frame; within a frame: kNew/kRefound in output
  // order, then kLost, then kRemoved), and forgets them. `out` is not cleared, so one vector can collect
  // several trackers' events; reuse it (clear() between uses) to avoid allocation. At most
  // TrackEventLog::kMaxPending events are kept between calls; DroppedEvents() counts the ones beyond.
  void TakeEvents(std::vector<TrackEvent>& out) { events_.TakeInto(out); }
  uint64_t DroppedEvents() const { return events_.dropped(); }

 protected:
  // The implementation's part of Reset(): its tracks, counters and frame number (the event log is the base's).
  virtual void ResetState() = 0;

  TrackEventLog events_;  // written by Update() of the implementation, cleared by Reset()
};

}  // namespace track
}  // namespace camtrack
