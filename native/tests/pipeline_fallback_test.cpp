// The circuit breaker's fallback pool (inference.breaker.fallback; docs/scheduling.md "Circuit breaker"), end to end
// with real decode of walking.mp4 (341 frames, read as a file: nothing may be lost to back-pressure) and null inference
// workers (null_worker.h) that report one fixed box per image:
//   - the primary worker fails its first batches: the breaker opens, the frames it refuses are inferred by the
//     fallback worker (their results say so and carry the box), none is dropped with cause breaker, every frame is
//     delivered or counted, in frame order across the two pools; the primary's probe closes the breaker;
//   - the fallback fails too: its frames are dropped with cause breaker (counted after submission), no loop;
//   - fallback configured but no fallback worker attached: refused frames are dropped with cause breaker at once.
#include <cstdio>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/pipeline.h"
#include "null_worker.h"
#include "test_assets.h"
#include "test_main.h"
#include "tracker_reference.h"

namespace {

using camtrack::pipeline::EventKind;
using camtrack::pipeline::FrameResult;
using camtrack::pipeline::Pipeline;
using camtrack::pipeline::StreamEvent;

constexpr int kInput = 160, kBatch = 2;
constexpr uint64_t kWalkingFrames = 341;

struct Got {
  int64_t frame;
  bool fallback;
  size_t detections;
};

// Drains the pipeline on Notify() like the binding's delivery.
class Collector : public camtrack::pipeline::EventSink {
 public:
  void Notify() override {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = true;
    cv_.notify_one();
  }
  void Start(Pipeline* p) {
    pipeline_ = p;
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
  bool WaitEnd(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return ended_; });
  }
  std::vector<Got> results() {
    std::lock_guard<std::mutex> lock(mu_);
    return results_;
  }
  std::vector<std::string> breaker_events() {
    std::lock_guard<std::mutex> lock(mu_);
    return breaker_;
  }

 private:
  void Loop() {
    std::vector<FrameResult*> results;
    std::vector<StreamEvent> events;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return pending_ || quit_; });
      const bool quit = quit_;
      pending_ = false;
      lock.unlock();
      results.clear();
      events.clear();
      pipeline_->DrainEvents(results, events);
      lock.lock();
      for (const FrameResult* r : results) results_.push_back({r->frame_index, r->fallback, r->detections.size()});
      for (const StreamEvent& e : events) {
        if (e.kind == EventKind::kEnd) ended_ = true;
        if (e.kind == EventKind::kBreaker) breaker_.push_back(std::string(e.breaker_from) + ">" + e.breaker_to + ":" + e.reason);
      }
      lock.unlock();
      pipeline_->ReleaseResults(results);
      lock.lock();
      changed_.notify_all();
      if (quit) return;
    }
  }
  Pipeline* pipeline_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_, changed_;
  bool pending_ = false, quit_ = false, ended_ = false;
  std::vector<Got> results_;
  std::vector<std::string> breaker_;
};

camtrack::pipeline::ModelConfig NullModel() {
  camtrack::pipeline::ModelConfig model;
  model.input.width = model.input.height = kInput;
  model.parser.layout = camtrack::postprocess::OutputLayout::kUltralytics;
  model.parser.input_width = model.parser.input_height = kInput;
  model.parser.num_classes = 80;
  model.parser.score_threshold = 0.25f;
  model.parser.nms_iou = 0.45f;
  model.parser.max_detections = 300;
  model.parser.num_anchors = (kInput / 8) * (kInput / 8) + (kInput / 16) * (kInput / 16) + (kInput / 32) * (kInput / 32);
  model.batch_size = kBatch;
  model.fixed_batch = true;
  model.output_elems_per_image = camtrack::postprocess::OutputElementsPerImage(model.parser);
  return model;
}

camtrack::pipeline::StreamConfig FileStream(const std::string& path) {
  camtrack::pipeline::StreamConfig c;
  c.id = "walking";
  c.source.url = path;
  c.source.decoder_threads = 1;
  c.source.rtsp_transport = "tcp";
  c.source.open_timeout_ms = 10000;
  c.source.read_timeout_ms = 10000;
  c.source.live = camtrack::decode::LiveMode::kFile;
  c.source.input_formats = "mov,matroska,mpegts,avi,h264,hevc";
  c.live_config.tracking = true;
  c.live_config.tracker = ct_test::ReferenceTrackerConfig(camtrack::track::TrackerConfig::Kind::kByteTrack);
  c.live_config.detection.max_area_px = c.live_config.detection.max_area_fraction = INFINITY;
  c.decode = camtrack::pipeline::DecodeMode::kCpu;
  return c;
}

struct Run {
  std::vector<Got> got;
  std::vector<std::string> breaker;
  camtrack::pipeline::StreamStatsSnapshot stream;
  camtrack::pipeline::PipelineStatsSnapshot pipeline;
  bool ended = false;
};

// One run of walking.mp4 with a primary worker failing its first `primary_faults` batches and, when `fallback_worker`,
// a fallback worker failing its first `fallback_faults`.
Run RunWalking(int primary_faults, bool fallback_worker, int fallback_faults) {
  const auto model = NullModel();
  camtrack::pipeline::BatchingConfig batching;
  batching.max_wait_ms = 5;
  batching.result_capacity = 16;
  batching.breaker.consecutive_failures = 2;
  batching.breaker.cooldown_ms = 40;
  batching.breaker.probe_frames = 1;
  batching.breaker_fallback = true;
  Collector collector;
  auto pipeline = std::make_unique<Pipeline>(model, batching, &collector, camtrack::pipeline::IngestConfig{});
  collector.Start(pipeline.get());
  // One box per image: anchor 0 at the input's centre, 40 x 60, class 0, score 0.9 (ultralytics [4+nc, N]).
  const size_t n = size_t(model.parser.num_anchors);
  const auto one_box = [n](float* out, size_t) {
    out[0 * n] = 80;
    out[1 * n] = 80;
    out[2 * n] = 40;
    out[3 * n] = 60;
    out[4 * n] = 0.9f;
  };
  const auto make = [&](const char* name) {
    return std::make_shared<ct_test::NullWorker>(name, size_t(kBatch) * 3 * kInput * kInput,
                                                 size_t(kBatch) * model.output_elems_per_image, 2, one_box,
                                                 model.output_elems_per_image);
  };
  auto primary = make("primary");
  primary->FailNext(primary_faults);
  primary->Start(pipeline.get(), pipeline->AddWorker(primary));
  std::shared_ptr<ct_test::NullWorker> fallback;
  if (fallback_worker) {
    fallback = make("fallback");
    fallback->FailNext(fallback_faults);
    fallback->Start(pipeline.get(), pipeline->AddWorker(fallback, camtrack::batch::Pool::kFallback));
  }
  const int32_t h = pipeline->AddStream(FileStream(ct_test::AssetPath("videos/walking.mp4")));
  Run run;
  run.ended = collector.WaitEnd(std::chrono::seconds(120));
  run.stream = *pipeline->StreamStats(h);
  run.pipeline = pipeline->Stats();
  pipeline->Stop();
  primary->Join();
  if (fallback) fallback->Join();
  collector.Join();
  run.got = collector.results();
  run.breaker = collector.breaker_events();
  return run;
}

}  // namespace

CT_TEST(pipeline_fallback_infers_what_the_open_breaker_refuses_in_frame_order) {
  const Run r = RunWalking(/*primary_faults=*/6, /*fallback_worker=*/true, 0);
  CT_EXPECT(r.ended);
  const auto& st = r.stream;
  // A file loses nothing to the breaker: not one frame dropped with cause breaker.
  CT_EXPECT(st.submitted == kWalkingFrames);
  CT_EXPECT(st.dropped_breaker == 0 && r.pipeline.breaker_dropped == 0);
  CT_EXPECT(st.fallback_failed == 0);
  // Every submitted frame: a result, or lost with a failed primary batch before the breaker opened / a failed probe.
  CT_EXPECT(st.delivered + st.dropped_inference == kWalkingFrames);
  CT_EXPECT(st.dropped_inference >= 2 && st.dropped_inference <= 6 * uint64_t(kBatch));
  CT_EXPECT(r.got.size() == st.delivered);
  // The fallback inferred frames while the breaker was open; each says so and carries the box.
  uint64_t by_fallback = 0;
  int64_t last = -1;
  for (const Got& g : r.got) {
    if (!(g.frame > last)) std::fprintf(stderr, "ORDER frame %lld after %lld fallback %d\n", (long long)g.frame, (long long)last, int(g.fallback));
    CT_EXPECT(g.frame > last);  // frame order across the two pools
    last = g.frame;
    CT_EXPECT(g.detections == 1);
    if (g.fallback) ++by_fallback;
  }
  CT_EXPECT(by_fallback > 0);
  CT_EXPECT(by_fallback == st.fallback_frames && by_fallback == r.pipeline.fallback_frames);
  CT_EXPECT(r.pipeline.fallback_batches > 0 && r.pipeline.fallback_failed_batches == 0);
  // The primary's failures alone counted (the fallback's batches are not the primary's), and its probe closed it.
  CT_EXPECT(r.pipeline.failed_batches == 6);
  CT_EXPECT(std::string(r.pipeline.breaker_state) == "closed");
  CT_EXPECT(!r.breaker.empty() && r.breaker.front() == "closed>open:consecutive");
  CT_EXPECT(!r.breaker.empty() && r.breaker.back() == "half-open>closed:probe-ok");
  // After the close the primary infers again: the last frames are the primary's.
  CT_EXPECT(!r.got.empty() && !r.got.back().fallback);
}

CT_TEST(pipeline_fallback_that_fails_too_drops_with_cause_breaker) {
  const Run r = RunWalking(/*primary_faults=*/6, /*fallback_worker=*/true, /*fallback_faults=*/1000);
  CT_EXPECT(r.ended);
  const auto& st = r.stream;
  CT_EXPECT(st.submitted == kWalkingFrames);
  CT_EXPECT(st.fallback_failed > 0 && st.fallback_frames == 0);
  // Frames of failed fallback batches are dropped with cause breaker and counted, once each (no loop back).
  CT_EXPECT(st.dropped_breaker == st.fallback_failed && r.pipeline.breaker_dropped == st.fallback_failed);
  CT_EXPECT(st.delivered + st.dropped_inference + st.fallback_failed == kWalkingFrames);
  CT_EXPECT(r.pipeline.fallback_failed_batches == r.pipeline.fallback_batches && r.pipeline.fallback_batches > 0);
  CT_EXPECT(r.pipeline.failed_batches == 6);  // the fallback's failures never feed the breaker
  CT_EXPECT(std::string(r.pipeline.breaker_state) == "closed");
}

CT_TEST(pipeline_fallback_without_a_worker_drops_with_cause_breaker) {
  const Run r = RunWalking(/*primary_faults=*/6, /*fallback_worker=*/false, 0);
  CT_EXPECT(r.ended);
  const auto& st = r.stream;
  CT_EXPECT(st.dropped_breaker > 0 && st.fallback_failed == 0 && st.fallback_frames == 0);
  CT_EXPECT(st.submitted + st.dropped_breaker == kWalkingFrames);
  CT_EXPECT(st.delivered + st.dropped_inference == st.submitted);
  CT_EXPECT(r.pipeline.breaker_dropped == st.dropped_breaker);
}
