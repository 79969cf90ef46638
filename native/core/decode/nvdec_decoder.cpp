#include "decode/nvdec_decoder.h"

#include <dlfcn.h>

#include <algorithm>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "common/error.h"
#include "decode/annexb_reader.h"

// The ffnvcodec loader prints "Cannot load <x>" to stderr by default; route it into the reason string instead
// (logctx is a std::string*), with dlerror()'s text for the exact cause.
namespace camtrack::decode {
namespace {
void FfnvLog(void* logctx, const char* fmt, ...) {
  if (!logctx) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  auto* s = static_cast<std::string*>(logctx);
  std::string line(buf);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const char* e = dlerror();
  if (e) line += std::string(" (") + e + ")";
  if (!s->empty()) *s += "; ";
  *s += line;
}
}  // namespace
}  // namespace camtrack::decode

#define FFNV_LOG_FUNC(logctx, msg, ...) ::camtrack::decode::FfnvLog((logctx), (msg), __VA_ARGS__)
#define FFNV_DEBUG_LOG_FUNC(logctx, msg, ...)
#include <ffnvcodec/dynlink_loader.h>

namespace camtrack::decode {
namespace {

constexpr const char* kStage = "decode";
constexpr const char* kFallbackHint = "the pipeline falls back to CPU decode for this stream (decode: 'cpu' avoids the attempt)";

// ---- the driver libraries, loaded once per process and never unloaded (other users may hold their symbols) ----
typedef CUresult CUDAAPI tcuStreamWaitEvent(CUstream, CUevent, unsigned int);

struct Driver {
  CudaFunctions* cu = nullptr;
  CuvidFunctions* cuvid = nullptr;
  tcuStreamWaitEvent* cuStreamWaitEvent = nullptr;
  std::string reason;  // empty when loaded and cuInit succeeded
};

const Driver& GetDriver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string log;
    if (cuda_load_functions(&d.cu, &log) != 0) {
      d.cu = nullptr;
      d.reason = "NVIDIA driver library not usable: " + (log.empty() ? std::string("cannot load libcuda.so.1") : log);
      return;
    }
    d.cuStreamWaitEvent = reinterpret_cast<tcuStreamWaitEvent*>(dlsym(d.cu->lib, "cuStreamWaitEvent"));
    if (!d.cuStreamWaitEvent) {
      d.reason = "libcuda.so.1 has no cuStreamWaitEvent";
      return;
    }
    log.clear();
    if (cuvid_load_functions(&d.cuvid, &log) != 0) {
      d.cuvid = nullptr;
      d.reason = "NVIDIA video decoder library not usable: " +
                 (log.empty() ? std::string("cannot load libnvcuvid.so.1") : log) +
                 " (in containers, NVIDIA_DRIVER_CAPABILITIES must include 'video')";
      return;
    }
    const CUresult r = d.cu->cuInit(0);
    if (r != CUDA_SUCCESS) {
      const char* name = nullptr;
      d.cu->cuGetErrorName(r, &name);
      d.reason = std::string("cuInit failed: ") + (name ? name : "?") + " (" + std::to_string(r) + ")";
    }
  });
  return d;
}

std::string CuErrorText(CUresult r) {
  const Driver& d = GetDriver();
  const char* name = nullptr;
  const char* text = nullptr;
  if (d.cu) {
    d.cu->cuGetErrorName(r, &name);
    d.cu->cuGetErrorString(r, &text);
  }
  return std::string(name ? name : "CUDA_ERROR_?") + " (" + std::to_string(static_cast<int>(r)) + "): " +
         (text ? text : "unknown error");
}

[[noreturn]] void ThrowCu(CUresult r, const char* expr, const char* file, int line) {
  const char* base = std::strrchr(file, '/');
  std::string msg = CuErrorText(r) + " in " + expr + " at " + (base ? base + 1 : file) + ":" + std::to_string(line);
  const char* hint = kFallbackHint;
  if (static_cast<int>(r) == 2 /* CUDA_ERROR_OUT_OF_MEMORY */) hint = "GPU memory or NVDEC sessions exhausted: use fewer GPU-decoded streams or a smaller surface pool";
  throw Error(ErrorCode::kCuda, kStage, std::move(msg), hint, static_cast<long long>(r));
}

#define NVDEC_CU(expr)                                                       \
  do {                                                                       \
    const CUresult nvdec_r_ = (expr);                                        \
    if (nvdec_r_ != CUDA_SUCCESS) ThrowCu(nvdec_r_, #expr, __FILE__, __LINE__); \
  } while (0)

[[noreturn]] void ThrowUnsupported(std::string why) {
  throw Error(ErrorCode::kUnsupported, kStage, "NVDEC unavailable: " + why, kFallbackHint);
}

const Driver& RequireDriver() {
  const Driver& d = GetDriver();
  if (!d.reason.empty()) ThrowUnsupported(d.reason);
  return d;
}

// Makes `ctx` current on this thread for the scope (driver calls need it; the caller's own current context is
// restored afterwards, so this composes with CUDA runtime code on the same thread).
class CtxScope {
 public:
  explicit CtxScope(CUcontext ctx) {
    NVDEC_CU(GetDriver().cu->cuCtxPushCurrent(ctx));
  }
  ~CtxScope() {
    CUcontext dummy = nullptr;
    GetDriver().cu->cuCtxPopCurrent(&dummy);
  }
  CtxScope(const CtxScope&) = delete;
  CtxScope& operator=(const CtxScope&) = delete;
};

cudaVideoCodec CuvidCodec(NvdecCodec codec) noexcept {
  return codec == NvdecCodec::kHevc ? cudaVideoCodec_HEVC : cudaVideoCodec_H264;
}

// Does NVDEC decode 8-bit 4:2:0 `codec` at all (cuvidGetDecoderCaps, which the caller checked is there)? Needs the
// device's context current. Throws Error(kCuda) when the query fails.
bool Decodes8Bit420(const Driver& d, cudaVideoCodec codec) {
  CUVIDDECODECAPS caps{};
  caps.eCodecType = codec;
  caps.eChromaFormat = cudaVideoChromaFormat_420;
  caps.nBitDepthMinus8 = 0;
  NVDEC_CU(d.cuvid->cuvidGetDecoderCaps(&caps));
  return caps.bIsSupported;
}

}  // namespace

const char* NvdecCodecName(NvdecCodec codec) noexcept { return codec == NvdecCodec::kHevc ? "hevc" : "h264"; }

// ---- per-decoder GPU context: retained primary context + the decoder's stream ----
// Shared by the decoder and its pools (leases may outlive the decoder), so the stream and context stay alive
// until the last surface is freed.
class GpuContext {
 public:
  explicit GpuContext(int device) {
    const Driver& d = RequireDriver();
    int count = 0;
    NVDEC_CU(d.cu->cuDeviceGetCount(&count));
    if (device < 0 || device >= count)
      throw Error(ErrorCode::kInvalidArgument, kStage,
                  "NVDEC device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                      " CUDA device(s) visible)",
                  "use a device index below the visible device count (CUDA_VISIBLE_DEVICES)");
    NVDEC_CU(d.cu->cuDeviceGet(&dev_, device));
    char name[256] = {0};
    d.cu->cuDeviceGetName(name, sizeof name - 1, dev_);
    name_ = name;
    NVDEC_CU(d.cu->cuDevicePrimaryCtxRetain(&ctx_, dev_));
    try {
      CtxScope scope(ctx_);
      NVDEC_CU(d.cu->cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING));
    } catch (...) {
      d.cu->cuDevicePrimaryCtxRelease(dev_);
      throw;
    }
  }
  ~GpuContext() {
    const Driver& d = GetDriver();
    if (d.cu->cuCtxPushCurrent(ctx_) == CUDA_SUCCESS) {
      d.cu->cuStreamSynchronize(stream_);
      d.cu->cuStreamDestroy(stream_);
      CUcontext dummy = nullptr;
      d.cu->cuCtxPopCurrent(&dummy);
    }
    d.cu->cuDevicePrimaryCtxRelease(dev_);
  }
  GpuContext(const GpuContext&) = delete;
  GpuContext& operator=(const GpuContext&) = delete;

  CUcontext ctx() const noexcept { return ctx_; }
  CUstream stream() const noexcept { return stream_; }
  const std::string& name() const noexcept { return name_; }

 private:
  CUdevice dev_ = 0;
  CUcontext ctx_ = nullptr;
  CUstream stream_ = nullptr;
  std::string name_;
};

// ---- the bounded pool of NV12 output surfaces for one format (width x height) ----
// Owner thread: Acquire/MarkQueued/MarkLeased/DropQueued. Any thread: Return (from DeviceFrame::Release).
class NvdecSurfacePool {
 public:
  enum class State { kFree, kQueued, kLeased };
  struct Slot {
    CUdeviceptr ptr = 0;
    size_t pitch = 0;
    CUevent ready = nullptr;     // recorded on the decoder stream after the copy into the surface
    CUevent released = nullptr;  // recorded on the consumer's stream by Release(stream)
    bool wait_released = false;  // the next copy into this surface must wait for `released` (GPU-side)
    State state = State::kFree;
  };

  NvdecSurfacePool(std::shared_ptr<GpuContext> gpu, int width, int height, int size)
      : gpu_(std::move(gpu)), width_(width), height_(height), slots_(static_cast<size_t>(size)) {
    const Driver& d = GetDriver();
    CtxScope scope(gpu_->ctx());
    const size_t row_bytes = static_cast<size_t>((width + 1) & ~1);
    const size_t rows = static_cast<size_t>(height) + static_cast<size_t>((height + 1) / 2);
    try {
      for (Slot& s : slots_) {
        NVDEC_CU(d.cu->cuMemAllocPitch(&s.ptr, &s.pitch, row_bytes, rows, 16));
        NVDEC_CU(d.cu->cuEventCreate(&s.ready, CU_EVENT_DISABLE_TIMING));
        NVDEC_CU(d.cu->cuEventCreate(&s.released, CU_EVENT_DISABLE_TIMING));
      }
    } catch (...) {
      FreeAll();
      throw;
    }
  }
  ~NvdecSurfacePool() {
    if (GetDriver().cu->cuCtxPushCurrent(gpu_->ctx()) == CUDA_SUCCESS) {
      // Copies into these surfaces were queued on the decoder stream: let them finish before freeing.
      GetDriver().cu->cuStreamSynchronize(gpu_->stream());
      FreeAll();
      CUcontext dummy = nullptr;
      GetDriver().cu->cuCtxPopCurrent(&dummy);
    }
  }
  NvdecSurfacePool(const NvdecSurfacePool&) = delete;
  NvdecSurfacePool& operator=(const NvdecSurfacePool&) = delete;

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  int size() const noexcept { return static_cast<int>(slots_.size()); }
  Slot& slot(int i) noexcept { return slots_[static_cast<size_t>(i)]; }
  const std::shared_ptr<GpuContext>& gpu() const noexcept { return gpu_; }

  // A free slot marked kQueued, or -1. With `block`, waits while a lease is outstanding and nothing is free.
  int TakeFree(bool block) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      for (size_t i = 0; i < slots_.size(); ++i) {
        if (slots_[i].state == State::kFree) {
          slots_[i].state = State::kQueued;
          return static_cast<int>(i);
        }
      }
      if (!block || leased_ == 0) return -1;
      cv_.wait(lock);
    }
  }
  void MarkLeased(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    slots_[static_cast<size_t>(i)].state = State::kLeased;
    ++leased_;
  }
  void MarkFree(int i) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    slots_[static_cast<size_t>(i)].state = State::kFree;
    cv_.notify_one();
  }
  int InUse() {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const Slot& s : slots_) n += s.state != State::kFree;
    return n;
  }
  // From DeviceFrame::Release, any thread.
  void Return(int i, CUstream after) noexcept {
    Slot& s = slots_[static_cast<size_t>(i)];
    bool recorded = false;
    if (after) {
      const Driver& d = GetDriver();
      if (d.cu->cuCtxPushCurrent(gpu_->ctx()) == CUDA_SUCCESS) {
        recorded = d.cu->cuEventRecord(s.released, after) == CUDA_SUCCESS;
        CUcontext dummy = nullptr;
        d.cu->cuCtxPopCurrent(&dummy);
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    s.wait_released = recorded;
    s.state = State::kFree;
    --leased_;
    cv_.notify_one();
  }

 private:
  void FreeAll() noexcept {
    const Driver& d = GetDriver();
    for (Slot& s : slots_) {
      if (s.ptr) d.cu->cuMemFree(s.ptr);
      if (s.ready) d.cu->cuEventDestroy(s.ready);
      if (s.released) d.cu->cuEventDestroy(s.released);
      s = Slot{};
    }
  }

  std::shared_ptr<GpuContext> gpu_;
  int width_, height_;
  std::vector<Slot> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  int leased_ = 0;
};

// ---- DeviceFrame ----
DeviceFrame::DeviceFrame(DeviceFrame&& o) noexcept { *this = std::move(o); }
DeviceFrame& DeviceFrame::operator=(DeviceFrame&& o) noexcept {
  if (this != &o) {
    Release();
    pool_ = std::move(o.pool_);
    data_ = std::exchange(o.data_, nullptr);
    pitch_ = std::exchange(o.pitch_, 0);
    width_ = std::exchange(o.width_, 0);
    height_ = std::exchange(o.height_, 0);
    slot_ = std::exchange(o.slot_, -1);
    pts_ = std::exchange(o.pts_, 0);
    ready_ = std::exchange(o.ready_, nullptr);
  }
  return *this;
}
void DeviceFrame::Release(cuda::StreamHandle after) noexcept {
  if (!pool_) return;
  pool_->Return(slot_, after);
  pool_.reset();
  data_ = nullptr;
  slot_ = -1;
  ready_ = nullptr;
}
void DeviceFrame::SynchronizeReady() const {
  if (!pool_) throw Error(ErrorCode::kInvalidState, kStage, "SynchronizeReady() on an empty DeviceFrame");
  NVDEC_CU(GetDriver().cu->cuEventSynchronize(ready_));
}

// ---- NvdecDecoder ----
struct NvdecDecoder::Impl {
  std::shared_ptr<GpuContext> gpu;
  CUvideoctxlock lock = nullptr;
  CUvideoparser parser = nullptr;
  bool parser_flushed = false;  // EOS sent: recreate before the next data
  CUvideodecoder decoder = nullptr;
  CUVIDEOFORMAT format{};  // of the current decoder
  int num_decode_surfaces = 0;
  int surface_height = 0;  // luma rows of a mapped NVDEC output surface (UV follows)
  std::shared_ptr<NvdecSurfacePool> pool;
  // Payload of the last sequence parameter set seen in the byte stream (capacity reserved up front). A different
  // SPS means a new sequence (e.g. a resolution change): the parser is flushed first, because on a size change
  // NVDEC's parser discards the pictures still waiting for output (no_output_of_prior_pics inferred), while CPU
  // decoders output them.
  std::vector<uint8_t> last_sps;

  // Decoded, not yet delivered frames (display order). A ring of fixed capacity: no allocation per frame; it
  // only grows if queued frames of an old format and the new pool coexist after a resolution change.
  struct Pending {
    std::shared_ptr<NvdecSurfacePool> pool;
    int slot = -1;
    int64_t pts = 0;
  };
  std::vector<Pending> ring;
  size_t head = 0, count = 0;

  Pending& At(size_t k) { return ring[(head + k) % ring.size()]; }
  void Push(Pending p) {
    if (count == ring.size()) {  // rare (format change): grow, keeping order
      std::vector<Pending> bigger(ring.size() * 2);
      for (size_t k = 0; k < count; ++k) bigger[k] = std::move(At(k));
      ring = std::move(bigger);
      head = 0;
    }
    At(count) = std::move(p);
    ++count;
  }
  Pending PopFront() {
    Pending p = std::move(ring[head]);
    head = (head + 1) % ring.size();
    --count;
    return p;
  }
  // Removes the oldest queued frame of `of` (order of the rest kept). Returns its slot, or -1.
  int DropOldestOf(const NvdecSurfacePool* of) {
    for (size_t k = 0; k < count; ++k) {
      if (At(k).pool.get() != of) continue;
      const int slot = At(k).slot;
      for (size_t j = k; j + 1 < count; ++j) At(j) = std::move(At(j + 1));
      At(count - 1) = Pending{};
      --count;
      return slot;
    }
    return -1;
  }
};

cuda::FeatureStatus NvdecDecoder::Probe(int device) noexcept {
  cuda::FeatureStatus st;
  try {
    const Driver& d = GetDriver();
    if (!d.reason.empty()) {
      st.reason = d.reason;
      return st;
    }
    GpuContext gpu(device);
    if (!d.cuvid->cuvidGetDecoderCaps) {
      st.reason = "libnvcuvid.so.1 has no cuvidGetDecoderCaps (driver too old)";
      return st;
    }
    bool supported = false;
    {
      CtxScope scope(gpu.ctx());
      supported = Decodes8Bit420(d, cudaVideoCodec_H264);
    }
    if (!supported) {
      st.reason = "NVDEC on " + gpu.name() + " does not decode 8-bit 4:2:0 H.264";
      return st;
    }
    st.available = true;
  } catch (const std::exception& e) {
    st.available = false;
    st.reason = e.what();
  } catch (...) {
    st.available = false;
    st.reason = "unknown error while probing NVDEC";
  }
  return st;
}

NvdecDecoder::NvdecDecoder(const NvdecOptions& options) : options_(options) {
  if (options_.surface_pool_size < 1 || options_.surface_pool_size > 64)
    throw Error(ErrorCode::kInvalidArgument, kStage,
                "Expected surface_pool_size in 1..64 but received " + std::to_string(options_.surface_pool_size),
                "a pool of 4–8 surfaces is typical");
  if (options_.max_display_delay < 0 || options_.max_display_delay > 16 || options_.extra_decode_surfaces < 0 ||
      options_.extra_decode_surfaces > 16)
    throw Error(ErrorCode::kInvalidArgument, kStage,
                "Expected max_display_delay and extra_decode_surfaces in 0..16", "use the defaults");
  if (options_.device < 0)
    throw Error(ErrorCode::kInvalidArgument, kStage,
                "Expected a device index >= 0 but received " + std::to_string(options_.device));
  const Driver& d = RequireDriver();
  impl_ = std::make_unique<Impl>();
  impl_->ring.resize(static_cast<size_t>(options_.surface_pool_size) * 2);
  impl_->last_sps.reserve(1024);
  impl_->gpu = std::make_shared<GpuContext>(options_.device);
  CtxScope scope(impl_->gpu->ctx());
  NVDEC_CU(d.cuvid->cuvidCtxLockCreate(&impl_->lock, impl_->gpu->ctx()));
  // Is the codec there at all (8-bit 4:2:0)? Profile / size / bit depth are checked again per sequence header.
  if (d.cuvid->cuvidGetDecoderCaps && !Decodes8Bit420(d, CuvidCodec(options_.codec))) {
    ThrowUnsupported(std::string("NVDEC on ") + impl_->gpu->name() + " does not decode 8-bit 4:2:0 " +
                     NvdecCodecName(options_.codec));
  }
}

NvdecDecoder::~NvdecDecoder() {
  if (!impl_ || !impl_->gpu) return;
  const Driver& d = GetDriver();
  if (d.cu->cuCtxPushCurrent(impl_->gpu->ctx()) != CUDA_SUCCESS) return;
  if (impl_->parser) d.cuvid->cuvidDestroyVideoParser(impl_->parser);
  d.cu->cuStreamSynchronize(impl_->gpu->stream());
  if (impl_->decoder) d.cuvid->cuvidDestroyDecoder(impl_->decoder);
  if (impl_->lock) d.cuvid->cuvidCtxLockDestroy(impl_->lock);
  // Queued, undelivered frames go back to their pools; leased ones keep their pool (and context) alive.
  while (impl_->count) {
    Impl::Pending p = impl_->PopFront();
    p.pool->MarkFree(p.slot);
  }
  impl_->pool.reset();
  CUcontext dummy = nullptr;
  d.cu->cuCtxPopCurrent(&dummy);
}

std::string NvdecDecoder::device_name() const { return impl_ ? impl_->gpu->name() : std::string(); }

void NvdecDecoder::RethrowStored() {
  if (stored_error_) {
    std::exception_ptr e = std::exchange(stored_error_, nullptr);
    std::rethrow_exception(e);
  }
}

// C callbacks of the parser: noexcept trampolines that store the error (nothing throws across the driver).
struct NvdecDecoder::Callbacks {
  template <typename F>
  static int Guard(void* self, F&& f) noexcept {
    auto* me = static_cast<NvdecDecoder*>(self);
    try {
      return f(me);
    } catch (...) {
      me->stored_error_ = std::current_exception();
      return 0;  // makes the parser stop and cuvidParseVideoData fail; Parse() rethrows the stored error
    }
  }
  static int CUDAAPI Sequence(void* self, CUVIDEOFORMAT* f) noexcept {
    return Guard(self, [f](NvdecDecoder* me) { return me->OnSequence(f); });
  }
  static int CUDAAPI Decode(void* self, CUVIDPICPARAMS* p) noexcept {
    return Guard(self, [p](NvdecDecoder* me) { return me->OnDecode(p); });
  }
  static int CUDAAPI Display(void* self, CUVIDPARSERDISPINFO* i) noexcept {
    return Guard(self, [i](NvdecDecoder* me) { return me->OnDisplay(i); });
  }
};

void NvdecDecoder::Parse(const uint8_t* data, size_t size, int64_t pts, unsigned long flags) {
  const Driver& d = GetDriver();
  Impl& m = *impl_;
  if (m.parser && m.parser_flushed) {
    d.cuvid->cuvidDestroyVideoParser(m.parser);
    m.parser = nullptr;
  }
  if (!m.parser) {
    CUVIDPARSERPARAMS pp{};
    pp.CodecType = CuvidCodec(options_.codec);
    pp.ulMaxNumDecodeSurfaces = 1;  // the sequence callback returns the real number
    pp.ulClockRate = 0;
    pp.ulErrorThreshold = 100;  // conceal and keep going on corrupt pictures (counted upstream)
    pp.ulMaxDisplayDelay = static_cast<unsigned>(options_.max_display_delay);
    pp.pUserData = this;
    pp.pfnSequenceCallback = &Callbacks::Sequence;
    pp.pfnDecodePicture = &Callbacks::Decode;
    pp.pfnDisplayPicture = &Callbacks::Display;
    NVDEC_CU(d.cuvid->cuvidCreateVideoParser(&m.parser, &pp));
    m.parser_flushed = false;
  }
  CUVIDSOURCEDATAPACKET pkt{};
  pkt.flags = flags;
  pkt.payload = data;
  pkt.payload_size = static_cast<tcu_ulong>(size);
  pkt.timestamp = pts;
  const CUresult r = d.cuvid->cuvidParseVideoData(m.parser, &pkt);
  RethrowStored();  // a callback's error is more precise than the parser's return code
  if (r != CUDA_SUCCESS)
    throw Error(ErrorCode::kDecode, kStage, "cuvidParseVideoData failed: " + CuErrorText(r),
                "the bitstream may not be H.264/HEVC Annex-B, or the decoder failed; " + std::string(kFallbackHint),
                static_cast<long long>(r));
  if (flags & CUVID_PKT_ENDOFSTREAM) m.parser_flushed = true;
}

void NvdecDecoder::Decode(const uint8_t* data, size_t size, int64_t pts, bool complete_picture) {
  if (!impl_) throw Error(ErrorCode::kInvalidState, kStage, "Decode() on a moved-from NvdecDecoder");
  if (!data || size == 0) return;
  CtxScope scope(impl_->gpu->ctx());
  ++stats_.packets;
  if (NewSequenceParameterSet(data, size) && impl_->parser && !impl_->parser_flushed) {
    Parse(nullptr, 0, 0, CUVID_PKT_ENDOFSTREAM);  // output every picture of the old sequence first
    ++stats_.sequence_flushes;
  }
  Parse(data, size, pts, CUVID_PKT_TIMESTAMP | (complete_picture ? CUVID_PKT_ENDOFPICTURE : 0));
}

bool NvdecDecoder::NewSequenceParameterSet(const uint8_t* data, size_t size) {
  const bool hevc = options_.codec == NvdecCodec::kHevc;
  const int sps_type = hevc ? 33 : 7;
  AnnexBSplitter nals(data, size, hevc);
  AnnexBNal nal;
  bool changed = false;
  while (nals.NextNal(&nal)) {
    if (nal.type != sps_type) continue;
    std::vector<uint8_t>& last = impl_->last_sps;
    const bool same = last.size() == nal.payload_size && std::equal(last.begin(), last.end(), nal.payload);
    if (!same) {
      changed = changed || !last.empty();
      last.assign(nal.payload, nal.payload + nal.payload_size);  // within the reserved capacity (SPS < 1 KiB)
    }
  }
  return changed;
}

void NvdecDecoder::Flush() {
  if (!impl_ || !impl_->parser || impl_->parser_flushed) return;
  CtxScope scope(impl_->gpu->ctx());
  Parse(nullptr, 0, 0, CUVID_PKT_ENDOFSTREAM);
}

bool NvdecDecoder::NextFrame(DeviceFrame* out) {
  if (!out) throw Error(ErrorCode::kInvalidArgument, kStage, "NextFrame(nullptr)");
  if (!impl_ || impl_->count == 0) return false;
  Impl::Pending p = impl_->PopFront();
  p.pool->MarkLeased(p.slot);
  const NvdecSurfacePool::Slot& s = p.pool->slot(p.slot);
  out->Release();
  out->data_ = reinterpret_cast<void*>(static_cast<uintptr_t>(s.ptr));
  out->pitch_ = s.pitch;
  out->width_ = p.pool->width();
  out->height_ = p.pool->height();
  out->slot_ = p.slot;
  out->pts_ = p.pts;
  out->ready_ = s.ready;
  out->pool_ = std::move(p.pool);
  ++stats_.delivered;
  return true;
}

int NvdecDecoder::OnSequence(void* format_ptr) {
  const auto* f = static_cast<const CUVIDEOFORMAT*>(format_ptr);
  const Driver& d = GetDriver();
  Impl& m = *impl_;
  const char* codec = NvdecCodecName(options_.codec);
  const int w = f->display_area.right - f->display_area.left;
  const int h = f->display_area.bottom - f->display_area.top;
  const std::string what = std::string(codec) + " " + std::to_string(f->coded_width) + "x" +
                           std::to_string(f->coded_height) + ", chroma format " +
                           std::to_string(static_cast<int>(f->chroma_format)) + ", " +
                           std::to_string(8 + f->bit_depth_luma_minus8) + "-bit";
  if (f->chroma_format != cudaVideoChromaFormat_420 || f->bit_depth_luma_minus8 != 0 ||
      f->bit_depth_chroma_minus8 != 0)
    ThrowUnsupported(what + ": only 8-bit 4:2:0 streams are decoded to NV12 on the GPU");
  if (w <= 0 || h <= 0) throw Error(ErrorCode::kDecode, kStage, what + ": empty display area");
  if (d.cuvid->cuvidGetDecoderCaps) {
    CUVIDDECODECAPS caps{};
    caps.eCodecType = f->codec;
    caps.eChromaFormat = f->chroma_format;
    caps.nBitDepthMinus8 = f->bit_depth_luma_minus8;
    NVDEC_CU(d.cuvid->cuvidGetDecoderCaps(&caps));
    if (!caps.bIsSupported) ThrowUnsupported(what + " is not supported by NVDEC on " + m.gpu->name());
    if (f->coded_width > caps.nMaxWidth || f->coded_height > caps.nMaxHeight ||
        (f->coded_width / 16) * (f->coded_height / 16) > caps.nMaxMBCount)
      ThrowUnsupported(what + " exceeds NVDEC's maximum " + std::to_string(caps.nMaxWidth) + "x" +
                       std::to_string(caps.nMaxHeight) + " on " + m.gpu->name());
    if (f->coded_width < caps.nMinWidth || f->coded_height < caps.nMinHeight)
      ThrowUnsupported(what + " is below NVDEC's minimum " + std::to_string(caps.nMinWidth) + "x" +
                       std::to_string(caps.nMinHeight));
    if (!(caps.nOutputFormatMask & (1u << cudaVideoSurfaceFormat_NV12)))
      ThrowUnsupported(what + ": NVDEC cannot output NV12 for it");
  }
  const int num_surfaces = f->min_num_decode_surfaces + options_.extra_decode_surfaces;
  const bool same = m.decoder && m.format.coded_width == f->coded_width &&
                    m.format.coded_height == f->coded_height && m.format.chroma_format == f->chroma_format &&
                    m.format.display_area.left == f->display_area.left &&
                    m.format.display_area.top == f->display_area.top &&
                    m.format.display_area.right == f->display_area.right &&
                    m.format.display_area.bottom == f->display_area.bottom &&
                    m.format.progressive_sequence == f->progressive_sequence && m.num_decode_surfaces >= num_surfaces;
  if (same) return m.num_decode_surfaces;

  if (m.decoder) {
    // Format change: every earlier picture has been displayed (the parser flushes before this callback); wait for
    // their copies, then replace the decoder.
    NVDEC_CU(d.cu->cuStreamSynchronize(m.gpu->stream()));
    d.cuvid->cuvidDestroyDecoder(m.decoder);
    m.decoder = nullptr;
  }
  CUVIDDECODECREATEINFO ci{};
  ci.ulWidth = f->coded_width;
  ci.ulHeight = f->coded_height;
  ci.ulNumDecodeSurfaces = static_cast<tcu_ulong>(num_surfaces);
  ci.CodecType = f->codec;
  ci.ChromaFormat = f->chroma_format;
  ci.ulCreationFlags = cudaVideoCreate_PreferCUVID;
  ci.bitDepthMinus8 = f->bit_depth_luma_minus8;
  ci.ulMaxWidth = f->coded_width;
  ci.ulMaxHeight = f->coded_height;
  ci.display_area.left = static_cast<short>(f->display_area.left);
  ci.display_area.top = static_cast<short>(f->display_area.top);
  ci.display_area.right = static_cast<short>(f->display_area.right);
  ci.display_area.bottom = static_cast<short>(f->display_area.bottom);
  ci.OutputFormat = cudaVideoSurfaceFormat_NV12;
  ci.DeinterlaceMode = f->progressive_sequence ? cudaVideoDeinterlaceMode_Weave : cudaVideoDeinterlaceMode_Adaptive;
  ci.ulTargetWidth = static_cast<tcu_ulong>((w + 1) & ~1);
  ci.ulTargetHeight = static_cast<tcu_ulong>((h + 1) & ~1);
  ci.ulNumOutputSurfaces = 2;
  ci.vidLock = m.lock;
  NVDEC_CU(d.cuvid->cuvidCreateDecoder(&m.decoder, &ci));
  m.format = *f;
  m.num_decode_surfaces = num_surfaces;
  m.surface_height = static_cast<int>(ci.ulTargetHeight);
  // kBlock (no drops): the parser can output a stream's whole DPB in one Decode() (at an IDR or a flush), and those
  // frames must wait in the pool for this thread's NextFrame(), so the pool holds at least that many.
  const int pool_size = options_.pool_full == PoolFullPolicy::kBlock
                            ? std::max(options_.surface_pool_size, static_cast<int>(f->min_num_decode_surfaces) + 1)
                            : options_.surface_pool_size;
  if (!m.pool || m.pool->width() != w || m.pool->height() != h || m.pool->size() != pool_size)
    m.pool = std::make_shared<NvdecSurfacePool>(m.gpu, w, h, pool_size);
  stats_.pool_size = pool_size;
  ++stats_.sequence_changes;
  stats_.width = w;
  stats_.height = h;
  return num_surfaces;
}

int NvdecDecoder::OnDecode(void* pic) {
  Impl& m = *impl_;
  if (!m.decoder) throw Error(ErrorCode::kDecode, kStage, "picture before any sequence header");
  NVDEC_CU(GetDriver().cuvid->cuvidDecodePicture(m.decoder, static_cast<CUVIDPICPARAMS*>(pic)));
  ++stats_.decoded;
  return 1;
}

int NvdecDecoder::OnDisplay(void* info_ptr) {
  const auto* info = static_cast<const CUVIDPARSERDISPINFO*>(info_ptr);
  const Driver& d = GetDriver();
  Impl& m = *impl_;
  ++stats_.displayed;
  // Damaged input (the parser conceals with ulErrorThreshold): count the picture, output it anyway, as libavcodec
  // does with its corrupt-flagged frames. The status query is optional in the driver API: skip it when absent.
  if (d.cuvid->cuvidGetDecodeStatus) {
    CUVIDGETDECODESTATUS status{};
    if (d.cuvid->cuvidGetDecodeStatus(m.decoder, info->picture_index, &status) == CUDA_SUCCESS &&
        (status.decodeStatus == cuvidDecodeStatus_Error || status.decodeStatus == cuvidDecodeStatus_Error_Concealed)) {
      ++stats_.corrupt;
    }
  }
  NvdecSurfacePool& pool = *m.pool;
  int slot = pool.TakeFree(options_.pool_full == PoolFullPolicy::kBlock);
  if (slot < 0) {
    slot = m.DropOldestOf(&pool);  // live: the newest picture wins; block: nothing leased, waiting would deadlock
    ++stats_.dropped_pool_full;    // the oldest queued picture, or this one
    if (slot < 0) return 1;        // every surface is leased out: drop this picture
  }
  // From here the slot is ours (kQueued); give it back if anything below throws.
  struct SlotGuard {
    NvdecSurfacePool* pool;
    int slot;
    ~SlotGuard() {
      if (pool) pool->MarkFree(slot);
    }
  } guard{&pool, slot};
  NvdecSurfacePool::Slot& s = pool.slot(slot);

  CUVIDPROCPARAMS pp{};
  pp.progressive_frame = info->progressive_frame;
  pp.second_field = info->repeat_first_field + 1;
  pp.top_field_first = info->top_field_first;
  pp.unpaired_field = info->repeat_first_field < 0;
  pp.output_stream = m.gpu->stream();
  CUdeviceptr src = 0;
  unsigned int src_pitch = 0;
  NVDEC_CU(d.cuvid->cuvidMapVideoFrame(m.decoder, info->picture_index, &src, &src_pitch, &pp));
  struct Unmap {
    const Driver& d;
    CUvideodecoder dec;
    CUdeviceptr src;
    ~Unmap() { d.cuvid->cuvidUnmapVideoFrame(dec, src); }
  } unmap{d, m.decoder, src};

  // wait_released was written by Return() before it freed the slot under the pool mutex, and TakeFree() took the
  // slot under the same mutex: no other thread touches a kQueued slot.
  const bool wait = s.wait_released;
  s.wait_released = false;
  CUstream stream = m.gpu->stream();
  if (wait) NVDEC_CU(d.cuStreamWaitEvent(stream, s.released, 0));
  const int w = pool.width(), h = pool.height();
  CUDA_MEMCPY2D c{};
  c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
  c.srcDevice = src;
  c.srcPitch = src_pitch;
  c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
  c.dstDevice = s.ptr;
  c.dstPitch = s.pitch;
  c.WidthInBytes = static_cast<size_t>(w);
  c.Height = static_cast<size_t>(h);
  NVDEC_CU(d.cu->cuMemcpy2DAsync(&c, stream));
  c.srcDevice = src + static_cast<CUdeviceptr>(src_pitch) * static_cast<CUdeviceptr>(m.surface_height);
  c.dstDevice = s.ptr + static_cast<CUdeviceptr>(s.pitch) * static_cast<CUdeviceptr>(h);
  c.WidthInBytes = static_cast<size_t>((w + 1) & ~1);
  c.Height = static_cast<size_t>((h + 1) / 2);
  NVDEC_CU(d.cu->cuMemcpy2DAsync(&c, stream));
  NVDEC_CU(d.cu->cuEventRecord(s.ready, stream));
  // The mapped picture must stay mapped until the copy has read it (the SDK samples synchronise here too).
  NVDEC_CU(d.cu->cuStreamSynchronize(stream));

  m.Push(Impl::Pending{m.pool, slot, info->timestamp});
  guard.pool = nullptr;  // queued: NextFrame() owns it now
  const int in_use = pool.InUse();
  if (in_use > stats_.pool_in_use_max) stats_.pool_in_use_max = in_use;
  return 1;
}

}  // namespace camtrack::decode
