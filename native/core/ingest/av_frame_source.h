#pragma once
// AvFrameSource: the FrameSource of a URL or file read with libavformat and decoded by libavcodec on the CPU
// (decode::VideoSource), or by NVDEC (decode::GpuFrameSource over VideoSource's packet mode) when the stream's
// decode mode allows it and NVDEC can take the stream. This is where the decoder is chosen, once per connection:
//   'cpu'  libavcodec, the GPU is never probed;
//   'auto' NVDEC when it is usable and takes the stream, else libavcodec — with one 'warning' (reason "nvdec") when
//          a machine that has NVDEC cannot decode this stream on it; after that the stream stays on the CPU;
//   'gpu'  NVDEC or the connection fails with failure_reason() "nvdec" (the runner does not retry it).
//
// Ownership/threading: one AvFrameSource per connection, made by the stream's AvFrameSourceFactory and used by its
// source thread; counters() and Interrupt() from any thread (guarded by an internal mutex, since a failed NVDEC
// start replaces the input by a new one for the CPU decoder).
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/decode/gpu_frame_source.h"
#include "core/decode/video_source.h"
#include "core/ingest/frame_source.h"
#include "core/preprocess/letterbox.h"

extern "C" {
struct AVFrame;
}

namespace camtrack::ingest {

// Per-stream decode choice (StreamConfig::decode). kAuto: NVDEC when it can take the stream, else the CPU with
// one warning; kCpu: libavcodec only (never probes the GPU); kGpu: NVDEC or the stream fails.
enum class DecodeMode { kAuto, kCpu, kGpu };

class AvFrameSource : public FrameSource {
 public:
  // `options` complete for this connection; `nvdec_off`: the stream's "NVDEC given up" flag (read and set here; the
  // factory keeps it across connections); `letterboxer`: the stream's CPU letterboxer (kept across connections).
  AvFrameSource(decode::SourceOptions options, DecodeMode mode, int device, bool* nvdec_off,
                preprocess::CpuLetterboxer* letterboxer);
  ~AvFrameSource() override;

  void Open() override;
  const SourceWarning* open_warning() const override { return warning_ ? &*warning_ : nullptr; }
  int width() const override { return video_->width(); }
  int height() const override { return video_->height(); }
  double fps() const override { return video_->fps(); }
  std::string codec_name() const override { return video_->codec_name(); }
  const char* decoder_name() const override { return gpu_ ? "nvdec" : "cpu"; }
  bool Next() override;
  int frame_width() const override;
  int frame_height() const override;
  int64_t pts_ms() const override { return video_->last_pts_ms(); }
  LetterboxInfo LetterboxInto(const preprocess::ModelInputSpec& spec, float* dst) override;
  bool GrayThumbnail(int w, int h, uint8_t* out) override;  // CPU frames only (NVDEC: false)
  const AVFrame* CpuFrame() const override { return gpu_ ? nullptr : frame_; }
  const AVFrame* SnapshotFrame() override;  // NVDEC: the surface copied down (only while a snapshot is asked for)
  uint64_t corrupt() const override;
  uint64_t dropped_before_delivery() const override;
  const char* failure_reason() const override;
  bool truncated() const override { return video_ && video_->truncated(); }
  Error TruncationError() const override { return video_->TruncationError(); }
  FrameSourceCounters counters() const override;
  void Interrupt() noexcept override;

 private:
  // Replaces the current input (if any; its counters stay in the totals) by a new, unopened one. Throws
  // "interrupted" once Interrupt() was called, so no input appears after it.
  decode::VideoSource* ReplaceInput(const decode::SourceOptions& options);

  const decode::SourceOptions options_;
  const DecodeMode mode_;
  const int device_;
  bool* const nvdec_off_;
  preprocess::CpuLetterboxer* const letterboxer_;
  const char* reason_ = "";  // a failure of the decoder choice ("nvdec"); else the input's own reason
  std::optional<SourceWarning> warning_;
  AVFrame* frame_ = nullptr;  // the current CPU frame (owned by video_)

  mutable std::mutex mu_;  // guards video_ (replacement), base_, interrupted_ against counters()/Interrupt()
  std::unique_ptr<decode::VideoSource> video_;
  FrameSourceCounters base_;  // inputs already replaced
  bool interrupted_ = false;
  std::unique_ptr<decode::GpuFrameSource> gpu_;  // borrows *video_: declared after it, destroyed before it
};

// The per-stream factory of AvFrameSources: the source options, the decode mode, the CUDA device, the "NVDEC given
// up" flag and the CPU letterboxer, all kept across connections. Source thread only.
class AvFrameSourceFactory : public FrameSourceFactory {
 public:
  AvFrameSourceFactory(decode::SourceOptions options, DecodeMode mode, int device);
  std::unique_ptr<FrameSource> Create(const Connection& connection) override;

 private:
  const decode::SourceOptions options_;
  const DecodeMode mode_;
  const int device_;
  bool nvdec_off_ = false;  // decode 'auto' fell back to the CPU once: NVDEC is not tried again
  preprocess::CpuLetterboxer letterboxer_;
};

}  // namespace camtrack::ingest
