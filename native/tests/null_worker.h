#pragma once
// NullWorker: an inference worker without a model, for native tests and the sanitizer driver. It owns its batch
// buffers (as a JS worker owns the Float32Arrays it lends), takes each submitted slot on its own thread, reads the
// input the source threads wrote (so a race on it is seen) and completes the batch from that thread with an output
// written by `fill` (default: all zero, which no detection passes) — the path the JS bridge takes
// (Pipeline::CompleteBatch). Thread-safe: Submit() from pipeline threads.
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/infer/backend.h"
#include "core/pipeline/pipeline.h"

namespace ct_test {

class NullWorker : public camtrack::infer::InferenceWorker {
 public:
  // Writes one image's output (`elems` floats).
  using Fill = std::function<void(float* output, size_t elems)>;

  NullWorker(std::string name, size_t input_elems, size_t output_elems, int slots, Fill fill = nullptr,
             size_t output_elems_per_image = 0)
      : name_(std::move(name)), fill_(std::move(fill)), per_image_(output_elems_per_image) {
    for (int i = 0; i < slots; ++i) {
      inputs_.emplace_back(input_elems);
      outputs_.emplace_back(output_elems);
      slots_.push_back({inputs_.back().data(), input_elems, outputs_.back().data(), output_elems});
    }
  }
  ~NullWorker() override { Join(); }

  // The pipeline and this worker's index in it; starts the thread.
  void Start(camtrack::pipeline::Pipeline* pipeline, int index) {
    pipeline_ = pipeline;
    index_ = index;
    thread_ = std::thread([this] { Loop(); });
  }
  void Join() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<camtrack::infer::BatchBuffers>& slots() const override { return slots_; }
  bool Submit(int local_slot, int images) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (quit_) return false;
    queue_.push_back(local_slot);  // the whole tensor is written whatever `images` is
    cv_.notify_one();
    return true;
  }
  std::string name() const override { return name_; }
  // Its next `n` batches complete as failed (ok = false), without running: a failing backend.
  void FailNext(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_next_ = n;
  }
  uint64_t batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return quit_ || !queue_.empty(); });
      if (queue_.empty()) return;  // quit with nothing left
      const int slot = queue_.front();
      queue_.pop_front();
      if (fail_next_ > 0) {
        --fail_next_;
        ++batches_;
        lock.unlock();
        pipeline_->CompleteBatch(index_, slot, false, "injected fault (NullWorker::FailNext)");
        lock.lock();
        continue;
      }
      lock.unlock();
      // "Inference": read the input the source threads wrote (so a race on it is seen), write the output.
      const camtrack::infer::BatchBuffers& b = slots_[slot];
      volatile float sink = 0;
      for (size_t i = 0; i < b.input_elems; i += 4096) sink = sink + b.input[i];
      std::fill(b.output, b.output + b.output_elems, 0.f);
      if (fill_ && per_image_ > 0)
        for (size_t off = 0; off + per_image_ <= b.output_elems; off += per_image_) fill_(b.output + off, per_image_);
      pipeline_->CompleteBatch(index_, slot, true, "");
      lock.lock();
      ++batches_;
    }
  }

  std::string name_;
  Fill fill_;
  size_t per_image_;
  std::deque<std::vector<float>> inputs_, outputs_;  // deque: data() stays put as slots are added
  std::vector<camtrack::infer::BatchBuffers> slots_;
  camtrack::pipeline::Pipeline* pipeline_ = nullptr;
  int index_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> queue_;  // submitted local slots, in order
  bool quit_ = false;
  int fail_next_ = 0;
  uint64_t batches_ = 0;
};

}  // namespace ct_test
