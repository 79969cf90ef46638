#pragma once
// SnapshotSlot: one stream's on-demand snapshot (`stream.snapshot()`, serve's snapshot.jpg / stream.mjpeg). Nothing
// happens per frame while nobody asks but one atomic load on the source thread (`requested()`); a request makes the
// next frame that goes on to postprocess be copied once (swscale → packed RGB24 at the source frame's size) into the
// slot's reusable picture, and encoded once (JpegEncoder) into its reusable buffer:
//
//   idle ─Request()→ requested ─Capture() (source thread)→ capturing ─┬─ no boxes: encode → ready
//                                                                      └─ boxes: captured ─OnResult() of that frame
//                                                                         (postprocess thread): draw + encode → ready
//   ready ─Release() (consumer, after copying the bytes out)→ idle
//
// A captured frame whose result never comes (dropped after capture: a later frame's result arrives first) re-arms the
// request (captured → requested): the next frame is taken. Cancel() withdraws a request no thread has taken yet. The
// consumer learns of `ready` through the stream's event queue (EventKind::kSnapshot); only it reads the picture and
// buffer then, and no other thread touches them until it calls Release(). Each transition is one compare-and-swap, so
// every state is owned by exactly one thread: no lock.
//
// Allocation: the picture and the JPEG buffer grow on the first request and when the frame size grows; none after.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/geometry.h"
#include "core/snapshot/jpeg_encoder.h"
#include "core/track/tracker.h"

struct AVFrame;
struct SwsContext;

namespace camtrack::snapshot {

// What a ready snapshot is (valid from the kSnapshot event until Release()).
struct SnapshotView {
  const uint8_t* jpeg = nullptr;  // null when `error` is set
  size_t size = 0;
  int64_t frame_index = -1, pts_ms = 0;
  int width = 0, height = 0;
  bool boxes = false;
  int num_boxes = 0;  // boxes drawn
  std::string error;  // why this snapshot could not be made (e.g. a pixel format swscale cannot read), else empty
};

class SnapshotSlot {
 public:
  SnapshotSlot() = default;
  ~SnapshotSlot();
  SnapshotSlot(const SnapshotSlot&) = delete;
  SnapshotSlot& operator=(const SnapshotSlot&) = delete;

  // Any thread (the consumer): asks for the next frame. False when a snapshot is already in progress or waiting to
  // be taken. `quality` 1..100.
  bool Request(bool boxes, int quality) noexcept;
  // Withdraws a request no frame has been taken for yet; true when it did.
  bool Cancel() noexcept;
  bool requested() const noexcept { return state_.load(std::memory_order_acquire) == kRequested; }

  // Source thread, for a frame that goes on to postprocess (`frame`: its picture in CPU memory, FrameSource::
  // SnapshotFrame(): NVDEC surfaces are copied down for it; null when there is none; `width` x `height`: the source frame's size, which the boxes are in). True when the snapshot is
  // ready now (no boxes wanted, or an error): the caller then notifies the consumer.
  bool Capture(const AVFrame* frame, int width, int height, int64_t frame_index, int64_t pts_ms);
  // Postprocess thread, for every result of the stream while a captured frame waits for its boxes: the frame's
  // tracks (drawn with their ids) or, when it has none, its detections. True when the snapshot is ready now.
  bool OnResult(int64_t frame_index, const Detection* detections, size_t num_detections,
                const track::TrackedObject* tracks, size_t num_tracks);
  bool captured() const noexcept { return state_.load(std::memory_order_acquire) == kCaptured; }

  // Consumer, after the kSnapshot event: the ready snapshot (false when none is ready), then Release().
  bool Ready(SnapshotView* out) const;
  void Release() noexcept;

 private:
  enum State : int { kIdle, kRequested, kCapturing, kCaptured, kEncoding, kReady };
  void Encode();  // the picture → JPEG, into view_; records an error instead of throwing

  std::atomic<int> state_{kIdle};
  bool boxes_ = false;  // of the current request (written before kRequested, read after)
  int quality_ = 80;
  SwsContext* sws_ = nullptr;
  std::vector<uint8_t> rgb_;
  int stride_ = 0;
  JpegEncoder encoder_;
  SnapshotView view_;
};

}  // namespace camtrack::snapshot
