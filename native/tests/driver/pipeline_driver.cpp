// camtrack_pipeline_driver: the whole native pipeline with real threads and real decode of the shared clips, and
// null inference workers, so that ThreadSanitizer and AddressSanitizer + UBSan (scripts/sanitize.sh) see every thread
// the pipeline runs: source threads (demux, decode, letterbox, commit), the dispatcher, the postprocess thread, two
// inference workers completing batches from their own threads (Pipeline::CompleteBatch, the path the JS bridge
// takes), and a consumer thread woken by EventSink::Notify() that drains and releases results as the binding's
// delivery does. It also runs in the ordinary developer build (build/camtrack_pipeline_driver).
//
// Scenario (constants below): the three shared clips, nine streams: walking read with live semantics (never
// blocks, drops when no batch position is free, cause busy), cars with an fps limit, the MPEG-4 demo clip as a plain
// file, again with libavcodec frame threads, and again looped and removed mid-way once it has gone round twice, a
// path that does not exist, and cars with only every 3rd frame inferred (file) and every 2nd (live semantics), the
// others passed through to postprocessing without inference; after the checks, walking looped and still decoding at
// Stop(). Checks, after every stream but the removed one has ended:
//   - each clip decoded exactly its known frame count, and every decoded frame is delivered or counted dropped with
//     a cause: decoded = delivered + dropped.busy + dropped.fpsLimit + dropped.inference + dropped.decoderPool; a
//     null worker never fails, so dropped.inference = 0; only the fps-limited stream drops for fpsLimit, only the
//     live one for busy;
//   - the consumer received exactly `delivered` results per stream, in strictly increasing frame order, each with
//     the clip's size and no detection, and `inferred` false exactly for the frames the stream passed through;
//   - the missing file ends 'failed' with no frame; every ended stream has exactly one 'end' event; the removed one
//     is gone from stats;
//   - then a looped walking stream is added and Stop() is called while it decodes and batches are in flight: no
//     batch is left in flight and the workers completed exactly the batches the pipeline processed.
// Prints one line per check and `camtrack_pipeline_driver: N passed, N failed`; exits 1 on any failure, 2 when the
// shared assets are missing ($CAMTRACK_ASSETS or <ancestor>/shared/assets).
//
// Usage: camtrack_pipeline_driver [--help]   (env CAMTRACK_ASSETS; CAMTRACK_DRIVER_TIMEOUT_S, default 180)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/pipeline/pipeline.h"
#include "../null_worker.h"
#include "../test_assets.h"
#include "../tracker_reference.h"

namespace {

using ct_test::NullWorker;
using camtrack::pipeline::EventKind;
using camtrack::pipeline::FrameResult;
using camtrack::pipeline::Pipeline;
using camtrack::pipeline::StreamEvent;
using camtrack::pipeline::StreamStatsSnapshot;

// Ground truth of the shared clips (ffprobe -count_frames): decoded frames, width, height.
struct Clip {
  const char* file;
  uint64_t frames;
  int width, height;
};
constexpr Clip kWalking{"videos/walking.mp4", 341, 1280, 720};        // H.264 25 fps
constexpr Clip kCars{"videos/car-detection.mp4", 377, 768, 432};      // H.264 12.5 fps
constexpr Clip kDemo{"videos/mmtracking-demo.mp4", 8, 1920, 1080};    // MPEG-4 part 2, 3 fps
constexpr double kCarsFpsLimit = 5;  // cars is 12.5 fps: about 60 % of its frames dropped (cause fpsLimit)

// A small model input keeps letterboxing (instrumented) cheap; the pipeline's logic does not depend on the size.
constexpr int kInput = 160, kBatch = 4, kWorkers = 2, kSlotsPerWorker = 2;
constexpr int kFrameThreads = 2;  // libavcodec threads of the one stream that decodes with frame threads

int g_passed = 0, g_failed = 0;
void Check(bool ok, const std::string& what) {
  std::printf("%s  %s\n", ok ? "ok  " : "FAIL", what.c_str());
  ++(ok ? g_passed : g_failed);
}

// What the consumer saw of one stream.
struct Seen {
  uint64_t results = 0;
  int64_t last_index = -1;
  bool order_ok = true, size_ok = true;
  std::string first_disorder;  // "frame 12 after 15", the first result out of frame order
  int width = 0, height = 0;  // expected frame size (0: not checked)
  std::function<bool(int64_t)> infer;  // the stream's infer_frame (null: every frame inferred)
  bool inferred_ok = true;    // every result's `inferred` is what infer says of its frame
  uint64_t not_inferred = 0;  // results passed through without inference
  int ends = 0;
  std::string end_state;
};

// The binding's delivery, in C++: Notify() (from pipeline threads, cheap, non-blocking) wakes one consumer thread
// that drains results and events and hands the results back.
class Consumer : public camtrack::pipeline::EventSink {
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
  void Expect(int32_t handle, int width, int height, std::function<bool(int64_t)> infer) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_[handle].width = width;
    seen_[handle].height = height;
    seen_[handle].infer = std::move(infer);
  }
  Seen Get(int32_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_[handle];
  }
  // Waits until pred(seen) holds or the deadline passes; false on timeout.
  template <typename Pred>
  bool WaitFor(std::chrono::steady_clock::time_point deadline, Pred pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_cv_.wait_until(lock, deadline, [&] { return pred(seen_); });
  }

 private:
  void Loop() {
    std::vector<FrameResult*> results;
    std::vector<StreamEvent> events;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      // A timed wait as well: a lost wake-up would show as a slow run, and the drain at quit catches the rest.
      cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return pending_ || quit_; });
      const bool quit = quit_;
      pending_ = false;
      lock.unlock();
      results.clear();
      events.clear();
      pipeline_->DrainEvents(results, events);
      lock.lock();
      for (const FrameResult* r : results) {
        Seen& s = seen_[r->stream];
        ++s.results;
        if (r->frame_index <= s.last_index && s.order_ok) {
          s.order_ok = false;
          s.first_disorder = "frame " + std::to_string(r->frame_index) + " after " + std::to_string(s.last_index);
        }
        s.last_index = r->frame_index;
        if (s.width && (r->width != s.width || r->height != s.height)) s.size_ok = false;
        if (!r->detections.empty()) s.size_ok = false;  // an all-zero output has no detection
        if (r->inferred != (!s.infer || s.infer(r->frame_index))) s.inferred_ok = false;
        if (!r->inferred) ++s.not_inferred;
      }
      for (const StreamEvent& e : events) {
        if (e.kind != EventKind::kEnd) continue;
        Seen& s = seen_[e.stream];
        ++s.ends;
        s.end_state = e.state ? camtrack::pipeline::StreamStateName(*e.state) : "";
      }
      lock.unlock();
      pipeline_->ReleaseResults(results);
      lock.lock();
      changed_cv_.notify_all();
      if (quit) return;
    }
  }

  Pipeline* pipeline_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_, changed_cv_;
  bool pending_ = false, quit_ = false;
  std::map<int32_t, Seen> seen_;
};

camtrack::pipeline::StreamConfig FileStream(const std::string& id, const std::string& path, bool loop,
                                            double fps_limit = 0, int decoder_threads = 1) {
  camtrack::pipeline::StreamConfig c;
  c.id = id;
  c.source.url = path;
  c.source.loop = loop;
  c.source.decoder_threads = decoder_threads;
  c.source.rtsp_transport = "tcp";
  c.source.open_timeout_ms = 10000;
  c.source.read_timeout_ms = 10000;
  c.source.live = camtrack::decode::LiveMode::kFile;
  c.source.input_formats = "mov,matroska,mpegts,avi,h264,hevc";
  c.live_config.tracking = true;
  c.live_config.tracker = ct_test::ReferenceTrackerConfig(camtrack::track::TrackerConfig::Kind::kByteTrack);
  c.live_config.fps_limit = fps_limit;
  // Detection options that keep every detection (no area bound: +infinity).
  c.live_config.detection.max_area_px = c.live_config.detection.max_area_fraction = INFINITY;
  c.decode = camtrack::pipeline::DecodeMode::kCpu;
  return c;
}

// A file read with live semantics (never blocks: a frame that finds no free batch position is dropped, cause busy)
// that ends at EOF instead of reconnecting.
camtrack::pipeline::StreamConfig LiveStream(const std::string& id, const std::string& path) {
  camtrack::pipeline::StreamConfig c = FileStream(id, path, false);
  c.source.live = camtrack::decode::LiveMode::kLive;
  c.reconnect.max_attempts = 0;
  c.reconnect.stall_timeout_ms = 0;
  return c;
}

std::optional<StreamStatsSnapshot> Find(const Pipeline& p, int32_t handle) { return p.StreamStats(handle); }

std::string Counts(const StreamStatsSnapshot& s) {
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "decoded %llu, delivered %llu, dropped busy %llu fpsLimit %llu inference %llu decoderPool %llu",
                (unsigned long long)s.decoded, (unsigned long long)s.delivered, (unsigned long long)s.dropped_busy,
                (unsigned long long)s.dropped_fps_limit, (unsigned long long)s.dropped_inference,
                (unsigned long long)s.dropped_decoder_pool);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    const bool help = std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0;
    std::fprintf(help ? stdout : stderr,
                 "usage: camtrack_pipeline_driver [--help]\n"
                 "Runs the native pipeline (real decode of the shared clips, null inference workers, a consumer\n"
                 "thread) and checks frame accounting, frame order, pass-through frames and shutdown; prints one\n"
                 "line per check and exits 0 when all pass, 1 on a failure, 2 without the shared assets.\n"
                 "Environment: CAMTRACK_ASSETS (default <ancestor>/shared/assets), CAMTRACK_DRIVER_TIMEOUT_S\n"
                 "(default 180). Under sanitizers: scripts/sanitize.sh [tsan|asan|all].\n");
    return help ? 0 : 64;  // EX_USAGE
  }
  const std::string assets = ct_test::AssetsDir();
  if (assets.empty()) {
    std::fprintf(stderr, "camtrack_pipeline_driver: shared assets not found (set CAMTRACK_ASSETS)\n");
    return 2;
  }
  const char* timeout_env = std::getenv("CAMTRACK_DRIVER_TIMEOUT_S");
  const int timeout_s = timeout_env && *timeout_env ? std::atoi(timeout_env) : 180;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  const auto started = std::chrono::steady_clock::now();

  camtrack::pipeline::ModelConfig model;
  model.input.width = model.input.height = kInput;
  model.parser.layout = camtrack::postprocess::OutputLayout::kUltralytics;
  model.parser.input_width = model.parser.input_height = kInput;
  model.parser.num_classes = 80;
  model.parser.score_threshold = 0.25f;  // the schema's defaults (ParserConfig holds none)
  model.parser.nms_iou = 0.45f;
  model.parser.max_detections = 300;
  model.parser.num_anchors = (kInput / 8) * (kInput / 8) + (kInput / 16) * (kInput / 16) + (kInput / 32) * (kInput / 32);
  model.batch_size = kBatch;
  model.fixed_batch = true;
  model.output_elems_per_image = camtrack::postprocess::OutputElementsPerImage(model.parser);
  camtrack::pipeline::BatchingConfig batching;
  batching.max_wait_ms = 5;
  batching.result_capacity = 16;  // small: the postprocess thread waits for the consumer now and then

  Consumer consumer;
  camtrack::pipeline::IngestConfig ingest;  // unpaced reconnects (none happen: every stream is a file), device 0
  auto pipeline = std::make_unique<Pipeline>(model, batching, &consumer, ingest);
  consumer.Start(pipeline.get());
  std::vector<std::shared_ptr<NullWorker>> workers;
  for (int w = 0; w < kWorkers; ++w) {
    auto worker = std::make_shared<NullWorker>("null" + std::to_string(w), size_t(kBatch) * 3 * kInput * kInput,
                                               size_t(kBatch) * model.output_elems_per_image, kSlotsPerWorker);
    worker->Start(pipeline.get(), pipeline->AddWorker(worker));
    workers.push_back(std::move(worker));
  }

  const auto path = [&](const Clip& c) { return assets + "/" + c.file; };
  enum class Drops { kNone, kBusy, kFpsLimit };  // the drop cause a stream must show (and no other)
  struct Ended {
    int32_t handle;
    const Clip* clip;  // null: the missing file
    Drops drops;
  };
  std::vector<Ended> ended;
  const auto add = [&](camtrack::pipeline::StreamConfig c, const Clip* clip) {
    auto infer = c.infer_frame;
    const int32_t h = pipeline->AddStream(std::move(c));
    if (clip) consumer.Expect(h, clip->width, clip->height, std::move(infer));
    return h;
  };
  ended.push_back({add(LiveStream("walking-live", path(kWalking)), &kWalking), &kWalking, Drops::kBusy});
  const int32_t cars = add(FileStream("cars-5fps", path(kCars), false, kCarsFpsLimit), &kCars);
  ended.push_back({cars, &kCars, Drops::kFpsLimit});
  ended.push_back({add(FileStream("demo", path(kDemo), false), &kDemo), &kDemo, Drops::kNone});
  // libavcodec's own frame threads on one short stream: enough for TSan to see FFmpeg's thread hand-offs (see
  // native/tests/tsan.supp); every suppressed report costs a symbolisation, seconds each on a busy machine.
  ended.push_back(
      {add(FileStream("demo-threads", path(kDemo), false, 0, kFrameThreads), &kDemo), &kDemo, Drops::kNone});
  ended.push_back({add(FileStream("missing", assets + "/videos/no-such-clip.mp4", false), nullptr), nullptr,
                   Drops::kNone});
  // Frames passed through without inference (seam a: StreamConfig::infer_frame), from a file (every one delivered,
  // in frame order with the inferred ones) and from a live stream (which drops when the pass-through queue or the
  // batch is full, cause busy).
  {
    auto c = FileStream("cars-every-3rd", path(kCars), false);
    c.infer_frame = [](int64_t i) { return i % 3 == 0; };
    ended.push_back({add(std::move(c), &kCars), &kCars, Drops::kNone});
    auto l = LiveStream("cars-live-every-2nd", path(kCars));
    l.infer_frame = [](int64_t i) { return i % 2 == 0; };
    ended.push_back({add(std::move(l), &kCars), &kCars, Drops::kBusy});
  }
  const int32_t looped = add(FileStream("demo-loop", path(kDemo), true), &kDemo);

  // Live reconfiguration from another thread while the streams run (as the JS thread's configureStream does): the
  // fps-limited stream switches fps limit, tracker kind and detection options every few ms, the looped one its
  // tracker kind and detection options (an fps limit would drop frames it must deliver).
  std::atomic<bool> reconfigure{true};
  std::atomic<int> reconfigured{0}, reconfigure_errors{0};
  std::thread reconfigurer([&] {
    for (int i = 0; reconfigure.load(); ++i) {
      for (const int32_t h : {cars, looped}) {
        camtrack::pipeline::LiveConfig live = FileStream("", "", false, h == cars ? kCarsFpsLimit + i % 3 : 0).live_config;
        live.tracker.kind = i % 2 ? camtrack::track::TrackerConfig::Kind::kSort : camtrack::track::TrackerConfig::Kind::kByteTrack;
        live.tracking = i % 5 != 4;
        live.detection.score_threshold = float(i % 10) / 10.f;
        live.detection.exclude = {{{0, 0}, {100, 0}, {100, 100}}};
        try {
          pipeline->ConfigureStream(h, live);
          reconfigured.fetch_add(1);
        } catch (const std::exception& e) {
          if (reconfigure_errors.fetch_add(1) == 0) std::fprintf(stderr, "ConfigureStream: %s\n", e.what());
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });

  // The looped stream is removed once it has delivered its clip more than twice over (it went round).
  const bool looped_round = consumer.WaitFor(deadline, [&](std::map<int32_t, Seen>& seen) {
    return seen[looped].results > 2 * kDemo.frames;
  });
  const Seen loop_seen = consumer.Get(looped);
  Check(looped_round, "demo-loop delivered " + std::to_string(loop_seen.results) + " > " +
                          std::to_string(2 * kDemo.frames) + " frames (looped) before its removal");
  Check(loop_seen.order_ok && loop_seen.size_ok, "demo-loop: results in frame order, clip-sized, no detections");
  reconfigure.store(false);
  reconfigurer.join();
  pipeline->RemoveStream(looped);
  Check(reconfigured.load() > 0 && reconfigure_errors.load() == 0,
        "ConfigureStream while running: " + std::to_string(reconfigured.load()) + " changes, " +
            std::to_string(reconfigure_errors.load()) + " errors");
  pipeline->RemoveStream(looped);  // idempotent
  bool not_running = false;
  try {
    pipeline->ConfigureStream(looped, FileStream("", "", false).live_config);
  } catch (const camtrack::Error& e) {
    not_running = e.code() == camtrack::ErrorCode::kInvalidState;
  }
  Check(not_running, "ConfigureStream of a removed stream: ERR_CAMTRACK_INVALID_STATE");

  const bool all_ended = consumer.WaitFor(deadline, [&](std::map<int32_t, Seen>& seen) {
    for (const Ended& e : ended)
      if (seen[e.handle].ends == 0) return false;
    return true;
  });
  Check(all_ended, "every file stream ended within " + std::to_string(timeout_s) + " s");
  Check(!Find(*pipeline, looped).has_value(), "demo-loop: gone from stats after RemoveStream");

  for (const Ended& e : ended) {
    const Seen seen = consumer.Get(e.handle);
    const std::optional<StreamStatsSnapshot> s = Find(*pipeline, e.handle);
    if (!s) {
      Check(false, "stats of stream " + std::to_string(e.handle));
      continue;
    }
    const std::string name = s->id + ": ";
    Check(seen.ends == 1, name + "one 'end' event (got " + std::to_string(seen.ends) + ", state " + seen.end_state + ")");
    if (!e.clip) {
      Check(seen.end_state == "failed" && s->decoded == 0 && seen.results == 0,
            name + "ends 'failed' with no frame (" + s->last_error_reason + ": " + s->last_error + ")");
      continue;
    }
    Check(seen.end_state == "ended", name + "final state 'ended' (got '" + seen.end_state + "')");
    Check(s->decoded == e.clip->frames,
          name + "decoded " + std::to_string(s->decoded) + " of " + std::to_string(e.clip->frames) + " frames");
    const uint64_t accounted =
        s->delivered + s->dropped_busy + s->dropped_fps_limit + s->dropped_inference + s->dropped_decoder_pool;
    Check(accounted == s->decoded, name + "every decoded frame delivered or dropped with a cause (" + Counts(*s) + ")");
    Check(s->dropped_inference == 0 && s->dropped_decoder_pool == 0,
          name + "no inference/decoderPool drops (a null worker never fails; CPU decode)");
    Check(e.drops == Drops::kFpsLimit ? s->dropped_fps_limit > 0 : s->dropped_fps_limit == 0,
          name + (e.drops == Drops::kFpsLimit ? "fpsLimit dropped frames" : "no fpsLimit drops"));
    if (e.drops != Drops::kBusy) Check(s->dropped_busy == 0, name + "no busy drops (a file blocks instead)");
    Check(s->delivered > 0, name + "delivered frames");
    Check(seen.results == s->delivered, name + "consumer received " + std::to_string(seen.results) + " = delivered " +
                                            std::to_string(s->delivered));
    Check(seen.order_ok, name + "results in strictly increasing frame order" +
                             (seen.order_ok ? "" : " (" + seen.first_disorder + ")"));
    Check(seen.size_ok, name + "results clip-sized, with no detection");
    Check(seen.inferred_ok, name + "each result's `inferred` as infer_frame said (" +
                                std::to_string(seen.not_inferred) + " not inferred)");
    if (seen.infer) Check(seen.not_inferred > 0, name + "frames were passed through without inference");
  }

  // Stop() with a stream still decoding and batches in flight: a looped clip added last, stopped once it delivers.
  const int32_t running = add(FileStream("walking-loop", path(kWalking), true), &kWalking);
  const bool running_ok = consumer.WaitFor(deadline, [&](std::map<int32_t, Seen>& seen) {
    return seen[running].results >= 2 * kBatch;
  });
  const Seen running_seen = consumer.Get(running);
  Check(running_ok && running_seen.order_ok && running_seen.size_ok,
        "walking-loop running at Stop(), in frame order (" + std::to_string(running_seen.results) + " results)");

  // Shutdown in the binding's order: stop the pipeline (a stream still running) → workers → delivery.
  pipeline->Stop();
  const auto after = pipeline->Stats();
  Check(after.in_flight == 0, "Stop() left no batch in flight (" + std::to_string(after.in_flight) + ")");
  uint64_t batches = 0;
  for (auto& w : workers) {
    w->Join();
    batches += w->batches();
  }
  consumer.Join();
  Check(batches == after.batches, "workers completed " + std::to_string(batches) + " batches = pipeline's " +
                                      std::to_string(after.batches));
  pipeline.reset();
  workers.clear();

  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("camtrack_pipeline_driver: %d passed, %d failed (%.1f s)\n", g_passed, g_failed, secs);
  return g_failed == 0 ? 0 : 1;
}
