#pragma once
// What travels with a frame through the batcher: its timing and size (FrameMeta), and, for an image in a batch
// slot, the stream it belongs to and its letterbox geometry (ImageMeta). Plain values.
#include <condition_variable>
#include <cstdint>
#include <memory>

#include "core/common/geometry.h"

namespace camtrack::batch {

// One decoded frame of one stream.
struct FrameMeta {
  int64_t frame_index = 0;    // 0-based among the stream's decoded frames; continues across reconnects
  int64_t pts_ms = 0;
  int64_t decoded_at_ns = 0;  // steady clock when it entered the pipeline (latency starts here)
  int64_t positioned_at_ns = 0;  // steady clock when it got its batch position (inferred frames; BatchController)
  int64_t wall_ms = 0;        // wall clock at decode
  int32_t width = 0, height = 0;  // source frame size
  int64_t input_seq = -1;     // pushed frames: the sequence number of the push it came from (its tag's key); else -1
};

// A stream as the batcher sees it: a party to its fairness rule (see Batcher::Acquire), and the owner of the images
// it commits (kept alive by them while they are in flight). The pipeline's stream record derives from it. Its
// fields belong to the batcher (guarded by the batcher's mutex).
class Contender {
 public:
  virtual ~Contender() = default;

 private:
  friend class Batcher;
  int64_t last_grant_ns_ = 0;  // when it last got a batch position
  int64_t want_ns_ = 0;        // last time it wanted one and did not get it (0: not contending)
  int64_t wait_since_ns_ = 0;  // first refusal since its last position (0: none); the starvation rule
  int64_t last_seq_ = -1;      // postprocess order (Slot::seq) of the batch its last position is in (-1: none)
  bool high_ = false;          // priority 'high' (Batcher::SetPriority)
  bool frame_high_ = false;    // the frame it is in Acquire for was pushed with priority 'high' (during Acquire only)
  bool blocked_ = false;       // waiting inside a blocking Acquire (counts as contending however long it waits)
  bool cancelled_ = false;     // Cancel(): Acquire returns false from now on
  bool joined_ = false;        // in the batcher's list of contenders
  // Its Acquire waits here (one per stream: a newer pushed frame wakes its own stream's wait only, not every
  // source thread; Batcher::NotifyWaitersLocked wakes each waiting one when positions may have freed).
  std::condition_variable cv_;
};

// One image of a batch slot.
struct ImageMeta {
  std::shared_ptr<Contender> owner;  // the stream whose frame it is (set when the position is acquired)
  FrameMeta frame;
  LetterboxInfo letterbox;
  bool empty = true;  // committed without a picture (its lease was dropped): postprocess skips it
};

}  // namespace camtrack::batch
