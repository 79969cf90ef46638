#pragma once
// SlotLease: one image position in the batch being filled, held by the source thread that letterboxes a frame into
// it. Move-only. Commit() hands the image to the batch; a lease dropped without Commit() (an exception while
// letterboxing, an early return) commits an EMPTY image instead, so the batch is never left waiting for a writer
// that is gone — a batch dispatches only when every position it handed out is committed, and batches are
// postprocessed in order, so one that never dispatches would stall every stream.
#include "core/batch/image.h"

namespace camtrack::batch {

class Batcher;

class SlotLease {
 public:
  SlotLease() = default;
  SlotLease(SlotLease&& other) noexcept { *this = std::move(other); }
  SlotLease& operator=(SlotLease&& other) noexcept;
  SlotLease(const SlotLease&) = delete;
  SlotLease& operator=(const SlotLease&) = delete;
  ~SlotLease() { Drop(); }

  explicit operator bool() const noexcept { return batcher_ != nullptr; }
  // This image's input tensor: 3 · H · W floats of the slot's batch buffer (borrowed from the inference worker).
  float* input() const noexcept { return input_; }
  // What goes with the image (owner set by whoever acquired it; frame and letterbox by the writer).
  ImageMeta& meta() noexcept { return meta_; }
  // Hands the image to the batch (the lease is empty afterwards). Dispatches the batch when it was the last writer.
  void Commit();

 private:
  friend class Batcher;
  void Drop() noexcept;  // not committed: commit an empty image

  Batcher* batcher_ = nullptr;
  int slot_ = -1, index_ = -1;
  float* input_ = nullptr;
  ImageMeta meta_;
};

}  // namespace camtrack::batch
