// The pipeline's seams a and d, end to end with real decode of the shared clips and null inference workers
// (null_worker.h) that report one fixed box per image:
//   a. frames that are not inferred (StreamConfig::infer_frame, the native hook for inference intervals) take no
//      batch image yet reach postprocessing in frame order with the stream's inferred frames; their results say
//      inferred = false, carry no detections, and the tracker predicts (the track of the box continues, same id);
//   d. a post-track stage (post_track_stage.h) of each stream is called once per delivered frame, in frame order,
//      with the inferred flag and the tracks, and what it attaches arrives on the frame's result.
// A stream that infers nothing at all (every frame passed through) ends like any other.
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
using camtrack::pipeline::FrameOutput;
using camtrack::pipeline::FrameResult;
using camtrack::pipeline::Pipeline;
using camtrack::pipeline::PostTrackFrame;
using camtrack::pipeline::PostTrackStage;
using camtrack::pipeline::StreamEvent;

constexpr int kInput = 160, kBatch = 4;

// A trivial stage: records each call (frame, inferred, tracks) and attaches the running count to the result.
class CountingStage : public PostTrackStage {
 public:
  struct Call {
    int64_t frame;
    bool inferred;
    size_t tracks;
  };
  CountingStage() { calls.reserve(1024); }  // no allocation per frame below this
  const char* name() const override { return "count"; }
  void OnFrame(const PostTrackFrame& f, FrameOutput& out) override {
    calls.push_back({f.frame_index, f.inferred, f.num_tracks});
    out.Add("frames", double(calls.size()));
  }
  std::vector<Call> calls;  // postprocess thread; read after Stop()
};

struct Got {
  int64_t frame;
  bool inferred;
  size_t detections, tracks;
  int64_t first_track_id;
  double annotation;  // the stage's "frames" value, -1 when absent
};

// Drains the pipeline on Notify() like the binding's delivery, keeping what each stream got.
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
  bool WaitEnds(size_t streams, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return ends_.size() >= streams; });
  }
  std::vector<Got> Results(int32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    return results_[h];
  }
  int Ends(int32_t h) {
    std::lock_guard<std::mutex> lock(mu_);
    return ends_.count(h) ? ends_[h] : 0;
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
      for (const FrameResult* r : results) {
        double annotation = -1;
        for (const auto& a : r->annotations)
          if (std::string(a.stage) == "count" && std::string(a.key) == "frames") annotation = a.value;
        results_[r->stream].push_back({r->frame_index, r->inferred, r->detections.size(), r->tracks.size(),
                                       r->tracks.empty() ? 0 : r->tracks[0].track_id, annotation});
      }
      for (const StreamEvent& e : events)
        if (e.kind == EventKind::kEnd) ++ends_[e.stream];
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
  bool pending_ = false, quit_ = false;
  std::map<int32_t, std::vector<Got>> results_;
  std::map<int32_t, int> ends_;
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

camtrack::pipeline::StreamConfig FileStream(const std::string& id, const std::string& path) {
  camtrack::pipeline::StreamConfig c;
  c.id = id;
  c.source.url = path;
  c.source.decoder_threads = 1;
  c.source.rtsp_transport = "tcp";
  c.source.open_timeout_ms = 10000;
  c.source.read_timeout_ms = 10000;
  c.source.live = camtrack::decode::LiveMode::kFile;
  c.source.input_formats = "mov,matroska,mpegts,avi,h264,hevc";
  c.live_config.tracking = true;
  c.live_config.tracker = ct_test::ReferenceTrackerConfig(camtrack::track::TrackerConfig::Kind::kByteTrack);
  // Detection options that keep every detection (no area bound: +infinity).
  c.live_config.detection.max_area_px = c.live_config.detection.max_area_fraction = INFINITY;
  c.decode = camtrack::pipeline::DecodeMode::kCpu;
  return c;
}

}  // namespace

CT_TEST(pipeline_seams_not_inferred_frames_and_post_track_stages_in_frame_order) {
  const std::string walking = ct_test::AssetPath("videos/walking.mp4");  // 341 frames
  const std::string cars = ct_test::AssetPath("videos/car-detection.mp4");  // 377 frames
  const std::string demo = ct_test::AssetPath("videos/mmtracking-demo.mp4");  // 8 frames
  const auto model = NullModel();
  camtrack::pipeline::BatchingConfig batching;
  batching.max_wait_ms = 5;
  batching.result_capacity = 16;
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
  std::vector<std::shared_ptr<ct_test::NullWorker>> workers;
  for (int w = 0; w < 2; ++w) {
    auto worker = std::make_shared<ct_test::NullWorker>(
        "box" + std::to_string(w), size_t(kBatch) * 3 * kInput * kInput, size_t(kBatch) * model.output_elems_per_image,
        2, one_box, model.output_elems_per_image);
    worker->Start(pipeline.get(), pipeline->AddWorker(worker));
    workers.push_back(std::move(worker));
  }

  struct Case {
    const char* id;
    std::string path;
    uint64_t frames;
    std::function<bool(int64_t)> infer;  // null: every frame
    std::shared_ptr<CountingStage> stage;
    int32_t handle = -1;
  };
  std::vector<Case> cases;
  cases.push_back({"every-third", walking, 341, [](int64_t i) { return i % 3 == 0; }, nullptr});
  cases.push_back({"all", cars, 377, nullptr, nullptr});
  cases.push_back({"none", demo, 8, [](int64_t) { return false; }, nullptr});
  for (Case& c : cases) {
    c.stage = std::make_shared<CountingStage>();
    auto cfg = FileStream(c.id, c.path);
    cfg.infer_frame = c.infer;
    cfg.post_track_stages = {c.stage};
    c.handle = pipeline->AddStream(std::move(cfg));
  }
  CT_EXPECT(collector.WaitEnds(cases.size(), std::chrono::seconds(120)));
  std::vector<camtrack::pipeline::StreamStatsSnapshot> stats;
  for (const Case& c : cases) stats.push_back(*pipeline->StreamStats(c.handle));
  pipeline->Stop();
  for (auto& w : workers) w->Join();
  collector.Join();

  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    const auto got = collector.Results(c.handle);
    const auto& st = stats[k];
    const auto inferred = [&](int64_t i) { return !c.infer || c.infer(i); };
    CT_EXPECT(collector.Ends(c.handle) == 1);
    // A file loses nothing: every decoded frame is delivered, inferred or not.
    CT_EXPECT(st.decoded == c.frames && st.delivered == c.frames && st.submitted == c.frames);
    CT_EXPECT(got.size() == c.frames);
    CT_EXPECT(c.stage->calls.size() == got.size());
    int64_t track_id = 0;
    for (size_t i = 0; i < got.size() && i < c.stage->calls.size(); ++i) {
      const Got& g = got[i];
      CT_EXPECT(g.frame == int64_t(i));  // frame order, none missing
      CT_EXPECT(g.inferred == inferred(g.frame));
      CT_EXPECT(g.detections == (g.inferred ? 1u : 0u));
      // The stage saw this very frame, in this position, and its output is on the result.
      CT_EXPECT(c.stage->calls[i].frame == g.frame && c.stage->calls[i].inferred == g.inferred);
      CT_EXPECT(c.stage->calls[i].tracks == g.tracks);
      CT_EXPECT(g.annotation == double(i + 1));
      if (!c.infer || c.infer(0)) {
        // A static box: one track from the first frame on, the same id on every frame, inferred or predicted.
        CT_EXPECT(g.tracks == 1);
        if (track_id == 0) track_id = g.first_track_id;
        CT_EXPECT(g.first_track_id == track_id);
      } else {
        CT_EXPECT(g.tracks == 0);  // nothing was ever detected
      }
    }
  }
}
