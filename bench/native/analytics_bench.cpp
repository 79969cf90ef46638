// camtrack_bench_analytics_bench: cost of one AnalyticsEngine::Update (lines, zones, speed after the tracker) per
// frame, on one core (one engine per stream, called by the postprocess thread).
//   camtrack_bench_analytics_bench [--frames 3000]      (or: node bench/native.mjs analytics --frames 3000)
// Scene: N tracks (ids 1..N, 30..60 x 80..160 px boxes) moving at constant velocity (±3 px/frame) in a 1920x1080
// frame, wrapping around the edges (a wrapped track gets a new id, as a tracker would give it); every 50th frame 5 %
// of the tracks are missing. Config: L counting lines (horizontal and vertical segments across the frame, default
// bottom-centre anchor, minCrossingFrames 2) and Z zones (concave 8-point "U" polygons tiled over the frame, enter 3 /
// exit 15 frames, loiter 2 s, maxOccupancy 5), speed on (EMA). Timestamps 40 ms apart. Cases: (10, 10, 200) — the
// issue's —, (10, 10, 50), (1, 1, 200), (0, 0, 200) and speed only. All frames are generated before timing; after 100
// warm-up frames every Update is timed with steady_clock, and the heap allocations during the timed updates are
// counted (global operator new is replaced here), to check the no-allocation-in-steady-state rule.
// Prints one human line per case on stderr and ONE JSON object on stdout ({"bench":"analytics","cases":[…]});
// `node bench/native.mjs analytics` stamps it as a report (src/bench/report.ts). Percentiles: nearest rank
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
#include "core/analytics/analytics_engine.h"

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
using camtrack::track::TrackedObject;
namespace an = camtrack::analytics;

std::vector<std::vector<TrackedObject>> MakeScene(int n, int frames, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> ux(0.f, 1920.f), uy(0.f, 1080.f), uw(30.f, 60.f), uh(80.f, 160.f),
      uv(-3.f, 3.f), u01(0.f, 1.f);
  struct Obj {
    float x, y, w, h, vx, vy;
    int64_t id;
  };
  int64_t next_id = 1;
  std::vector<Obj> objs(n);
  for (auto& o : objs) o = {ux(rng), uy(rng), uw(rng), uh(rng), uv(rng), uv(rng), next_id++};
  std::vector<std::vector<TrackedObject>> scene(frames);
  for (int f = 0; f < frames; ++f) {
    auto& v = scene[f];
    v.reserve(n);
    for (auto& o : objs) {
      o.x += o.vx;
      o.y += o.vy;
      if (o.x < -o.w || o.x > 1920.f || o.y < -o.h || o.y > 1080.f) {
        o.x = ux(rng);
        o.y = uy(rng);
        o.id = next_id++;
      }
      if (f % 50 == 0 && u01(rng) < 0.05f) continue;
      TrackedObject t;
      t.track_id = o.id;
      t.box = Box{o.x, o.y, o.x + o.w, o.y + o.h};
      v.push_back(t);
    }
  }
  return scene;
}

an::AnalyticsConfig MakeConfig(int lines, int zones, bool speed) {
  an::AnalyticsConfig c;
  for (int i = 0; i < lines; ++i) {
    an::LineConfig l;
    l.id = "l" + std::to_string(i);
    if (i % 2 == 0) {
      const double y = 100 + 880.0 * i / std::max(1, lines);
      l.start = {50, y};
      l.end = {1870, y};
    } else {
      const double x = 100 + 1720.0 * i / std::max(1, lines);
      l.start = {x, 50};
      l.end = {x, 1030};
    }
    l.anchors = {an::Anchor::kBottomCenter};
    c.lines.push_back(l);
  }
  for (int i = 0; i < zones; ++i) {
    an::ZoneConfig z;
    z.id = "z" + std::to_string(i);
    const double x0 = (i % 5) * 384.0, y0 = (i / 5 % 4) * 270.0, w = 384, h = 270;
    z.polygon = {{x0, y0},           {x0 + w * 0.4, y0},     {x0 + w * 0.4, y0 + h * 0.6}, {x0 + w * 0.6, y0 + h * 0.6},
                 {x0 + w * 0.6, y0}, {x0 + w, y0},           {x0 + w, y0 + h},             {x0, y0 + h}};
    z.enter_frames = 3;
    z.exit_frames = 15;
    z.loiter_ms = 2000;
    z.max_occupancy = 5;
    c.zones.push_back(z);
  }
  c.speed.enabled = speed;
  return c;
}

void RunCase(const char* name, int lines, int zones, int tracks, bool speed, int frames, camtrack::bench::Json& j) {
  const auto scene = MakeScene(tracks, frames, 42);
  an::AnalyticsEngine engine(MakeConfig(lines, zones, speed));
  an::AnalyticsFrame out;
  out.Reserve(size_t(lines), size_t(zones), 256);
  const int warmup = 100;
  std::vector<double> us;
  us.reserve(frames);
  long long allocs = 0;
  uint64_t events = 0;
  for (int f = 0; f < frames; ++f) {
    const auto& v = scene[size_t(f)];
    const long long a0 = g_allocs.load();
    const auto t0 = std::chrono::steady_clock::now();
    engine.Update(v.data(), v.size(), int64_t(f) * 40, true, &out);
    const auto t1 = std::chrono::steady_clock::now();
    if (f >= warmup) {
      us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      allocs += g_allocs.load() - a0;
    }
    events += out.events.size();
  }
  std::sort(us.begin(), us.end());
  double sum = 0;
  for (double x : us) sum += x;
  const double mean = sum / double(us.size());
  const double p50 = camtrack::bench::PercentileSorted(us, 0.5), p99 = camtrack::bench::PercentileSorted(us, 0.99);
  std::fprintf(stderr, "%-22s lines %2d zones %2d tracks %3d: mean %.1f us, p50 %.1f us, p99 %.1f us per frame, %lld allocs "
               "in %zu timed frames, %llu events\n",
               name, lines, zones, tracks, mean, p50, p99, allocs, us.size(), (unsigned long long)events);
  j.Begin().Key("case").Str(name).Key("lines").Int(lines).Key("zones").Int(zones).Key("tracks").Int(tracks);
  j.Key("speed").Bool(speed).Key("frames").Int(int64_t(us.size())).Key("mean_us").Num(mean, 2);
  j.Key("p50_us").Num(p50, 2).Key("p99_us").Num(p99, 2).Key("allocs").Int(allocs).Key("events").Int(int64_t(events));
  j.End();
}

}  // namespace

int main(int argc, char** argv) {
  camtrack::bench::Args args(argc, argv, "camtrack_bench_analytics_bench",
                             "camtrack_bench_analytics_bench [--frames 3000 (>= 200)]: AnalyticsEngine::Update cost, JSON on stdout\n");
  const int frames = int(args.Int("frames", 3000, 200, 10000000));
  args.Done();
  camtrack::bench::Json j;
  j.Begin().Key("bench").Str("analytics").Key("frames").Int(frames).Key("cases").BeginArray();
  RunCase("10l_10z_200t", 10, 10, 200, true, frames, j);
  RunCase("10l_10z_50t", 10, 10, 50, true, frames, j);
  RunCase("1l_1z_200t", 1, 1, 200, true, frames, j);
  RunCase("speed_only_200t", 0, 0, 200, true, frames, j);
  RunCase("empty_200t", 0, 0, 200, false, frames, j);
  j.End().End();
  std::puts(j.str().c_str());
  return 0;
}
