// camtrack_bench_tracker_bench: cost of one Tracker::Update (ByteTrack, SORT, IoU) for 10, 50 and 200 objects per
// frame, on one core (the tracker is single-threaded by design: one instance per stream).
//   camtrack_bench_tracker_bench [--frames 2000]      (or: node bench/native.mjs tracker --frames 2000)
// Scene: N boxes (30..60 x 80..160 px) moving at constant velocity (+-3 px/frame, 0.5 px jitter) in a 1920x1080
// frame, wrapping around the edges; each frame 5 % of the objects are missed, and N/10 false positives at random
// places are added; scores 0.3..1.0. All frames are generated before timing. After 100 warm-up frames, every Update
// is timed with steady_clock; the heap allocations made during the timed updates are counted (global operator new
// is replaced in this executable), to check the no-allocation-in-steady-state rule.
// Prints one human line per case on stderr and ONE JSON object on stdout ({"bench":"tracker","cases":[…]});
// `node bench/native.mjs tracker` stamps it as a report (src/bench/report.ts). Percentiles: nearest rank
// (bench_stats.h, the reports' definition).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "bench_args.h"
#include "bench_json.h"
#include "bench_stats.h"
#include "core/track/factory.h"
#include "tests/tracker_reference.h"

namespace {
std::atomic<long long> g_allocs{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using camtrack::Box;
using camtrack::Detection;
using camtrack::track::TrackerConfig;

std::vector<std::vector<Detection>> MakeScene(int objects, int frames, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> ux(0.f, 1920.f), uy(0.f, 1080.f), uw(30.f, 60.f), uh(80.f, 160.f),
      uv(-3.f, 3.f), us(0.3f, 1.f), u01(0.f, 1.f);
  std::normal_distribution<float> jitter(0.f, 0.5f);
  struct Obj {
    float x, y, w, h, vx, vy;
  };
  std::vector<Obj> objs(objects);
  for (auto& o : objs) o = {ux(rng), uy(rng), uw(rng), uh(rng), uv(rng), uv(rng)};
  std::vector<std::vector<Detection>> scene(frames);
  for (int f = 0; f < frames; ++f) {
    auto& dets = scene[f];
    dets.reserve(objects + objects / 10 + 1);
    for (auto& o : objs) {
      o.x += o.vx;
      o.y += o.vy;
      if (o.x < -o.w) o.x += 1920.f + o.w;
      if (o.x > 1920.f) o.x -= 1920.f + o.w;
      if (o.y < -o.h) o.y += 1080.f + o.h;
      if (o.y > 1080.f) o.y -= 1080.f + o.h;
      if (u01(rng) < 0.05f) continue;  // missed
      Detection d;
      const float x = o.x + jitter(rng), y = o.y + jitter(rng);
      d.box = Box{x, y, x + o.w + jitter(rng), y + o.h + jitter(rng)};
      d.score = us(rng);
      dets.push_back(d);
    }
    for (int k = 0; k < objects / 10; ++k) {
      Detection d;
      const float x = ux(rng), y = uy(rng);
      d.box = Box{x, y, x + uw(rng), y + uh(rng)};
      d.score = us(rng) * 0.7f;
      dets.push_back(d);
    }
  }
  return scene;
}

void Run(TrackerConfig::Kind kind, int objects, int frames, camtrack::bench::Json& j) {
  constexpr int kWarmup = 100;
  const auto scene = MakeScene(objects, frames + kWarmup, 1234u + static_cast<unsigned>(objects));
  TrackerConfig cfg = ct_test::ReferenceTrackerConfig(kind);
  auto tracker = camtrack::track::CreateTracker(cfg);
  std::vector<camtrack::track::TrackedObject> out;
  std::vector<camtrack::track::TrackEvent> events;
  out.reserve(1024);
  events.reserve(4096);
  for (int f = 0; f < kWarmup; ++f) {
    tracker->Update(scene[f].data(), scene[f].size(), out);
    events.clear();
    tracker->TakeEvents(events);
  }
  std::vector<double> us(frames);
  size_t tracks_out = 0;
  const long long allocs_before = g_allocs.load();
  for (int f = 0; f < frames; ++f) {
    const auto& dets = scene[kWarmup + f];
    const auto t0 = std::chrono::steady_clock::now();
    tracker->Update(dets.data(), dets.size(), out);
    events.clear();
    tracker->TakeEvents(events);
    const auto t1 = std::chrono::steady_clock::now();
    us[f] = std::chrono::duration<double, std::micro>(t1 - t0).count();
    tracks_out += out.size();
  }
  const long long allocs = g_allocs.load() - allocs_before;
  double total = 0;
  for (double v : us) total += v;
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  const double mean = total / frames, p50 = camtrack::bench::PercentileSorted(sorted, 0.5),
               p99 = camtrack::bench::PercentileSorted(sorted, 0.99);
  const double dets_mean = [&] {
    double s = 0;
    for (int f = 0; f < frames; ++f) s += scene[kWarmup + f].size();
    return s / frames;
  }();
  const char* name = camtrack::track::TrackerKindName(kind);
  std::fprintf(stderr, "%-9s objects %3d (%.0f dets/frame, %.0f tracks out): mean %8.1f us  p50 %8.1f us  p99 %8.1f us  "
               "%9.0f updates/s  allocs in %d timed updates: %lld\n",
               name, objects, dets_mean, double(tracks_out) / frames, mean, p50, p99, 1e6 / mean, frames, allocs);
  j.Begin().Key("tracker").Str(name).Key("objects").Int(objects).Key("detsPerFrame").Num(dets_mean, 1);
  j.Key("tracksPerFrame").Num(double(tracks_out) / frames, 1).Key("frames").Int(frames);
  j.Key("usPerUpdateMean").Num(mean, 2).Key("usPerUpdateP50").Num(p50, 2).Key("usPerUpdateP99").Num(p99, 2);
  j.Key("updatesPerSecond").Num(1e6 / mean, 0).Key("allocsInTimedUpdates").Int(allocs).End();
}

}  // namespace

int main(int argc, char** argv) {
  camtrack::bench::Args args(argc, argv, "camtrack_bench_tracker_bench",
                             "camtrack_bench_tracker_bench [--frames 2000 (>= 10)]: Tracker::Update cost, JSON on stdout\n");
  const int frames = int(args.Int("frames", 2000, 10, 10000000));
  args.Done();
  camtrack::bench::Json j;
  j.Begin().Key("bench").Str("tracker").Key("frames").Int(frames).Key("cases").BeginArray();
  for (auto kind : {TrackerConfig::Kind::kByteTrack, TrackerConfig::Kind::kSort, TrackerConfig::Kind::kIou}) {
    for (int objects : {10, 50, 200}) Run(kind, objects, frames, j);
  }
  j.End().End();
  std::puts(j.str().c_str());
  return 0;
}
