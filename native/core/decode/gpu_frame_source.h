#pragma once
// GPU decode path of one stream: demuxed Annex-B packets (decode::VideoSource in packet mode) → NVDEC
// (decode::NvdecDecoder) → CUDA letterbox of the device NV12 surface (cuda::LetterboxNv12ToNchwGpu) into a
// per-stream device staging tensor → copy into the batch slot the pipeline acquired.
//
// Why the copy to host: the batch slots are host memory lent by the inference worker (onnxruntime-node's CPU
// backend reads host memory). A device backend (TensorRT) would take the staging tensor — or a device batch slot —
// directly and the D2H copy would go away; the copy is 4.9 MB for a 640x640 image, far below decode cost.
//
// This file is always compiled; everything CUDA is behind CAMTRACK_WITH_CUDA. Built without CUDA,
// GpuDecodeStatus() says so and GpuFrameSource::Start() reports it (the pipeline then decodes on the CPU in
// 'auto' mode, or fails the stream with Error(kUnsupported) in 'gpu' mode).
#include <cstdint>
#include <memory>
#include <string>

#include "core/common/error.h"
#include "core/common/geometry.h"
#include "core/cuda/capabilities.h"
#include "core/decode/video_source.h"
#include "core/preprocess/letterbox.h"

struct AVFrame;

namespace camtrack::decode {

struct NvdecStats;

// Can this build and machine decode with NVDEC on `device` at all? decode::NvdecDecoder::Probe() plus the CUDA
// runtime the GPU letterbox needs (caches nothing: call once per connection attempt, not per frame); "built
// without CUDA" in a CPU-only build. Also backs capabilities().nvdec. Never throws. Thread-safe.
cuda::FeatureStatus GpuDecodeStatus(int device);
// The same with the CUDA runtime's status already probed by the caller (cuda::ProbeCuda(); capabilities() has it).
cuda::FeatureStatus GpuDecodeStatus(int device, const cuda::CudaStatus& runtime);

// One connection of one stream on the GPU path. Owned and used by the stream's source thread only (NvdecDecoder
// is single-threaded); borrows the VideoSource, which must outlive it. Works on the CUDA device given at Start()
// (made current on the calling thread) with its own non-blocking CUDA stream; the decoder uses its own stream
// and the letterbox waits for each frame's ready event on the GPU.
class GpuFrameSource {
 public:
  // Why Start() could not take the stream (then it returns nullptr).
  struct StartFailure {
    ErrorCode code = ErrorCode::kUnsupported;
    std::string reason;    // e.g. "codec mpeg4 is not H.264/HEVC", "10-bit …", the decoder's error message
    bool reopen = false;   // packets were consumed: the caller must reopen the input for a CPU decode
  };

  // Starts NVDEC on `src` (opened in packet mode): checks codec (H.264 / HEVC) and pixel format (8-bit 4:2:0),
  // creates the decoder (PoolFullPolicy kDropOldest when src.live(), kBlock for files), feeds the parameter sets and
  // packets until the first frame is decoded (so decoder-creation and profile errors surface here, before the
  // stream is reported live). Returns nullptr with `*failure` filled when NVDEC cannot take the stream.
  // Source errors (read timeouts, interrupt, stall) are thrown as they are by VideoSource::NextPacket().
  static std::unique_ptr<GpuFrameSource> Start(decode::VideoSource& src, int device, StartFailure* failure);
  ~GpuFrameSource();
  GpuFrameSource(const GpuFrameSource&) = delete;
  GpuFrameSource& operator=(const GpuFrameSource&) = delete;

  // Makes the next decoded frame (display order) current, releasing the previous one. Stamps it on the source
  // (VideoSource::StampFrame: last_pts_ms(), decoded counter, stall watchdog) and adds the pictures NVDEC reported
  // as damaged to the source's corrupt counter. At the end of the input: drains
  // the decoder, then loops (files with SourceOptions::loop) or returns false. Throws the source's errors, and
  // Error(kDecode / kCuda / kUnsupported) from the decoder (the connection is then discarded by the caller).
  bool Next();
  int width() const noexcept;   // of the current frame
  int height() const noexcept;
  // The decoder's counters for this connection (cumulative) and the name of its GPU. The pipeline reads
  // dropped_pool_full (live streams: frames dropped because the surface pool was full, decoded but never handed out
  // by Next(); always 0 for files) into dropped.decoderPool; the decode-only benchmark (bench/native/
  // decode_bench.cpp, --decoder gpu) reports them all. Source thread only.
  const decode::NvdecStats& decoder_stats() const noexcept;
  std::string device_name() const;
  // Blocks the calling thread until the current frame's pixels are in its surface (the frame's ready event).
  // For a consumer without a CUDA stream of its own (the benchmark counts completed decodes); LetterboxInto
  // waits on the GPU instead. Throws Error(kCuda / kInvalidState).
  void SynchronizeFrame() const;
  // Letterboxes the current frame into `host_dst` (3 · spec.height · spec.width floats: one image of a host
  // batch slot) through the device staging tensor (reallocated only when the model geometry changes), waits for
  // the copy (stream sync: the slot is committed right after), and releases the frame's surface to the decoder.
  // Returns the geometry, as CpuLetterboxer::Run does. Throws Error(kCuda / kInvalidArgument).
  LetterboxInfo LetterboxInto(const preprocess::ModelInputSpec& spec, float* host_dst);
  // The current frame copied down into a host NV12 picture: for a snapshot (stream.snapshot(), serve's
  // snapshot.jpg / stream.mjpeg), so only when one was asked for, never per frame. The picture is allocated at the
  // first call and again only when the frame size changes; the copy is waited for. Call before LetterboxInto (which
  // releases the surface). Null when there is no current frame. Throws Error(kCuda).
  const AVFrame* DownloadFrame();

 private:
  struct Impl;
  explicit GpuFrameSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace camtrack::decode
