#pragma once
// FrameSource: where a stream's frames come from — the seam between the stream runner (stream_runner.h: reconnect
// policy, pacing, fps limit, batching) and whatever produces pictures. One FrameSource is ONE connection: it opens,
// yields decoded frames one at a time, letterboxes the current one into a batch image, and reports its end (Next()
// returns false) or its failure (an Error thrown from Open()/Next(), with a short reason word). A new connection
// (reconnect) is a new FrameSource from the stream's FrameSourceFactory.
//
// Implementations: AvFrameSource (av_frame_source.h: libavformat input decoded by libavcodec on the CPU, or by NVDEC
// through decode::GpuFrameSource); PushFrameSource (push_frame_source.h: compressed frames pushed in from JS).
//
// Threading: a FrameSource is created, opened, read and destroyed by its stream's source thread only, except
// counters() and Interrupt(), which any thread may call (stats, RemoveStream/Stop).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/common/error.h"
#include "core/common/geometry.h"
#include "core/preprocess/letterbox.h"

struct AVFrame;

namespace camtrack::ingest {

// Totals of one FrameSource (all inputs it opened). Plain values.
struct FrameSourceCounters {
  uint64_t packets = 0;  // compressed packets read
  uint64_t decoded = 0;  // frames decoded
  uint64_t corrupt = 0;  // damaged packets/frames (skipped or concealed)
};

// Something worth one warning event after Open() (e.g. decode 'auto' falling back to the CPU).
// Also what a source reports about one frame while it runs (Connection::warn): a pushed frame that cannot be decoded.
struct SourceWarning {
  ErrorCode code = ErrorCode::kUnsupported;
  std::string reason;  // short stable word ("nvdec", "corrupt", …)
  std::string message;
  std::string hint;
  int64_t frame = -1;  // the frame it is about (a pushed frame's sequence number), -1 when none
};

class FrameSource {
 public:
  virtual ~FrameSource();

  // Opens the input (blocking; bounded by the source's own timeouts, ended early by Interrupt()). Throws Error;
  // failure_reason() then says why.
  virtual void Open() = 0;
  // After Open(): a warning to report once for this connection, or null.
  virtual const SourceWarning* open_warning() const { return nullptr; }

  // After Open(): what the stream is (nominal size, frame rate — 0 when unknown —, codec name, decoder "cpu" |
  // "nvdec" | …).
  virtual int width() const = 0;
  virtual int height() const = 0;
  virtual double fps() const = 0;
  virtual std::string codec_name() const = 0;
  virtual const char* decoder_name() const = 0;

  // Makes the next frame current. False at the end of the input (the source ended cleanly, or truncated()). Throws
  // Error on a failure (failure_reason() says which).
  virtual bool Next() = 0;
  // The current frame: size, presentation time in ms on the stream's time line (monotone).
  virtual int frame_width() const = 0;
  virtual int frame_height() const = 0;
  virtual int64_t pts_ms() const = 0;
  // Pushed sources: the sequence number of the push the current frame was decoded from (the key of its per-frame
  // tag), which the runner numbers the frame by (frame_index = max(previous + 1, seq)); -1 for other sources.
  virtual int64_t frame_seq() const { return -1; }
  // Whether the current frame was pushed with priority 'high' (its batch position goes ahead of normal frames:
  // Batcher::Acquire's high_frame). Pushed sources only; false for the others.
  virtual bool frame_high_priority() const { return false; }
  // Pushed sources: the number of frames queued behind the current one (read lock-free by Batcher::Acquire: a live
  // frame waiting for a batch position gives up once a newer one is there). nullptr for the others, whose live
  // frames do not wait (the next one's arrival is not known without reading on).
  virtual const std::atomic<uint64_t>* newer_frames() const { return nullptr; }
  // Letterboxes the current frame into `dst` (3 · spec.height · spec.width floats: one image of a batch slot) and
  // returns the geometry. Throws Error (a frame the letterboxer cannot read, a CUDA failure).
  virtual LetterboxInfo LetterboxInto(const preprocess::ModelInputSpec& spec, float* dst) = 0;
  // A `w` x `h` grayscale copy of the current frame for the motion measure (preprocess/gray_thumbnail.h), into
  // `out` (w * h bytes). False when this source cannot make one (NVDEC surfaces, unsupported formats): the frame
  // then counts as moving. No allocation.
  virtual bool GrayThumbnail(int /*w*/, int /*h*/, uint8_t* /*out*/) { return false; }
  // The current frame's decoded picture in CPU memory, or null when it has none (NVDEC surfaces). It may be smaller
  // than frame_width() x frame_height() (pushed JPEG at DCT scale).
  virtual const AVFrame* CpuFrame() const { return nullptr; }
  // The picture a snapshot is made of (snapshot/snapshot_slot.h): CpuFrame(), or for a frame on the GPU a copy
  // made now (AvFrameSource with NVDEC: decode::GpuFrameSource::DownloadFrame). Called only while a snapshot is
  // asked for, before LetterboxInto. Null when there is none.
  virtual const AVFrame* SnapshotFrame() { return CpuFrame(); }

  // Damaged packets/frames of the input now being read (the stream runner collects them into bursts).
  virtual uint64_t corrupt() const = 0;
  // Frames decoded but dropped inside the source before Next() handed them out (live NVDEC: surface pool full).
  virtual uint64_t dropped_before_delivery() const { return 0; }

  // Why the last Open()/Next() failed: a short stable word ("refused", "stalled", "format", "nvdec", …; see
  // decode::VideoSource::failure_reason()), or "" before any failure.
  virtual const char* failure_reason() const = 0;
  // Next() returned false because the input ends early (a truncated file) rather than cleanly.
  virtual bool truncated() const { return false; }
  // The error that describes truncated().
  virtual Error TruncationError() const;

  // Any thread.
  virtual FrameSourceCounters counters() const = 0;
  // Any thread: a blocked Open()/Next() returns promptly (throwing "interrupted"), and so does every later one.
  virtual void Interrupt() noexcept = 0;
};

// What the runner asks of a new connection.
struct Connection {
  int stall_timeout_ms = 0;               // live only: no decoded frame for this long → failure "stalled" (0 = off)
  std::optional<int64_t> start_pts_ms;    // set on a reconnect: the time line continues from here
  // Per-frame warnings the source reports while it runs (source thread; the runner emits each as a 'warning' event
  // at once). Null: none are wanted.
  std::function<void(const SourceWarning&)> warn;
};

// Makes the FrameSource of each connection of one stream; holds what persists across them. Owned by the stream's
// runner, used by its source thread only.
class FrameSourceFactory {
 public:
  virtual ~FrameSourceFactory();
  virtual std::unique_ptr<FrameSource> Create(const Connection& connection) = 0;
};

}  // namespace camtrack::ingest
