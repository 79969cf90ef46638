#include "core/snapshot/snapshot_slot.h"

extern "C" {
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <exception>

#include "core/snapshot/draw.h"

namespace camtrack::snapshot {

SnapshotSlot::~SnapshotSlot() {
  if (sws_) sws_freeContext(sws_);
}

bool SnapshotSlot::Request(bool boxes, int quality) noexcept {
  int expected = kIdle;
  // The options are written before the state that publishes them, by the only thread that may leave kIdle.
  if (state_.load(std::memory_order_acquire) != kIdle) return false;
  boxes_ = boxes;
  quality_ = std::clamp(quality, 1, 100);
  return state_.compare_exchange_strong(expected, kRequested, std::memory_order_acq_rel);
}

bool SnapshotSlot::Cancel() noexcept {
  int expected = kRequested;
  return state_.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
}

bool SnapshotSlot::Capture(const AVFrame* frame, int width, int height, int64_t frame_index, int64_t pts_ms) {
  int expected = kRequested;
  if (!state_.compare_exchange_strong(expected, kCapturing, std::memory_order_acq_rel)) return false;
  view_ = SnapshotView{};
  view_.error.clear();
  view_.frame_index = frame_index;
  view_.pts_ms = pts_ms;
  view_.width = width;
  view_.height = height;
  view_.boxes = boxes_;
  bool ok = false;
  if (frame && width > 0 && height > 0 && frame->width > 0 && frame->height > 0) {
    // The deprecated full-range "J" formats (what JPEG and MJPEG decoders report) as their plain formats with the
    // full range set explicitly: the same conversion, without swscale's warning on every snapshot.
    AVPixelFormat fmt = AVPixelFormat(frame->format);
    bool full_range = frame->color_range == AVCOL_RANGE_JPEG;
    switch (fmt) {
      case AV_PIX_FMT_YUVJ420P: fmt = AV_PIX_FMT_YUV420P, full_range = true; break;
      case AV_PIX_FMT_YUVJ422P: fmt = AV_PIX_FMT_YUV422P, full_range = true; break;
      case AV_PIX_FMT_YUVJ444P: fmt = AV_PIX_FMT_YUV444P, full_range = true; break;
      case AV_PIX_FMT_YUVJ440P: fmt = AV_PIX_FMT_YUV440P, full_range = true; break;
      default: break;
    }
    sws_ = sws_getCachedContext(sws_, frame->width, frame->height, fmt, width, height, AV_PIX_FMT_RGB24, SWS_BILINEAR,
                                nullptr, nullptr, nullptr);
    if (sws_) {
      int* inv = nullptr;
      int* table = nullptr;
      int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
      if (sws_getColorspaceDetails(sws_, &inv, &src_range, &table, &dst_range, &brightness, &contrast, &saturation) >= 0 &&
          src_range != int(full_range))
        sws_setColorspaceDetails(sws_, inv, int(full_range), table, dst_range, brightness, contrast, saturation);
      stride_ = width * 3;
      const size_t need = size_t(stride_) * size_t(height);
      if (rgb_.size() < need) rgb_.resize(need);
      uint8_t* dst[4] = {rgb_.data(), nullptr, nullptr, nullptr};
      int dst_stride[4] = {stride_, 0, 0, 0};
      ok = sws_scale(sws_, frame->data, frame->linesize, 0, frame->height, dst, dst_stride) == height;
    }
    if (!ok) view_.error = "this frame's pixel format cannot be converted for a snapshot";
  } else {
    view_.error = "this frame has no picture to snapshot";
  }
  if (!ok || !boxes_) {
    if (ok) Encode();
    state_.store(kReady, std::memory_order_release);
    return true;
  }
  state_.store(kCaptured, std::memory_order_release);
  return false;
}

bool SnapshotSlot::OnResult(int64_t frame_index, const Detection* detections, size_t num_detections,
                            const track::TrackedObject* tracks, size_t num_tracks) {
  if (state_.load(std::memory_order_acquire) != kCaptured) return false;
  if (frame_index < view_.frame_index) return false;  // an earlier frame's result (results come in frame order)
  int expected = kCaptured;
  if (frame_index > view_.frame_index) {
    // The captured frame was dropped before its result: take the next one.
    state_.compare_exchange_strong(expected, kRequested, std::memory_order_acq_rel);
    return false;
  }
  if (!state_.compare_exchange_strong(expected, kEncoding, std::memory_order_acq_rel)) return false;
  const RgbView img{rgb_.data(), view_.width, view_.height, stride_};
  const int thickness = std::max(2, view_.width / 400);
  const int scale = std::max(2, view_.height / 240);
  const auto px = [](float v) { return int(std::lround(v)); };
  int drawn = 0;
  if (num_tracks > 0) {
    for (size_t i = 0; i < num_tracks; ++i) {
      const track::TrackedObject& t = tracks[i];
      const Rgb c = ColorFor(t.track_id);
      DrawRect(img, px(t.box.x1), px(t.box.y1), px(t.box.x2), px(t.box.y2), thickness, c);
      const int label_y = std::max(0, px(t.box.y1) - LabelHeight(scale));
      DrawNumber(img, std::max(0, px(t.box.x1)), label_y, t.track_id, scale, Rgb{0, 0, 0}, c);
      ++drawn;
    }
  } else {
    for (size_t i = 0; i < num_detections; ++i) {
      const Box& b = detections[i].box;
      DrawRect(img, px(b.x1), px(b.y1), px(b.x2), px(b.y2), thickness, ColorFor(-1));
      ++drawn;
    }
  }
  view_.num_boxes = drawn;
  Encode();
  state_.store(kReady, std::memory_order_release);
  return true;
}

void SnapshotSlot::Encode() {
  try {
    encoder_.Encode(rgb_.data(), view_.width, view_.height, stride_, quality_);
    view_.jpeg = encoder_.data();
    view_.size = encoder_.size();
  } catch (const std::exception& e) {
    view_.jpeg = nullptr;
    view_.size = 0;
    view_.error = e.what();
  }
}

bool SnapshotSlot::Ready(SnapshotView* out) const {
  if (state_.load(std::memory_order_acquire) != kReady) return false;
  *out = view_;
  return true;
}

void SnapshotSlot::Release() noexcept {
  int expected = kReady;
  state_.compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel);
}

}  // namespace camtrack::snapshot
