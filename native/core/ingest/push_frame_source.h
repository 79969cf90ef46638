#pragma once
// Frames pushed in from JavaScript (a stream with input 'push', issue 10): compressed JPEG, PNG, H.264 or HEVC bytes
// handed over one frame at a time (stream.push()), queued per stream in a PushInput, decoded on the stream's source
// thread at the size the model needs by a PushFrameSource (decode::JpegDecoder at a DCT scale / PngDecoder /
// AnnexBDecoder into one PictureBuffer, then the CpuLetterboxer straight into the batch image), and run by the
// StreamRunner like any other source: fps limit, batching, delivery credit, stats. docs/push.md.
//
// Queue policy, bounded at PushOptions::queue_size compressed frames (the stream's `live`):
//   live      Push() never waits and never refuses.
//             JPEG/PNG: a full queue drops its OLDEST frame (push.dropped.queue), so the source thread always takes
//             the newest one next.
//             H.264/HEVC: an access unit cannot be dropped without corrupting the pictures predicted from it, so
//             every queued one is decoded; a decoded picture that finds no batch image is dropped after decode
//             (dropped.busy, as for any live source). When the queue is full anyway (decoding itself is slower than
//             the pushes), every queued access unit is dropped (push.dropped.queue) and the decoder skips to the next
//             keyframe (AnnexBDecoder::DropUntilKeyframe; what it skips: push.dropped.untilKeyframe).
//   lossless  nothing is dropped. Push() reports the queue full when this frame filled it (JS: push() returns
//             false) and refuses a frame pushed into a full queue (Error kInvalidState: wait for 'drain'); once the
//             source thread has taken it down to half, the drain callback runs once (JS: the 'drain' event).
//
// Sequence numbers: the n-th accepted push of a stream is frame n (from 0); the pusher passes the number it expects
// (JS counts its accepted pushes) and Push() checks it, so both sides name a frame by the same number, the key of
// its per-frame tag (src/frame-tags.ts). A picture carries the number of the push it was decoded from
// (FrameSource::frame_seq(); for H.264/HEVC through libavcodec's reordering, AnnexBDecoder's tag).
//
// Bad input (decode::FrameError: empty, wrong_codec, truncated, corrupt, too_large, unsupported, no_keyframe) costs
// that frame only: counted by reason (push.rejected), reported as a warning event naming the frame, at most
// kWarnBurst at once and then one per second (the others counted in push.warningsSuppressed and summed up in the
// next warning), and the stream goes on.
//
// Bytes: a pushed frame's bytes are borrowed (PushedBytes, implemented by the binding over the JS Buffer it keeps a
// reference to) and released as soon as they are no longer read: right after a JPEG/PNG decode or an H.264/HEVC
// Push() (which copies), when a live queue drops the frame, or when the stream stops. Releasing is the holder's
// destructor, called on whichever thread lets go (the binding hands the JS reference back to the main thread).
//
// Threads: PushInput is shared by the pushing thread (JS main thread: Push, End), the stream's source thread (Pop)
// and any thread reading stats or stopping the stream; everything is guarded by its mutex. PushFrameSource belongs
// to the source thread (FrameSource rules).
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/decode/annexb_decoder.h"
#include "core/decode/frame_error.h"
#include "core/decode/jpeg_decoder.h"
#include "core/decode/picture_buffer.h"
#include "core/decode/png_decoder.h"
#include "core/ingest/frame_source.h"
#include "core/preprocess/letterbox.h"

namespace camtrack::ingest {

enum class PushCodec { kJpeg, kPng, kH264, kHevc };
// "jpeg", "png", "h264", "hevc" (the stream option's values).
const char* PushCodecName(PushCodec codec) noexcept;

// A pushed stream's options, copied from the stream config by the binding (src/config/schema.ts declares them and
// their defaults once); the initialisers are neutral values: queue_size, max_pixels and decoder_threads 0 are refused.
struct PushOptions {
  PushCodec codec = PushCodec::kJpeg;
  bool live = false;             // the policy: live (keep the newest) or lossless (back-pressure)
  int queue_size = 0;            // compressed frames queued at most (>= 1)
  int64_t max_pixels = 0;        // width × height over this → "too_large", from the header (> 0)
  int decoder_threads = 0;       // H.264/HEVC: libavcodec threads (>= 1)
};

// The bytes of one pushed frame, borrowed from whoever pushed them; released by destroying the holder (any thread).
class PushedBytes {
 public:
  virtual ~PushedBytes() = default;
  virtual const uint8_t* data() const noexcept = 0;
  virtual size_t size() const noexcept = 0;
};

// Bytes owned by the holder (native tests, the sanitizer driver, benchmarks).
class OwnedBytes final : public PushedBytes {
 public:
  explicit OwnedBytes(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  const uint8_t* data() const noexcept override { return bytes_.data(); }
  size_t size() const noexcept override { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

struct PushedFrame {
  std::unique_ptr<PushedBytes> bytes;
  int64_t seq = -1;     // the push's sequence number
  int64_t pts_ms = 0;   // as given, or the time since the stream's first push
  bool high = false;    // pushed with priority 'high': its batch position goes ahead of normal frames
};

// Counters of one pushed stream (plain values; PushInput::Stats()). push.* in stats() (pipeline/stats.h).
struct PushStats {
  PushCodec codec = PushCodec::kJpeg;
  bool live = false;
  int queue_size = 0;
  uint64_t queued = 0;             // frames waiting in the queue now
  uint64_t pushed = 0;             // frames accepted by Push()
  uint64_t refused = 0;            // lossless: pushes refused because the queue was full
  uint64_t dropped_queue = 0;      // live: frames dropped from a full queue before decoding
  uint64_t dropped_until_keyframe = 0;  // live H.264/HEVC: access units skipped after a queue overflow
  // Bad frames by reason (decode::FrameFault order; until_keyframe is not bad input: see dropped_until_keyframe).
  std::array<uint64_t, 8> rejected{};
  uint64_t warnings_suppressed = 0;  // bad frames reported only in a later warning's count (rate limit)
};

// The per-stream queue of pushed frames and its counters. Created with the stream, shared by the stream (pushes,
// stats), its source factory and its source. Thread-safe.
class PushInput {
 public:
  // Throws Error(kInvalidArgument) for unusable options.
  explicit PushInput(PushOptions options);
  PushInput(const PushInput&) = delete;
  PushInput& operator=(const PushInput&) = delete;

  const PushOptions& options() const noexcept { return options_; }

  // The result of an accepted push.
  struct Pushed {
    size_t queued = 0;  // frames in the queue after this one
    bool full = false;  // lossless: the queue is full now; push no more until the drain callback
  };
  // Pushing thread: queues frame `seq` (which must be the number of pushes accepted so far) with its bytes and its
  // presentation time (`pts_ms` < 0: the time since the first push). Throws Error(kInvalidState) after End()/Close(),
  // or when a lossless queue is full (the frame is refused and counted; its bytes are released), and
  // Error(kInternal) for a sequence number out of step. A null or 0-byte frame is queued like any other (its decode
  // reports "empty"). `high`: the frame's own priority 'high' (FrameSource::frame_high_priority once decoded).
  Pushed Push(int64_t seq, std::unique_ptr<PushedBytes> bytes, int64_t pts_ms, bool high = false);
  // Pushing thread: no more frames; the source ends once the queue is empty (H.264/HEVC: after flushing the decoder).
  // Idempotent; Push() throws afterwards.
  void End();
  // The stream stopped or finished (any thread): Push() refuses from now on, Pop() returns kClosed, queued frames are
  // released. Idempotent.
  void Close();
  // Runs `fn` (on the source thread, from Pop()) each time a lossless queue that Push() reported full is taken down to
  // half. Set before the stream starts.
  void SetDrainCallback(std::function<void()> fn) { on_drain_ = std::move(fn); }
  // Runs `fn` (on the pushing thread, after the queue's lock is released) after each push accepted by a live
  // queue: the frame the source holds, if it waits for a batch position, is superseded (batch::Batcher::NewerFrame).
  // Set before the stream starts.
  void SetPushCallback(std::function<void()> fn) { on_push_ = std::move(fn); }
  // The number of frames queued now, readable without the lock (Batcher::Acquire's `newer`).
  const std::atomic<uint64_t>* waiting() const noexcept { return &waiting_; }

  enum class Take { kFrame, kEnd, kClosed };
  // Source thread: waits for the next frame. kFrame: *out is it, and *discontinuity says that frames before it were
  // dropped from the queue (live H.264/HEVC: the decoder must skip to the next keyframe); kEnd: End() was called and
  // nothing is left; kClosed: Close().
  Take Pop(PushedFrame* out, bool* discontinuity);

  // Source thread: counts what the decoder did (see PushStats).
  void CountRejected(decode::FrameFault fault) noexcept;
  void CountUntilKeyframe() noexcept { until_keyframe_.fetch_add(1, std::memory_order_relaxed); }
  void CountSuppressed() noexcept { suppressed_.fetch_add(1, std::memory_order_relaxed); }

  // Any thread.
  PushStats Stats() const;
  int64_t next_seq() const;

 private:
  const PushOptions options_;
  std::function<void()> on_drain_;
  std::function<void()> on_push_;
  std::atomic<uint64_t> waiting_{0};  // queue_.size(), stored under mu_ whenever it changes

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PushedFrame> queue_;  // guarded by mu_
  int64_t next_seq_ = 0;
  int64_t first_push_ns_ = -1;
  bool ended_ = false, closed_ = false;
  bool want_drain_ = false;    // lossless: Push() reported full, the drain callback is owed
  bool discontinuity_ = false; // live video: queued access units were dropped; the next Pop() says so
  uint64_t pushed_ = 0, refused_ = 0, dropped_queue_ = 0;

  std::atomic<uint64_t> until_keyframe_{0}, suppressed_{0};
  std::array<std::atomic<uint64_t>, 8> rejected_{};
};

// The FrameSource of a pushed stream: one connection for the stream's whole life (the runner does not reconnect it).
class PushFrameSource final : public FrameSource {
 public:
  // Bad frames allowed to warn at once, then one warning per kWarnIntervalMs.
  static constexpr int kWarnBurst = 5;
  static constexpr int64_t kWarnIntervalMs = 1000;

  // `input`: the stream's queue; `spec`: the model's input (the JPEG DCT scale is chosen for it); `letterboxer`: the
  // stream's (kept by the factory); `connection.warn` receives the per-frame warnings.
  PushFrameSource(std::shared_ptr<PushInput> input, const preprocess::ModelInputSpec& spec,
                  preprocess::CpuLetterboxer* letterboxer, Connection connection);
  ~PushFrameSource() override;

  // Creates the decoder (Error kUnsupported: this FFmpeg has no decoder for the codec).
  void Open() override;
  int width() const override { return width_; }
  int height() const override { return height_; }
  double fps() const override { return 0; }  // unknown: frames come when they are pushed
  std::string codec_name() const override { return PushCodecName(input_->options().codec); }
  const char* decoder_name() const override { return "cpu"; }
  bool Next() override;
  int frame_width() const override { return width_; }
  int frame_height() const override { return height_; }
  int64_t pts_ms() const override { return pts_ms_; }
  int64_t frame_seq() const override { return seq_; }
  bool frame_high_priority() const override { return high_; }
  const std::atomic<uint64_t>* newer_frames() const override { return input_->waiting(); }
  LetterboxInfo LetterboxInto(const preprocess::ModelInputSpec& spec, float* dst) override;
  bool GrayThumbnail(int w, int h, uint8_t* out) override;
  const AVFrame* CpuFrame() const override { return &current_.frame(); }
  uint64_t corrupt() const override { return 0; }  // bad frames warn one by one here, not in the runner's bursts
  const char* failure_reason() const override { return reason_; }
  FrameSourceCounters counters() const override;
  void Interrupt() noexcept override;

 private:
  // A decode fault of frame `seq`: counted, and warned about within the rate limit.
  void Reject(const decode::FrameError& e, int64_t seq);
  void RejectAll();  // the AnnexBDecoder's errors_ so far
  // The pts a picture decoded from push `seq` gets (H.264/HEVC: looked up among the recent pushes), monotone.
  // `*high`: the push's priority (false when it is no longer in the ring).
  int64_t PtsOf(int64_t seq, int64_t fallback, bool* high);
  void SetCurrent(int64_t seq, int64_t pts_ms, bool high);

  const std::shared_ptr<PushInput> input_;
  const preprocess::ModelInputSpec spec_;
  preprocess::CpuLetterboxer* const letterboxer_;
  const Connection connection_;
  const char* reason_ = "";

  std::unique_ptr<decode::JpegDecoder> jpeg_;
  std::unique_ptr<decode::PngDecoder> png_;
  std::unique_ptr<decode::AnnexBDecoder> video_;
  decode::PictureBuffer current_;
  std::vector<decode::FrameError> errors_;  // AnnexBDecoder's, reused
  bool flushed_ = false;                    // video: the decoder was flushed at the end
  // Video: access units were dropped (live overflow) and no picture came since: the pictures the decoder now skips
  // are drops of the policy, also the "no_keyframe" ones of a stream whose first keyframe was among the dropped.
  bool skipping_ = false;
  // Video: the pts and priority of the last pushes, by sequence number (a ring: no allocation per frame).
  struct RingEntry {
    int64_t seq = 0, pts_ms = 0;
    bool high = false;
  };
  static constexpr size_t kPtsRing = 64;
  std::array<RingEntry, kPtsRing> pts_ring_{};
  size_t pts_ring_next_ = 0;

  int width_ = 0, height_ = 0;
  int64_t seq_ = -1, pts_ms_ = -1;
  bool high_ = false;  // the current frame's priority
  // Warning rate limit (source thread).
  double warn_tokens_ = kWarnBurst;
  int64_t warn_refill_ns_ = 0;
  uint64_t warn_suppressed_ = 0;  // since the last warning

  std::atomic<uint64_t> packets_{0}, decoded_{0}, rejected_{0};
};

// The factory of a pushed stream: its queue and its letterboxer. Source thread only.
class PushFrameSourceFactory final : public FrameSourceFactory {
 public:
  PushFrameSourceFactory(std::shared_ptr<PushInput> input, const preprocess::ModelInputSpec& spec);
  std::unique_ptr<FrameSource> Create(const Connection& connection) override;

 private:
  const std::shared_ptr<PushInput> input_;
  const preprocess::ModelInputSpec spec_;
  preprocess::CpuLetterboxer letterboxer_;
};

}  // namespace camtrack::ingest
