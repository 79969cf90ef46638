#pragma once
// NvdecDecoder: H.264 / HEVC decode on the GPU's video decoder (NVDEC) into device NV12 surfaces taken from a
// bounded pool, with no host copy of pixels.
//
// Everything NVIDIA is loaded at run time through the ffnvcodec dynamic loader (libcuda.so.1, libnvcuvid.so.1):
// nothing links against the driver, the file is always compiled, and a machine without a driver / GPU / NVDEC
// gets Error(kUnsupported) with the exact reason (Probe() says the same without throwing). The pipeline falls
// back to CPU decode on that error.
//
// Shape (NVIDIA Video Codec SDK sample, own code): Decode() feeds the driver's bitstream parser
// (cuvidParseVideoData), which calls back synchronously: sequence → (re)create the hardware decoder (a resolution
// change mid-stream recreates decoder and surface pool), decode → cuvidDecodePicture, display (display order) →
// map the picture, copy it into a free pool surface (cuMemcpy2DAsync on the decoder's stream), unmap, queue it.
// NextFrame() hands out the queued surfaces as move-only DeviceFrame leases.
//
// Context / streams: the decoder works in the device's primary context (the one the CUDA runtime uses), so a
// DeviceFrame's pointers and events are directly usable by runtime kernels (e.g. LetterboxNv12ToNchwGpu).
// Each decoder owns one non-blocking CUDA stream; the copy into a surface is queued on it and a CUDA event is
// recorded after it (DeviceFrame::ready_event()).
//
// Threading: an NvdecDecoder is driven by ONE thread (Decode / NextFrame / Flush / stats). DeviceFrames may be
// moved to and released on any thread (the pool is mutex-protected), and may outlive the decoder (the surfaces
// are freed when the last lease goes).
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "cuda/buffers.h"
#include "cuda/capabilities.h"

namespace camtrack::decode {

enum class NvdecCodec { kH264, kHevc };

const char* NvdecCodecName(NvdecCodec codec) noexcept;  // "h264", "hevc"

// What happens when a decoded picture finds every pool surface taken.
enum class PoolFullPolicy {
  // Live semantics: the oldest decoded-but-not-yet-delivered frame is dropped (its surface reused) and counted in
  // dropped_pool_full; if every surface is leased out, the NEW frame is dropped and counted.
  kDropOldest,
  // File semantics: wait for a lease to be released (by another thread). The parser can output a stream's whole
  // DPB in one Decode() (at an IDR without reordering info, or at Flush), so with this policy the pool is sized
  // max(surface_pool_size, the stream's min_num_decode_surfaces + 1) per sequence (still fixed and bounded:
  // ≤ ~20 surfaces for H.264/HEVC). If nevertheless no surface is free and none is leased out (all queued for
  // this thread's NextFrame), waiting would deadlock: the oldest queued frame is dropped and counted instead.
  // Callers call NextFrame() until it returns false after each Decode().
  kBlock,
};

struct NvdecOptions {
  NvdecCodec codec = NvdecCodec::kH264;
  int device = 0;              // CUDA device ordinal (as the CUDA runtime numbers it)
  int surface_pool_size = 8;   // NV12 output surfaces (cuMemAllocPitch'd once per format), 1..64; kBlock may add
  PoolFullPolicy pool_full = PoolFullPolicy::kDropOldest;
  int max_display_delay = 0;   // parser display delay in frames: 0 = lowest latency, 2..4 = more decode overlap
  int extra_decode_surfaces = 3;  // NVDEC internal surfaces beyond the stream's minimum (decode/display overlap)
};

// Counters (owner thread). Never reset except by construction.
struct NvdecStats {
  uint64_t packets = 0;            // Decode() calls with data
  uint64_t decoded = 0;            // pictures submitted to the hardware (cuvidDecodePicture)
  uint64_t displayed = 0;          // pictures the parser output in display order (copied or dropped)
  uint64_t delivered = 0;          // frames handed out by NextFrame()
  uint64_t dropped_pool_full = 0;  // frames dropped because the pool was full (see PoolFullPolicy)
  uint64_t corrupt = 0;            // pictures NVDEC reported as decoded with errors (concealed or not), still output
  uint64_t sequence_changes = 0;   // decoder (re)creations: 1 for a plain stream, +1 per format change
  uint64_t sequence_flushes = 0;   // parser flushes because a different SPS arrived (see Decode())
  int width = 0, height = 0;       // current display size (0 before the first sequence header)
  int pool_size = 0;               // surfaces in the current pool (surface_pool_size, more under kBlock: see there)
  int pool_in_use_max = 0;         // most pool surfaces ever taken at once (≤ pool_size)
};

class NvdecSurfacePool;  // internal (nvdec_decoder.cpp)

// Move-only lease on one NV12 surface of a decoder's pool (device memory, primary context of the decoder's
// device). Y plane: width x height bytes at y(); interleaved UV plane: (width+1)/2 pairs x (height+1)/2 rows at
// uv(); both with pitch(). The pixels are valid once ready_event() has completed: make the consuming stream wait
// on it (cudaStreamWaitEvent / cuStreamWaitEvent) or call SynchronizeReady().
// Release: the destructor (or Release()) returns the surface to the pool. Without a stream the caller promises
// that no GPU work still reads the surface; Release(stream) instead records an event on `stream` and the decoder
// waits for it on the GPU before it overwrites the surface (no host blocking).
// Thread-safety: one owner at a time; may be moved between threads and released on any thread.
class DeviceFrame {
 public:
  DeviceFrame() noexcept = default;
  ~DeviceFrame() { Release(); }
  DeviceFrame(DeviceFrame&& o) noexcept;
  DeviceFrame& operator=(DeviceFrame&& o) noexcept;
  DeviceFrame(const DeviceFrame&) = delete;
  DeviceFrame& operator=(const DeviceFrame&) = delete;

  bool valid() const noexcept { return pool_ != nullptr; }
  cuda::PlaneView y() const noexcept { return {data_, pitch_, width_, height_}; }
  cuda::PlaneView uv() const noexcept {
    return {static_cast<uint8_t*>(data_) + pitch_ * static_cast<size_t>(height_), pitch_, (width_ + 1) / 2,
            (height_ + 1) / 2};
  }
  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  size_t pitch() const noexcept { return pitch_; }  // bytes, same for Y and UV
  int64_t pts() const noexcept { return pts_; }     // the pts given to Decode() for this picture
  int slot() const noexcept { return slot_; }       // index of the surface in its pool (diagnostics, tests)
  cuda::EventHandle ready_event() const noexcept { return ready_; }  // recorded after the copy
  void SynchronizeReady() const;  // blocks until the copy is done; throws Error(kCuda)
  // Returns the surface now (see the class comment). Idempotent; never throws (if recording the event on `after`
  // fails, the surface is returned as if no stream had been given).
  void Release(cuda::StreamHandle after = nullptr) noexcept;

 private:
  friend class NvdecDecoder;
  std::shared_ptr<NvdecSurfacePool> pool_;
  void* data_ = nullptr;
  size_t pitch_ = 0;
  int width_ = 0, height_ = 0;
  int slot_ = -1;
  int64_t pts_ = 0;
  cuda::EventHandle ready_ = nullptr;
};

class NvdecDecoder {
 public:
  // Is NVDEC usable on `device` for 8-bit 4:2:0 H.264 (libcuda.so.1 + libnvcuvid.so.1 loadable, cuInit ok, the
  // device exists, cuvidGetDecoderCaps says supported)? Never throws; `reason` says what failed first.
  // Not cheap on the first call (dlopen, cuInit, context retain): call at start-up. Thread-safe.
  static cuda::FeatureStatus Probe(int device = 0) noexcept;

  // Loads the driver libraries (once per process), retains the device's primary context, creates the stream
  // and the parser. The hardware decoder and the pool are created at the first sequence header.
  // Throws Error(kInvalidArgument) for bad options, Error(kUnsupported) when NVDEC cannot run here (reason in
  // the message), Error(kCuda) when a driver call fails (with the call site).
  explicit NvdecDecoder(const NvdecOptions& options);
  ~NvdecDecoder();  // synchronises its stream, destroys parser and decoder; leased frames stay valid
  NvdecDecoder(const NvdecDecoder&) = delete;
  NvdecDecoder& operator=(const NvdecDecoder&) = delete;

  // Feeds `size` bytes of an Annex-B byte stream (any chunking; `complete_picture` = the chunk is exactly one
  // access unit, e.g. a demuxer packet, which lets the parser decode it without waiting for the next one).
  // `pts` is attached to the picture that starts in this chunk and comes back, reordered, on its DeviceFrame.
  // Decoded pictures are queued for NextFrame(). When the chunk carries a sequence parameter set that differs from
  // the previous one (a new sequence, e.g. a resolution change), the parser is flushed first so the old sequence's
  // last pictures are output (NVDEC's parser would discard them on a size change; CPU decoders output them); this
  // needs the SPS NAL whole in one chunk, which demuxer packets and AnnexBSplitter access units guarantee.
  // Throws Error(kUnsupported) when the stream's codec / profile /
  // size / bit depth is beyond this GPU's NVDEC (e.g. 10-bit: only 8-bit 4:2:0 → NV12 is supported), Error(kDecode)
  // when the parser fails, Error(kCuda) on driver errors. After a throw the decoder should be discarded.
  void Decode(const uint8_t* data, size_t size, int64_t pts, bool complete_picture = false);
  // Next decoded frame in display order, if one is queued. Returns false when none is queued (feed more data).
  bool NextFrame(DeviceFrame* out);
  // End of stream: makes the parser output every picture it still holds (then drain NextFrame()). Decoding may
  // continue afterwards (e.g. a looping file); the parser is recreated on the next Decode().
  void Flush();

  const NvdecStats& stats() const noexcept { return stats_; }
  std::string device_name() const;

 private:
  struct Impl;
  struct Callbacks;  // the parser's C callbacks (noexcept trampolines into On*)
  int OnSequence(void* format);
  int OnDecode(void* pic);
  int OnDisplay(void* info);
  void Parse(const uint8_t* data, size_t size, int64_t pts, unsigned long flags);
  bool NewSequenceParameterSet(const uint8_t* data, size_t size);
  void RethrowStored();

  NvdecOptions options_;
  NvdecStats stats_;
  std::unique_ptr<Impl> impl_;
  std::exception_ptr stored_error_;  // set by a callback, rethrown by Decode/Flush
};

}  // namespace camtrack::decode
