#include "core/ingest/av_frame_source.h"

#include "core/preprocess/gray_thumbnail.h"

#include "core/decode/nvdec_decoder.h"  // NvdecStats (GpuFrameSource::decoder_stats)

extern "C" {
#include <libavutil/frame.h>
}

namespace camtrack::ingest {

AvFrameSource::AvFrameSource(decode::SourceOptions options, DecodeMode mode, int device, bool* nvdec_off,
                             preprocess::CpuLetterboxer* letterboxer)
    : options_(std::move(options)), mode_(mode), device_(device), nvdec_off_(nvdec_off), letterboxer_(letterboxer) {}

AvFrameSource::~AvFrameSource() {
  gpu_.reset();  // before the input it borrows
}

decode::VideoSource* AvFrameSource::ReplaceInput(const decode::SourceOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  if (interrupted_) throw Error(ErrorCode::kSourceRead, "source", "interrupted");
  if (video_) {
    base_.packets += video_->counters().packets.load();
    base_.decoded += video_->counters().decoded.load();
    base_.corrupt += video_->counters().corrupt.load();
  }
  video_ = std::make_unique<decode::VideoSource>(options);
  return video_.get();
}

// Decoder choice (moved as it was from the pipeline's source loop; see the header for the rules).
void AvFrameSource::Open() {
  decode::SourceOptions so = options_;
  std::string no_gpu;  // 'auto': why this connection decodes on the CPU (warned once, after the open)
  ErrorCode no_gpu_code = ErrorCode::kUnsupported;
  if (mode_ != DecodeMode::kCpu && !*nvdec_off_) {
    const cuda::FeatureStatus st = decode::GpuDecodeStatus(device_);
    so.packets_only = st.available;
    if (!st.available) {
      if (mode_ == DecodeMode::kGpu) {
        reason_ = "nvdec";
        throw Error(ErrorCode::kUnsupported, "decode", "decode 'gpu': NVDEC is not available: " + st.reason,
                    "NVDEC needs an NVIDIA GPU with its driver (libcuda.so.1, libnvcuvid.so.1) and a CUDA build "
                    "of camtrack; use decode 'auto' to fall back to CPU decode");
      }
      // 'auto' on a machine without NVDEC is the ordinary CPU path, not a fallback: no per-stream warning
      // (camtrack doctor / capabilities() say why NVDEC is unavailable). Warnings are for streams NVDEC
      // could not take on a machine that has it (below).
      *nvdec_off_ = true;
    }
  }
  decode::VideoSource* srcp = ReplaceInput(so);
  srcp->Open();
  if (srcp->packets_only()) {
    decode::GpuFrameSource::StartFailure f;
    gpu_ = decode::GpuFrameSource::Start(*srcp, device_, &f);
    if (!gpu_) {
      const ErrorCode code = f.code == ErrorCode::kUnsupported ? ErrorCode::kUnsupported : ErrorCode::kDecode;
      if (mode_ == DecodeMode::kGpu) {
        reason_ = "nvdec";
        throw Error(code, "decode", "decode 'gpu': NVDEC cannot decode this stream: " + f.reason,
                    "use decode 'auto' to fall back to CPU decode for streams NVDEC cannot take (codec other "
                    "than H.264/HEVC, 10-bit, 4:2:2/4:4:4, beyond the GPU's limits)");
      }
      no_gpu = "NVDEC cannot decode this stream: " + f.reason;
      no_gpu_code = code;
      if (!f.reopen) {
        srcp->SwitchToCpuDecode();  // nothing was read yet: the open input continues on libavcodec
      } else {
        // Packets were consumed by the failed start: open the input again for the CPU decoder. The failed
        // input's counters stay in the totals (it decoded nothing: only GpuFrameSource::Next() stamps frames).
        so.packets_only = false;
        srcp = ReplaceInput(so);
        srcp->Open();
      }
    }
  }
  if (!no_gpu.empty() && mode_ == DecodeMode::kAuto) {
    *nvdec_off_ = true;  // one warning per stream: later connections go straight to the CPU decoder
    warning_ = SourceWarning{
        no_gpu_code, "nvdec", "decoding on the CPU: " + no_gpu,
        "decode 'auto' uses NVDEC where an NVIDIA GPU, its driver and a CUDA build of camtrack are present and the "
        "stream is 8-bit 4:2:0 H.264/HEVC; set decode 'cpu' for this stream to silence this warning"};
  }
}

const AVFrame* AvFrameSource::SnapshotFrame() { return gpu_ ? gpu_->DownloadFrame() : frame_; }

bool AvFrameSource::Next() { return gpu_ ? gpu_->Next() : video_->NextFrame(&frame_); }

int AvFrameSource::frame_width() const { return gpu_ ? gpu_->width() : frame_->width; }
int AvFrameSource::frame_height() const { return gpu_ ? gpu_->height() : frame_->height; }

bool AvFrameSource::GrayThumbnail(int w, int h, uint8_t* out) {
  return !gpu_ && frame_ && preprocess::GrayThumbnail(*frame_, w, h, out);
}

LetterboxInfo AvFrameSource::LetterboxInto(const preprocess::ModelInputSpec& spec, float* dst) {
  return gpu_ ? gpu_->LetterboxInto(spec, dst) : letterboxer_->Run(*frame_, spec, dst);
}

uint64_t AvFrameSource::corrupt() const {
  return video_ ? video_->counters().corrupt.load(std::memory_order_relaxed) : 0;
}

uint64_t AvFrameSource::dropped_before_delivery() const {
  return gpu_ ? gpu_->decoder_stats().dropped_pool_full : 0;
}

const char* AvFrameSource::failure_reason() const {
  if (*reason_) return reason_;
  return video_ ? video_->failure_reason() : "";
}

FrameSourceCounters AvFrameSource::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  FrameSourceCounters c = base_;
  if (video_) {
    c.packets += video_->counters().packets.load();
    c.decoded += video_->counters().decoded.load();
    c.corrupt += video_->counters().corrupt.load();
  }
  return c;
}

void AvFrameSource::Interrupt() noexcept {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  if (video_) video_->Interrupt();
}

AvFrameSourceFactory::AvFrameSourceFactory(decode::SourceOptions options, DecodeMode mode, int device)
    : options_(std::move(options)), mode_(mode), device_(device) {}

std::unique_ptr<FrameSource> AvFrameSourceFactory::Create(const Connection& connection) {
  decode::SourceOptions so = options_;
  so.stall_timeout_ms = connection.stall_timeout_ms;
  if (connection.start_pts_ms) so.start_pts_ms = *connection.start_pts_ms;
  return std::make_unique<AvFrameSource>(std::move(so), mode_, device_, &nvdec_off_, &letterboxer_);
}

}  // namespace camtrack::ingest
