#include "core/decode/gpu_frame_source.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/cuda/device.h"
#include "core/decode/nvdec_decoder.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#if CAMTRACK_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/cuda/buffers.h"
#include "core/cuda/check.h"
#include "core/cuda/letterbox_gpu.h"
#endif

namespace camtrack::decode {

namespace {

// Both GpuDecodeStatus forms; `runtime` null: probed here, and only when NVDEC itself is there.
cuda::FeatureStatus DecodeStatus(int device, const cuda::CudaStatus* runtime) {
#if CAMTRACK_WITH_CUDA
  cuda::FeatureStatus st = decode::NvdecDecoder::Probe(device);
  if (!st.available) return st;
  // NVDEC needs only the driver; the GPU branch's letterbox also needs this build's CUDA runtime, which a driver
  // older than the runtime cannot run.
  const cuda::CudaStatus rt = runtime ? *runtime : cuda::ProbeCuda();
  if (!rt.available) {
    st.available = false;
    st.reason = "NVDEC is present but the CUDA runtime is not usable for the GPU letterbox: " + rt.reason;
  }
  return st;
#else
  cuda::FeatureStatus st;
  st.available = false;
  st.reason = "camtrack was built without CUDA (nvcc was not found when the addon was compiled)";
  return st;
#endif
}

}  // namespace

cuda::FeatureStatus GpuDecodeStatus(int device) { return DecodeStatus(device, nullptr); }
cuda::FeatureStatus GpuDecodeStatus(int device, const cuda::CudaStatus& runtime) {
  return DecodeStatus(device, &runtime);
}

#if CAMTRACK_WITH_CUDA

namespace {
constexpr int64_t kNoPts = INT64_MIN;  // AV_NOPTS_VALUE
}  // namespace

struct GpuFrameSource::Impl {
  decode::VideoSource* src = nullptr;
  std::unique_ptr<decode::NvdecDecoder> decoder;
  decode::DeviceFrame frame;  // the current frame (released by the next Advance / LetterboxInto)
  bool primed = false;        // `frame` is the first frame, decoded by Start(), not handed out yet
  bool ended = false;         // the input ended and the decoder was flushed
  uint64_t corrupt_seen = 0;  // decoder's corrupt-picture count already added to the source's counters
  preprocess::YuvColorSpace colour = preprocess::YuvColorSpace::kBt601Limited;
  std::optional<cuda::Stream> stream;  // letterbox + D2H copy (created on the stream's device by Start)
  cuda::DeviceBuffer staging;  // one letterboxed image, 3·H·W floats; reallocated only for a new geometry
  AVFrame* host = nullptr;     // DownloadFrame()'s NV12 picture (snapshots only); reallocated for a new size

  ~Impl() { av_frame_free(&host); }

  // Next frame out of the decoder, feeding packets as needed; false at the end (after the decoder was drained
  // and no loop applies). Does not stamp.
  bool Advance() {
    frame.Release();  // nothing on the GPU still reads it: LetterboxInto synchronised, or it was never used
    for (;;) {
      if (decoder->NextFrame(&frame)) return true;
      if (ended) {
        if (src->RewindForLoop()) {
          ended = false;
          continue;
        }
        return false;
      }
      const uint8_t* data = nullptr;
      size_t size = 0;
      int64_t pts = kNoPts;
      if (!src->NextPacket(&data, &size, &pts)) {
        decoder->Flush();  // the pictures the parser still holds come out now
        ended = true;
        continue;
      }
      decoder->Decode(data, size, pts, /*complete_picture=*/true);
    }
  }
};

GpuFrameSource::GpuFrameSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuFrameSource::~GpuFrameSource() = default;

std::unique_ptr<GpuFrameSource> GpuFrameSource::Start(decode::VideoSource& src, int device, StartFailure* failure) {
  *failure = StartFailure();
  const std::string codec = src.codec_name();
  decode::NvdecOptions o;
  if (codec == "h264") {
    o.codec = decode::NvdecCodec::kH264;
  } else if (codec == "hevc") {
    o.codec = decode::NvdecCodec::kHevc;
  } else {
    failure->reason = "NVDEC decodes H.264 and HEVC; this stream is " + (codec.empty() ? std::string("?") : codec);
    return nullptr;
  }
  if (!src.yuv420_8bit()) {
    failure->reason = "NVDEC → NV12 takes 8-bit 4:2:0 streams only; this " + codec + " stream is not";
    return nullptr;
  }
  o.device = device;
  o.surface_pool_size = 4;  // one frame is held at a time; kBlock grows the pool to the stream's DPB needs
  o.pool_full = src.live() ? decode::PoolFullPolicy::kDropOldest : decode::PoolFullPolicy::kBlock;
  auto impl = std::make_unique<Impl>();
  impl->src = &src;
  try {
    CAMTRACK_CUDA_CHECK(cudaSetDevice(device));  // this (source) thread's runtime calls go to `device`
    impl->stream.emplace();
    impl->decoder = std::make_unique<decode::NvdecDecoder>(o);
    const bool bt709 = src.colour_bt709(), full = src.colour_full_range();
    impl->colour = bt709 ? (full ? preprocess::YuvColorSpace::kBt709Full : preprocess::YuvColorSpace::kBt709Limited)
                         : (full ? preprocess::YuvColorSpace::kBt601Full : preprocess::YuvColorSpace::kBt601Limited);
    // Parameter sets that only live in the container / SDP (RTSP sprop-parameter-sets) reach the parser first.
    size_t extra_size = 0;
    const uint8_t* extra = src.extradata(&extra_size);
    if (extra) impl->decoder->Decode(extra, extra_size, kNoPts, /*complete_picture=*/false);
  } catch (const Error& e) {
    failure->code = e.code();
    failure->reason = e.what();
    return nullptr;
  }
  // Decode up to the first frame: the hardware decoder is created at the first sequence header, so an unsupported
  // profile / size or a creation error shows up here. Source errors propagate unchanged.
  for (;;) {
    try {
      if (impl->decoder->NextFrame(&impl->frame)) {
        impl->primed = true;
        break;
      }
      if (impl->ended) break;  // an input without a single frame: Next() returns false at once
    } catch (const Error& e) {
      failure->code = e.code();
      failure->reason = e.what();
      failure->reopen = true;
      return nullptr;
    }
    const uint8_t* data = nullptr;
    size_t size = 0;
    int64_t pts = kNoPts;
    const bool got = src.NextPacket(&data, &size, &pts);  // may throw a source error: not a start failure
    try {
      if (got) {
        impl->decoder->Decode(data, size, pts, /*complete_picture=*/true);
      } else {
        impl->decoder->Flush();
        impl->ended = true;
      }
    } catch (const Error& e) {
      failure->code = e.code();
      failure->reason = e.what();
      failure->reopen = true;
      return nullptr;
    }
  }
  return std::unique_ptr<GpuFrameSource>(new GpuFrameSource(std::move(impl)));
}

bool GpuFrameSource::Next() {
  Impl& m = *impl_;
  if (m.primed) {
    m.primed = false;
  } else if (!m.Advance()) {
    return false;
  }
  m.src->StampFrame(m.frame.pts());
  const uint64_t corrupt = m.decoder->stats().corrupt;  // damaged pictures: the source's `corrupt` counter
  if (corrupt != m.corrupt_seen) {
    m.src->CountCorrupt(corrupt - m.corrupt_seen);
    m.corrupt_seen = corrupt;
  }
  return true;
}

int GpuFrameSource::width() const noexcept { return impl_->frame.width(); }
int GpuFrameSource::height() const noexcept { return impl_->frame.height(); }
const decode::NvdecStats& GpuFrameSource::decoder_stats() const noexcept { return impl_->decoder->stats(); }
std::string GpuFrameSource::device_name() const { return impl_->decoder->device_name(); }
void GpuFrameSource::SynchronizeFrame() const { impl_->frame.SynchronizeReady(); }

LetterboxInfo GpuFrameSource::LetterboxInto(const preprocess::ModelInputSpec& spec, float* host_dst) {
  Impl& m = *impl_;
  CAMTRACK_CHECK(m.frame.valid() && host_dst, ErrorCode::kInvalidArgument, "preprocess", "no current GPU frame");
  const size_t bytes = size_t(3) * spec.width * spec.height * sizeof(float);
  if (m.staging.size() != bytes) m.staging = cuda::DeviceBuffer(bytes);
  // The decoder copied the picture into this surface on its own stream; wait for it on ours (GPU side).
  CAMTRACK_CUDA_CHECK(cudaStreamWaitEvent(m.stream->get(), m.frame.ready_event(), 0));
  const LetterboxInfo info = cuda::LetterboxNv12ToNchwGpu(m.frame.y(), m.frame.uv(), m.frame.width(),
                                                          m.frame.height(), spec, m.staging.data<float>(),
                                                          m.stream->get(), m.colour);
  // The batch slot is host memory lent by the CPU inference worker: copy the tensor down and wait, because the
  // caller commits the slot right after (a device backend would consume m.staging instead).
  CAMTRACK_CUDA_CHECK(cudaMemcpyAsync(host_dst, m.staging.data(), bytes, cudaMemcpyDeviceToHost, m.stream->get()));
  m.stream->Synchronize();
  m.frame.Release();  // the kernel has read it (synchronised above)
  return info;
}

const AVFrame* GpuFrameSource::DownloadFrame() {
  Impl& m = *impl_;
  if (!m.frame.valid()) return nullptr;
  const int w = m.frame.width(), h = m.frame.height();
  if (!m.host || m.host->width != w || m.host->height != h) {
    av_frame_free(&m.host);
    m.host = av_frame_alloc();
    CAMTRACK_CHECK(m.host, ErrorCode::kInternal, "snapshot", "out of memory for a snapshot picture");
    m.host->format = AV_PIX_FMT_NV12;
    m.host->width = w;
    m.host->height = h;
    if (av_frame_get_buffer(m.host, 0) < 0) {
      av_frame_free(&m.host);
      throw Error(ErrorCode::kInternal, "snapshot", "out of memory for a " + std::to_string(w) + "x" +
                                                        std::to_string(h) + " snapshot picture");
    }
  }
  // The colour matrix the letterbox uses, so the snapshot's swscale conversion agrees with what was inferred.
  const bool bt709 = m.colour == preprocess::YuvColorSpace::kBt709Limited ||
                     m.colour == preprocess::YuvColorSpace::kBt709Full;
  const bool full = m.colour == preprocess::YuvColorSpace::kBt601Full ||
                    m.colour == preprocess::YuvColorSpace::kBt709Full;
  m.host->colorspace = bt709 ? AVCOL_SPC_BT709 : AVCOL_SPC_BT470BG;
  m.host->color_range = full ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  CAMTRACK_CUDA_CHECK(cudaStreamWaitEvent(m.stream->get(), m.frame.ready_event(), 0));
  const cuda::PlaneView y = m.frame.y(), uv = m.frame.uv();
  CAMTRACK_CUDA_CHECK(cudaMemcpy2DAsync(m.host->data[0], m.host->linesize[0], y.data, y.pitch, size_t(w), size_t(h),
                                        cudaMemcpyDeviceToHost, m.stream->get()));
  CAMTRACK_CUDA_CHECK(cudaMemcpy2DAsync(m.host->data[1], m.host->linesize[1], uv.data, uv.pitch,
                                        size_t(uv.width) * 2, size_t(uv.height), cudaMemcpyDeviceToHost,
                                        m.stream->get()));
  m.stream->Synchronize();
  return m.host;
}

#else  // !CAMTRACK_WITH_CUDA

struct GpuFrameSource::Impl {};

GpuFrameSource::GpuFrameSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuFrameSource::~GpuFrameSource() = default;

std::unique_ptr<GpuFrameSource> GpuFrameSource::Start(decode::VideoSource&, int device, StartFailure* failure) {
  *failure = StartFailure();
  failure->code = ErrorCode::kUnsupported;
  failure->reason = GpuDecodeStatus(device).reason;
  return nullptr;
}
bool GpuFrameSource::Next() { return false; }
int GpuFrameSource::width() const noexcept { return 0; }
int GpuFrameSource::height() const noexcept { return 0; }
const decode::NvdecStats& GpuFrameSource::decoder_stats() const noexcept {
  static const decode::NvdecStats kNone;  // never reached: Start() returns no source in a CPU-only build
  return kNone;
}
std::string GpuFrameSource::device_name() const { return std::string(); }
void GpuFrameSource::SynchronizeFrame() const {}
LetterboxInfo GpuFrameSource::LetterboxInto(const preprocess::ModelInputSpec&, float*) {
  throw Error(ErrorCode::kUnsupported, "preprocess", GpuDecodeStatus(0).reason);
}
const AVFrame* GpuFrameSource::DownloadFrame() { return nullptr; }

#endif  // CAMTRACK_WITH_CUDA

}  // namespace camtrack::decode
