#pragma once
// The bytes of frames pushed from JS (stream.push(), issue 10), held WITHOUT a copy: when a frame is pushed, the main
// thread takes a reference (napi_ref) to the caller's Uint8Array/Buffer and hands the native side a pointer into its
// memory; the stream's source thread reads the bytes in place (JPEG/PNG decode, or the H.264/HEVC decoder's own copy)
// and then lets go of them (ingest::PushedBytes destructor, on whichever thread: the source thread, the pushing thread
// when a live queue drops the frame, or the thread that stops the stream). N-API allows references to be deleted only
// on the main thread, so letting go only queues the reference here (ReleaseQueue::Add); the main thread deletes queued
// references in the pipeline's next delivery callback, push or close (ReleaseQueue::Drain), woken through the
// pipeline's delivery function when the queue goes from empty to non-empty. So a Buffer stays alive exactly while its
// frame waits or is being decoded, plus at most one turn of the event loop.
//
// Why not a copy: measured (docs/push.md, "Holding the bytes"; 71 kB JPEGs), a copy into a reused buffer would add
// about 2 µs to a push() that costs 13–22 µs, a copy into a fresh Buffer 200–330 µs; holding needs no second copy of
// every queued frame (no pool sized for every stream's queue of the largest frames) and is what Node itself does for
// asynchronous work on a Buffer (fs.write, zlib). Its price: the caller must not modify or transfer the buffer after
// pushing it, which docs/push.md and Stream#push() state.
//
// Threads: ReleaseQueue::Add from any thread; Drain only on the main thread of the environment that made the
// references. Ownership: the queue is shared (shared_ptr) by the PipelineWrap and every JsPushedBytes, so a frame
// released after the wrap is gone still has somewhere to go (such references are then freed with the environment).
#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/ingest/push_frame_source.h"

namespace camtrack::binding {

class ReleaseQueue {
 public:
  // `wake`: asks the main thread to call Drain() soon (the pipeline's delivery function); called from Add() when the
  // queue stops being empty, under the queue's mutex.
  explicit ReleaseQueue(std::function<void()> wake) : wake_(std::move(wake)) {}
  void Add(napi_ref ref);     // any thread
  void Drain(napi_env env);   // main thread: deletes every queued reference
  void Disarm();              // no more wakes (the PipelineWrap is going away)
  size_t pending() const;

 private:
  mutable std::mutex mu_;
  std::vector<napi_ref> refs_;
  std::vector<napi_ref> scratch_;  // main thread (Drain)
  std::function<void()> wake_;
};

class JsPushedBytes final : public ingest::PushedBytes {
 public:
  // Main thread: references `bytes` (a 0-byte array is not referenced).
  JsPushedBytes(Napi::Env env, const Napi::Uint8Array& bytes, std::shared_ptr<ReleaseQueue> release);
  ~JsPushedBytes() override;
  JsPushedBytes(const JsPushedBytes&) = delete;
  JsPushedBytes& operator=(const JsPushedBytes&) = delete;
  const uint8_t* data() const noexcept override { return data_; }
  size_t size() const noexcept override { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  napi_ref ref_ = nullptr;
  std::shared_ptr<ReleaseQueue> release_;
};

}  // namespace camtrack::binding
