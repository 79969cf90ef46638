// batch::Batcher and its move-only SlotLease, without a pipeline: a lease dropped without Commit() (an exception
// while letterboxing) commits an empty image, so its batch still dispatches; a moved lease commits once; batches reach
// the postprocess side in the order they opened; a cancelled stream gets no position; completions of unknown workers
// or slots are reported as such.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <vector>

#include "core/batch/batcher.h"
#include "test_main.h"

namespace {

using camtrack::batch::Batcher;
using camtrack::batch::BatcherConfig;
using camtrack::batch::Contender;
using camtrack::batch::Slot;
using camtrack::batch::SlotLease;

constexpr size_t kInputPerImage = 3 * 4 * 4, kOutputPerImage = 10;

// Two slots; records what is submitted and never completes on its own.
class RecordingWorker : public camtrack::infer::InferenceWorker {
 public:
  explicit RecordingWorker(int batch) : in_(2, std::vector<float>(kInputPerImage * batch)),
                                        out_(2, std::vector<float>(kOutputPerImage * batch)) {
    for (int i = 0; i < 2; ++i)
      slots_.push_back({in_[i].data(), in_[i].size(), out_[i].data(), out_[i].size()});
  }
  const std::vector<camtrack::infer::BatchBuffers>& slots() const override { return slots_; }
  bool Submit(int local_slot, int images) override {
    submitted.push_back({local_slot, images});
    return true;
  }
  std::string name() const override { return "recording"; }
  std::vector<std::pair<int, int>> submitted;  // (slot, images)

 private:
  std::vector<std::vector<float>> in_, out_;
  std::vector<camtrack::infer::BatchBuffers> slots_;
};

BatcherConfig Config(int batch) {
  BatcherConfig c;
  c.batch_size = batch;
  c.fixed_batch = true;
  c.input_elems_per_image = kInputPerImage;
  c.output_elems_per_image = kOutputPerImage;
  c.max_wait_ms = 60'000;  // only full batches dispatch in these tests
  return c;
}

}  // namespace

CT_TEST(batcher_a_lease_dropped_without_commit_commits_an_empty_image) {
  Batcher b(Config(2));
  auto w = std::make_shared<RecordingWorker>(2);
  CT_EXPECT(b.AddWorker(w) == 0);
  Contender stream;
  b.Join(stream);
  try {
    SlotLease first = b.Acquire(true, stream);
    CT_EXPECT(bool(first));
    CT_EXPECT(first.input() != nullptr);
    SlotLease second = b.Acquire(true, stream);
    CT_EXPECT(second.input() == first.input() + kInputPerImage);  // image 1 of the same slot
    second.meta().frame.frame_index = 7;
    second.Commit();
    CT_EXPECT(!second);
    CT_EXPECT(w->submitted.empty());  // `first` is still being written
    throw std::runtime_error("letterbox failed");
  } catch (const std::runtime_error&) {
  }
  // `first` was dropped by the exception: committed empty, and the batch went out with both images.
  CT_EXPECT(w->submitted.size() == 1 && w->submitted[0].second == 2);
  CT_EXPECT(b.CompleteBatch(0, w->submitted[0].first, true, "") == Batcher::Completion::kCompleted);
  Slot* slot = nullptr;
  std::atomic<bool> wake{false};
  CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kBatch);
  CT_EXPECT(slot->committed == 2 && slot->ok);
  CT_EXPECT(slot->images[0].empty && !slot->images[1].empty && slot->images[1].frame.frame_index == 7);
  b.Release(*slot);
  b.Leave(stream);
  b.Close();
}

CT_TEST(batcher_a_moved_lease_commits_once_and_batches_come_out_in_open_order) {
  Batcher b(Config(1));
  auto w = std::make_shared<RecordingWorker>(1);
  b.AddWorker(w);
  Contender stream;
  b.Join(stream);
  SlotLease a = b.Acquire(true, stream);
  SlotLease moved = std::move(a);
  CT_EXPECT(!a && bool(moved));
  moved.meta().frame.frame_index = 1;
  SlotLease c = b.Acquire(true, stream);  // the second slot: batch size 1
  c.meta().frame.frame_index = 2;
  c.Commit();      // opened second, dispatched first
  moved.Commit();  // opened first
  CT_EXPECT(w->submitted.size() == 2);
  // Completed in dispatch order; handed out in open order.
  CT_EXPECT(b.CompleteBatch(0, w->submitted[0].first, true, "") == Batcher::Completion::kCompleted);
  CT_EXPECT(b.CompleteBatch(0, w->submitted[1].first, false, "boom") == Batcher::Completion::kCompleted);
  CT_EXPECT(b.CompleteBatch(0, w->submitted[1].first, true, "") == Batcher::Completion::kIgnored);  // not in flight
  std::atomic<bool> wake{false};
  Slot* slot = nullptr;
  CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kBatch);
  CT_EXPECT(slot->images[0].frame.frame_index == 1 && !slot->ok && slot->error == "boom");
  b.Release(*slot);
  CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kBatch);
  CT_EXPECT(slot->images[0].frame.frame_index == 2 && slot->ok);
  b.Release(*slot);
  b.Leave(stream);
  b.Close();
  CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kClosed);
}

CT_TEST(batcher_cancelled_streams_and_unknown_completions) {
  Batcher b(Config(2));
  auto w = std::make_shared<RecordingWorker>(2);
  b.AddWorker(w);
  Contender stream;
  b.Join(stream);
  b.Cancel(stream);
  CT_EXPECT(!b.Acquire(true, stream));  // returns at once, without a position
  CT_EXPECT(b.CompleteBatch(1, 0, true, "") == Batcher::Completion::kUnknown);   // no worker 1
  CT_EXPECT(b.CompleteBatch(0, 2, true, "") == Batcher::Completion::kUnknown);   // worker 0 has slots 0 and 1
  CT_EXPECT(b.CompleteBatch(0, -1, true, "") == Batcher::Completion::kUnknown);
  CT_EXPECT(b.CompleteBatch(0, 1, true, "") == Batcher::Completion::kIgnored);   // known, not in flight
  std::atomic<bool> wake{true};
  Slot* slot = nullptr;
  CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kWoken);
  b.Leave(stream);
  b.Close();
}
