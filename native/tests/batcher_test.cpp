// batch::Batcher and its move-only SlotLease, without a pipeline: a lease dropped without Commit() (an exception
// while letterboxing) commits an empty image, so its batch still dispatches; a moved lease commits once; batches reach
// the postprocess side in the order they opened; a cancelled stream gets no position; completions of unknown workers
// or slots are reported as such; yields to a contender that is not waiting only while the worker is busy (or after a
// short grace while it is idle).
#include <atomic>
#include <chrono>
#include <string>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/batch/batcher.h"
#include "test_main.h"

namespace {

using camtrack::batch::Batcher;
using camtrack::batch::BatcherConfig;
using camtrack::batch::Contender;
using camtrack::batch::Pool;
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

// Completes the worker's oldest submitted batch and releases it on the postprocess side: one slot frees.
void FinishNext(Batcher& b, RecordingWorker& w) {
  CT_EXPECT(b.CompleteBatch(0, w.submitted.front().first, true, "") == Batcher::Completion::kCompleted);
  w.submitted.erase(w.submitted.begin());
  std::atomic<bool> wake{false};
  Slot* slot = nullptr;
  CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kBatch);
  b.Release(*slot);
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

// Priorities (Batcher::Acquire): with no free position a live high frame waits up to the starvation bound, then is
// dropped; a normal live frame yields a freed position to a contending high stream; a normal stream refused for
// longer than the bound, with no normal grant within it, ranks as high (a starvation promotion) and, having waited
// longer, takes the next position ahead of the high stream.
CT_TEST(batcher_priority_high_first_and_starvation_bound) {
  BatcherConfig c = Config(1);
  c.target_latency_ms = 50;  // the starvation bound (fixed batch: no controller)
  Batcher b(c);
  auto w = std::make_shared<RecordingWorker>(1);
  b.AddWorker(w);
  Contender filler, high, normal;
  b.SetPriority(high, true);
  for (Contender* s : {&filler, &high, &normal}) b.Join(*s);
  const auto finish_next = [&] { FinishNext(b, *w); };  // one position frees
  // Both slots in flight.
  for (int i = 0; i < 2; ++i) {
    SlotLease l = b.Acquire(false, filler);
    CT_EXPECT(bool(l));
    l.Commit();
  }
  CT_EXPECT(w->submitted.size() == 2);
  const auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  auto t0 = std::chrono::steady_clock::now();
  CT_EXPECT(!b.Acquire(false, high));  // waited for a position up to the bound, then dropped
  CT_EXPECT(ms_since(t0) >= 49);
  finish_next();  // one position free
  CT_EXPECT(!b.Acquire(false, normal));  // yields it to the contending high stream
  SlotLease h = b.Acquire(false, high);
  CT_EXPECT(bool(h));
  h.Commit();
  CT_EXPECT(b.batching_state().starvation_promotions == 0);
  CT_EXPECT(!b.Acquire(false, high));  // no position again: waits the bound (so `normal` has waited > 50 ms)
  finish_next();
  SlotLease n = b.Acquire(false, normal);  // promoted: same rank as high, and it waited longer since its last grant
  CT_EXPECT(bool(n));
  n.Commit();
  CT_EXPECT(b.batching_state().starvation_promotions == 1);
  CT_EXPECT(std::string(b.batching_state().mode) == "fixed-batch");
  CT_EXPECT(b.batching_state().cap == 1);
  b.Close();
}

// A frame's own priority (Acquire's high_frame: a pushed frame's `priority`, e.g. a gRPC request's) on a NORMAL
// stream: for that frame the stream ranks and waits as a high one — with no free position the live frame waits the
// bound before it is dropped, and while it waits a contending normal stream yields a freed position to it — and its
// next frame without the flag is a normal frame again (dropped at once).
CT_TEST(batcher_priority_of_one_frame_on_a_normal_stream) {
  BatcherConfig c = Config(1);
  c.target_latency_ms = 200;  // the starvation bound
  Batcher b(c);
  auto w = std::make_shared<RecordingWorker>(1);
  b.AddWorker(w);
  Contender filler, requester, normal;  // all normal streams
  for (Contender* s : {&filler, &requester, &normal}) b.Join(*s);
  const auto finish_next = [&] { FinishNext(b, *w); };
  for (int i = 0; i < 2; ++i) {
    SlotLease l = b.Acquire(false, filler);
    CT_EXPECT(bool(l));
    l.Commit();
  }
  const auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  auto t0 = std::chrono::steady_clock::now();
  CT_EXPECT(!b.Acquire(false, requester));  // a normal frame: dropped at once
  CT_EXPECT(ms_since(t0) < 150);
  t0 = std::chrono::steady_clock::now();
  CT_EXPECT(!b.Acquire(false, requester, Pool::kPrimary, nullptr, /*high_frame=*/true));  // a high frame: waited the bound, then dropped
  CT_EXPECT(ms_since(t0) >= 199);
  // A high frame waiting for a position; one frees; the normal stream asking then does not get it, the frame does.
  bool got = false;
  std::thread waiter([&] {
    SlotLease h = b.Acquire(false, requester, Pool::kPrimary, nullptr, /*high_frame=*/true);
    got = bool(h);
    if (h) h.Commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  finish_next();
  CT_EXPECT(!b.Acquire(false, normal));
  waiter.join();
  CT_EXPECT(got);
  CT_EXPECT(b.batching_state().starvation_promotions == 0);
  // The flag lasted one call: the requester's next frame is normal again (no wait for a position).
  t0 = std::chrono::steady_clock::now();
  CT_EXPECT(!b.Acquire(false, requester));
  CT_EXPECT(ms_since(t0) < 150);
  b.Close();
}

// Work-conserving yield: a live frame yields a free position to a contender that waited longer but is not waiting
// now (its last frame was dropped) only while every worker has a batch in flight; with the worker idle it waits the
// grace (10 ms) and then takes the position; and when that contender comes back during the grace, the contender
// gets it (the waiting frame is dropped).
CT_TEST(batcher_yields_to_an_absent_contender_only_while_the_workers_are_busy) {
  Batcher b(Config(1));
  auto w = std::make_shared<RecordingWorker>(1);
  b.AddWorker(w);
  Contender late, early, filler;  // `late` was served last; `early` never was
  for (Contender* s : {&late, &early, &filler}) b.Join(*s);
  std::atomic<bool> wake{false};
  const auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  const auto release_done = [&] {
    Slot* slot = nullptr;
    CT_EXPECT(b.WaitNext(&slot, wake) == Batcher::Next::kBatch);
    b.Release(*slot);
  };
  {
    SlotLease l = b.Acquire(false, late);
    CT_EXPECT(bool(l));
    l.Commit();
    SlotLease f = b.Acquire(false, filler);
    CT_EXPECT(bool(f));
    f.Commit();
  }
  CT_EXPECT(w->submitted.size() == 2);  // both slots in flight
  CT_EXPECT(!b.Acquire(false, early));  // no position: dropped, and `early` contends now
  // One batch completes and is released; the other is still in flight: `late` yields the free position to `early`.
  CT_EXPECT(b.CompleteBatch(0, w->submitted[0].first, true, "") == Batcher::Completion::kCompleted);
  release_done();
  CT_EXPECT(!b.Acquire(false, late));  // dropped (after a grace it would have taken the free position)
  // The other completes (not yet postprocessed): the worker is idle. `late` waits the grace, then takes the position.
  CT_EXPECT(b.CompleteBatch(0, w->submitted[1].first, true, "") == Batcher::Completion::kCompleted);
  const auto t0 = std::chrono::steady_clock::now();
  {
    SlotLease l = b.Acquire(false, late);
    CT_EXPECT(bool(l));
    CT_EXPECT(ms_since(t0) >= 9);
    l.Commit();
  }
  release_done();  // the second batch: one free slot again, the worker has `late`'s batch in flight
  CT_EXPECT(b.CompleteBatch(0, w->submitted[2].first, true, "") == Batcher::Completion::kCompleted);  // idle again
  // `late` waits its grace for `early`; `early` comes back meanwhile and takes the position; `late` is dropped. (Should
  // the thread start after `early` asked, the outcome is the same: `early` finds the position free.)
  bool late_got = true;
  std::thread waiter([&] {
    SlotLease l = b.Acquire(false, late);
    late_got = bool(l);
    if (l) l.Commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  {
    SlotLease e = b.Acquire(false, early);
    CT_EXPECT(bool(e));
    e.Commit();
  }
  waiter.join();
  CT_EXPECT(!late_got);
  CT_EXPECT(w->submitted.size() == 4);
  b.Close();
}

// A live frame with `newer` (a pushed stream's queue) waits for a position instead of being dropped at once: it gets
// one when a batch completes, or gives up (empty lease) as soon as a newer frame of its stream is there — woken by
// NewerFrame, not by a timeout. While high frames are about, a normal frame leaves one position free for the next
// high one.
CT_TEST(batcher_a_pushed_live_frame_waits_until_a_position_frees_or_a_newer_frame_comes) {
  Batcher b(Config(1));
  auto w = std::make_shared<RecordingWorker>(1);
  b.AddWorker(w);
  Contender filler, pushed, high;
  for (Contender* s : {&filler, &pushed, &high}) b.Join(*s);
  const auto finish_next = [&] { FinishNext(b, *w); };
  for (int i = 0; i < 2; ++i) {  // both slots in flight
    SlotLease l = b.Acquire(false, filler);
    CT_EXPECT(bool(l));
    l.Commit();
  }
  std::atomic<uint64_t> queued{0};
  // 1. A batch completes while the frame waits: it gets the freed position.
  std::atomic<int> got{-1};
  std::thread waiter([&] {
    SlotLease l = b.Acquire(false, pushed, Pool::kPrimary, nullptr, false, &queued);
    got = l ? 1 : 0;
    if (l) l.Commit();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // far longer than any bound: still waiting
  CT_EXPECT(got.load() == -1);
  finish_next();
  waiter.join();
  CT_EXPECT(got.load() == 1);
  // 2. A newer frame is pushed while it waits: it gives up at once (superseded).
  got = -1;
  const auto t0 = std::chrono::steady_clock::now();
  std::thread superseded([&] {
    SlotLease l = b.Acquire(false, pushed, Pool::kPrimary, nullptr, false, &queued);
    got = l ? 1 : 0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CT_EXPECT(got.load() == -1);
  queued = 1;
  b.NewerFrame(pushed);
  superseded.join();
  CT_EXPECT(got.load() == 0);
  CT_EXPECT((std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() < 1000));
  // 3. Already a newer frame queued and no position: it does not wait at all.
  CT_EXPECT(!b.Acquire(false, pushed, Pool::kPrimary, nullptr, false, &queued));
  // 4. High frames about: with one position free, a normal frame leaves it for the next high one.
  b.SetPriority(high, true);
  finish_next();  // one slot free
  {
    SlotLease h = b.Acquire(false, high);  // a high frame asks (and takes the free position)
    CT_EXPECT(bool(h));
    h.Commit();
  }
  finish_next();  // one slot free again
  CT_EXPECT(!b.Acquire(false, filler));  // a normal live frame without `newer`: yields the last free position
  SlotLease h = b.Acquire(false, high);  // the high one finds it
  CT_EXPECT(bool(h));
  h.Commit();
  b.Close();
}
