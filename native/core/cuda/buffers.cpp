#include "cuda/buffers.h"

#include <utility>

#include "common/error.h"

#if CAMTRACK_WITH_CUDA
#include <cuda_runtime_api.h>

#include "cuda/check.h"
#endif

namespace camtrack::cuda {

#if !CAMTRACK_WITH_CUDA
namespace {
[[noreturn]] void ThrowNoCuda(const char* what) {
  throw Error(ErrorCode::kUnsupported, "cuda", std::string(what) + ": this build has no CUDA support",
              "rebuild on a machine with the CUDA toolkit (nvcc) to use the GPU path, or use the CPU path");
}
}  // namespace
#endif

// ---- DeviceBuffer ----
DeviceBuffer::DeviceBuffer(size_t bytes) {
#if CAMTRACK_WITH_CUDA
  if (bytes == 0) return;
  CAMTRACK_CUDA_CHECK(cudaMalloc(&data_, bytes));
  size_ = bytes;
#else
  ThrowNoCuda("DeviceBuffer");
#endif
}
DeviceBuffer::~DeviceBuffer() { Reset(); }
DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    Reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}
void DeviceBuffer::Reset() noexcept {
#if CAMTRACK_WITH_CUDA
  // The result is ignored: at process exit the runtime may already be unloading (cudaErrorCudartUnloading).
  if (data_) cudaFree(data_);
#endif
  data_ = nullptr;
  size_ = 0;
}

// ---- PinnedBuffer ----
PinnedBuffer::PinnedBuffer(size_t bytes) {
#if CAMTRACK_WITH_CUDA
  if (bytes == 0) return;
  CAMTRACK_CUDA_CHECK(cudaMallocHost(&data_, bytes));
  size_ = bytes;
#else
  ThrowNoCuda("PinnedBuffer");
#endif
}
PinnedBuffer::~PinnedBuffer() { Reset(); }
PinnedBuffer::PinnedBuffer(PinnedBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    Reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}
void PinnedBuffer::Reset() noexcept {
#if CAMTRACK_WITH_CUDA
  if (data_) cudaFreeHost(data_);
#endif
  data_ = nullptr;
  size_ = 0;
}

// ---- Stream ----
Stream::Stream() {
#if CAMTRACK_WITH_CUDA
  cudaStream_t s = nullptr;
  CAMTRACK_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  stream_ = s;
#else
  ThrowNoCuda("Stream");
#endif
}
Stream::~Stream() {
#if CAMTRACK_WITH_CUDA
  if (stream_) cudaStreamDestroy(stream_);
#endif
}
Stream::Stream(Stream&& o) noexcept : stream_(std::exchange(o.stream_, nullptr)) {}
Stream& Stream::operator=(Stream&& o) noexcept {
  if (this != &o) {
#if CAMTRACK_WITH_CUDA
    if (stream_) cudaStreamDestroy(stream_);
#endif
    stream_ = std::exchange(o.stream_, nullptr);
  }
  return *this;
}
void Stream::Synchronize() const {
#if CAMTRACK_WITH_CUDA
  CAMTRACK_CUDA_CHECK(cudaStreamSynchronize(stream_));
#else
  ThrowNoCuda("Stream::Synchronize");
#endif
}

// ---- Event ----
Event::Event(bool timing) {
#if CAMTRACK_WITH_CUDA
  cudaEvent_t e = nullptr;
  CAMTRACK_CUDA_CHECK(cudaEventCreateWithFlags(&e, timing ? cudaEventDefault : cudaEventDisableTiming));
  event_ = e;
#else
  ThrowNoCuda("Event");
#endif
}
Event::~Event() {
#if CAMTRACK_WITH_CUDA
  if (event_) cudaEventDestroy(event_);
#endif
}
Event::Event(Event&& o) noexcept : event_(std::exchange(o.event_, nullptr)) {}
Event& Event::operator=(Event&& o) noexcept {
  if (this != &o) {
#if CAMTRACK_WITH_CUDA
    if (event_) cudaEventDestroy(event_);
#endif
    event_ = std::exchange(o.event_, nullptr);
  }
  return *this;
}
void Event::Record(StreamHandle stream) {
#if CAMTRACK_WITH_CUDA
  CAMTRACK_CUDA_CHECK(cudaEventRecord(event_, stream));
#else
  ThrowNoCuda("Event::Record");
#endif
}
void Event::Synchronize() const {
#if CAMTRACK_WITH_CUDA
  CAMTRACK_CUDA_CHECK(cudaEventSynchronize(event_));
#else
  ThrowNoCuda("Event::Synchronize");
#endif
}
bool Event::Query() const {
#if CAMTRACK_WITH_CUDA
  const cudaError_t err = cudaEventQuery(event_);
  if (err == cudaErrorNotReady) return false;
  CAMTRACK_CUDA_CHECK(err);
  return true;
#else
  ThrowNoCuda("Event::Query");
#endif
}
void Event::Wait(StreamHandle stream) const {
#if CAMTRACK_WITH_CUDA
  CAMTRACK_CUDA_CHECK(cudaStreamWaitEvent(stream, event_, 0));
#else
  ThrowNoCuda("Event::Wait");
#endif
}
float Event::ElapsedMs(const Event& start, const Event& end) {
#if CAMTRACK_WITH_CUDA
  float ms = 0.f;
  CAMTRACK_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, end.event_));
  return ms;
#else
  ThrowNoCuda("Event::ElapsedMs");
#endif
}

}  // namespace camtrack::cuda
