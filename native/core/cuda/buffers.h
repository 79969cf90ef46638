#pragma once
// RAII owners of CUDA resources and the borrowed views that are passed around instead of raw pointers.
//
//   DeviceBuffer  owning, move-only: cudaMalloc / cudaFree.           Memory lives on the device that was current.
//   PinnedBuffer  owning, move-only: cudaMallocHost / cudaFreeHost.   Page-locked host memory for async copies.
//   BufferView    borrowed (data, size). PlaneView: borrowed 2-D plane (data, pitch, width, height).
//   Stream        owning, move-only cudaStream_t (non-blocking w.r.t. the legacy default stream).
//   Event         owning, move-only cudaEvent_t: marks when work queued on a stream is done.
//
// No CUDA headers here (the binding may include this file): the handles are the CUDA driver's opaque struct
// pointers, which are exactly cudaStream_t / cudaEvent_t.
// Built without CUDA these types still exist; empty default-constructed buffers are allowed, anything that would
// need the CUDA runtime (allocating, creating a stream/event) throws Error(kUnsupported).
// Thread-safety: none of these objects is internally synchronised; a single owner uses each. Destructors never
// throw and never synchronise: the owner must make sure no queued GPU work still uses the memory (e.g. by
// synchronising the stream or an Event first).
#include <cstddef>
#include <cstdint>

struct CUstream_st;
struct CUevent_st;

namespace camtrack::cuda {

using StreamHandle = CUstream_st*;  // == cudaStream_t; nullptr = the legacy default stream
using EventHandle = CUevent_st*;    // == cudaEvent_t

// Borrowed 1-D memory (device or host, the holder knows which). Does not own; the owner must outlive it.
struct BufferView {
  void* data = nullptr;
  size_t size = 0;  // bytes
  template <typename T>
  T* as() const noexcept { return static_cast<T*>(data); }
};

// Borrowed 2-D plane, e.g. the Y or the interleaved UV plane of an NV12 surface. width is in elements of the
// plane (UV plane of NV12: (w+1)/2 pairs), pitch in bytes between rows. Does not own.
struct PlaneView {
  void* data = nullptr;
  size_t pitch = 0;
  int width = 0;
  int height = 0;
  template <typename T>
  T* row(int y) const noexcept { return reinterpret_cast<T*>(static_cast<uint8_t*>(data) + pitch * y); }
};

class DeviceBuffer {
 public:
  DeviceBuffer() noexcept = default;  // empty, no allocation
  explicit DeviceBuffer(size_t bytes);  // cudaMalloc on the current device; throws Error(kCuda / kUnsupported)
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  template <typename T = void>
  T* data() const noexcept { return static_cast<T*>(data_); }
  size_t size() const noexcept { return size_; }  // bytes
  bool empty() const noexcept { return data_ == nullptr; }
  BufferView view() const noexcept { return {data_, size_}; }
  void Reset() noexcept;  // frees now (no synchronisation: see the header comment)

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

class PinnedBuffer {
 public:
  PinnedBuffer() noexcept = default;
  explicit PinnedBuffer(size_t bytes);  // cudaMallocHost; throws Error(kCuda / kUnsupported)
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& o) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  template <typename T = void>
  T* data() const noexcept { return static_cast<T*>(data_); }
  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return data_ == nullptr; }
  BufferView view() const noexcept { return {data_, size_}; }
  void Reset() noexcept;

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

class Stream {
 public:
  Stream();  // cudaStreamCreateWithFlags(cudaStreamNonBlocking) on the current device; throws
  ~Stream();
  Stream(Stream&& o) noexcept;
  Stream& operator=(Stream&& o) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  StreamHandle get() const noexcept { return stream_; }
  void Synchronize() const;  // blocks the calling thread until the stream is idle; throws on a CUDA error

 private:
  StreamHandle stream_ = nullptr;
};

class Event {
 public:
  explicit Event(bool timing = false);  // cudaEventCreateWithFlags (DisableTiming unless `timing`); throws
  ~Event();
  Event(Event&& o) noexcept;
  Event& operator=(Event&& o) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  EventHandle get() const noexcept { return event_; }
  void Record(StreamHandle stream);      // marks the current end of `stream`
  void Synchronize() const;              // blocks until the recorded work is done
  bool Query() const;                    // true when the recorded work is done (no blocking)
  void Wait(StreamHandle stream) const;  // makes `stream` wait for this event (GPU-side, no host blocking)
  // Milliseconds between two recorded, completed timing events.
  static float ElapsedMs(const Event& start, const Event& end);

 private:
  EventHandle event_ = nullptr;
};

}  // namespace camtrack::cuda
