// GPU tests of NvdecDecoder (NVDEC → device NV12 pool surfaces) against CPU decode by FFmpeg of the same clips.
//
// Inputs (made on a machine with FFmpeg, carried to the GPU machine; see docs/gpu-verification.md for the exact
// commands) in the directory $CAMTRACK_GPU_TEST_DATA (default .cache/gpu-test-data):
//   walking.h264 + .pts           walking.mp4 as Annex-B (1280x720 H.264 High, B-frames), packet pts in decode order
//   walking_ref.nv12              FFmpeg CPU decode, display frames 0, 50, 100, 200, 340, NV12
//   walking.hevc + .pts           60 frames re-encoded with libx265 (Main, B-frames), Annex-B
//   walking_hevc_ref.nv12         FFmpeg CPU decode of that, display frames 0, 30, 59
//   reschange.h264 + .pts         120 packets of walking (1280x720) then 100 of car-detection (768x432)
//   reschange_part2_ref.nv12      FFmpeg CPU decode of the 768x432 part, its display frames 0 and 99
// Without them the tests skip with the reason (they fail when CI=true, but CI never has a GPU).
// Frames are identified by pts: display frame n is the n-th smallest pts of the packets.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "../test_assets.h"
#include "../test_main.h"
#include "common/error.h"
#include "cuda/buffers.h"
#include "cuda/check.h"
#include "decode/annexb_reader.h"
#include "decode/nvdec_decoder.h"

namespace {

using camtrack::Error;
using camtrack::ErrorCode;
using camtrack::decode::AnnexBSplitter;
using camtrack::decode::DeviceFrame;
using camtrack::decode::NvdecCodec;
using camtrack::decode::NvdecDecoder;
using camtrack::decode::NvdecOptions;
using camtrack::decode::PoolFullPolicy;

constexpr int kWalkingFrames = 341;  // SOURCES.md: walking.mp4 has 341 frames
constexpr int kHevcFrames = 60;
constexpr int kResPart1 = 120, kResPart2 = 100;  // FFmpeg decodes 220 frames from reschange.h264
constexpr double kMinPsnr = 40.0;

std::vector<uint8_t> ReadFileOrSkip(const std::string& name) { return ct_test::ReadGpuTestData(name); }

std::vector<int64_t> ReadPts(const std::string& name) { return ct_test::ReadGpuTestPts(name); }

std::vector<std::pair<const uint8_t*, size_t>> AccessUnits(const std::vector<uint8_t>& bs, bool hevc) {
  std::vector<std::pair<const uint8_t*, size_t>> out;
  AnnexBSplitter sp(bs.data(), bs.size(), hevc);
  const uint8_t* au = nullptr;
  size_t n = 0;
  while (sp.NextAccessUnit(&au, &n)) out.emplace_back(au, n);
  return out;
}

void RequireNvdec() {
  const auto st = NvdecDecoder::Probe(0);
  if (!st.available) CT_SKIP("NVDEC not available: " + st.reason);
}

struct HostNv12 {
  int w = 0, h = 0;
  std::vector<uint8_t> y, uv;  // tight: w x h, and 2*((w+1)/2) x (h+1)/2
};

HostNv12 Download(const DeviceFrame& f) {
  HostNv12 out;
  out.w = f.width();
  out.h = f.height();
  const int cw = 2 * ((out.w + 1) / 2), ch = (out.h + 1) / 2;
  out.y.resize(static_cast<size_t>(out.w) * out.h);
  out.uv.resize(static_cast<size_t>(cw) * ch);
  f.SynchronizeReady();
  CAMTRACK_CUDA_CHECK(cudaMemcpy2D(out.y.data(), out.w, f.y().data, f.pitch(), out.w, out.h, cudaMemcpyDeviceToHost));
  CAMTRACK_CUDA_CHECK(cudaMemcpy2D(out.uv.data(), cw, f.uv().data, f.pitch(), cw, ch, cudaMemcpyDeviceToHost));
  return out;
}

// PSNR in dB (255 peak); +inf when identical. `max_diff` gets the largest absolute byte difference.
double Psnr(const uint8_t* a, const uint8_t* b, size_t n, int* max_diff) {
  double se = 0;
  int md = 0;
  for (size_t i = 0; i < n; ++i) {
    const int d = static_cast<int>(a[i]) - static_cast<int>(b[i]);
    se += static_cast<double>(d) * d;
    md = std::max(md, std::abs(d));
  }
  *max_diff = md;
  if (se == 0) return INFINITY;
  return 10.0 * std::log10(255.0 * 255.0 / (se / static_cast<double>(n)));
}

// Compares a downloaded frame with frame `index` of a concatenated NV12 reference file of w x h frames.
void ExpectMatchesReference(const HostNv12& got, const std::vector<uint8_t>& ref, int index, int w, int h,
                            const char* label) {
  CT_EXPECT(got.w == w && got.h == h);
  const size_t ysz = static_cast<size_t>(w) * h, uvsz = static_cast<size_t>(2 * ((w + 1) / 2)) * ((h + 1) / 2);
  const size_t off = static_cast<size_t>(index) * (ysz + uvsz);
  CT_EXPECT(ref.size() >= off + ysz + uvsz);
  int dy = 0, duv = 0;
  const double py = Psnr(got.y.data(), ref.data() + off, ysz, &dy);
  const double puv = Psnr(got.uv.data(), ref.data() + off + ysz, uvsz, &duv);
  std::printf("      %s: PSNR Y %.2f dB (max |diff| %d), UV %.2f dB (max |diff| %d)\n", label, py, dy, puv, duv);
  CT_EXPECT(py >= kMinPsnr);
  CT_EXPECT(puv >= kMinPsnr);
}

struct RunResult {
  std::vector<int64_t> pts;               // display order
  std::vector<std::pair<int, int>> size;  // per frame
  std::map<int64_t, HostNv12> kept;       // downloads of the frames whose pts was asked for
  camtrack::decode::NvdecStats stats;
};

// Decodes a whole Annex-B file access unit by access unit (pts from the .pts file), draining after each.
RunResult DecodeFile(const std::vector<uint8_t>& bs, const std::vector<int64_t>& pts, NvdecCodec codec,
                     const std::vector<int64_t>& keep, int pool_size = 4) {
  const auto aus = AccessUnits(bs, codec == NvdecCodec::kHevc);
  CT_EXPECT(aus.size() == pts.size());
  NvdecOptions o;
  o.codec = codec;
  o.surface_pool_size = pool_size;
  o.pool_full = PoolFullPolicy::kBlock;
  NvdecDecoder dec(o);
  RunResult r;
  DeviceFrame f;
  auto drain = [&] {
    while (dec.NextFrame(&f)) {
      r.pts.push_back(f.pts());
      r.size.emplace_back(f.width(), f.height());
      if (std::find(keep.begin(), keep.end(), f.pts()) != keep.end()) r.kept[f.pts()] = Download(f);
      f.Release();
    }
  };
  for (size_t i = 0; i < aus.size(); ++i) {
    dec.Decode(aus[i].first, aus[i].second, pts[i], true);
    drain();
  }
  dec.Flush();
  drain();
  r.stats = dec.stats();
  return r;
}

int64_t NthSmallest(std::vector<int64_t> v, size_t n) {
  std::sort(v.begin(), v.end());
  return v.at(n);
}

bool StrictlyIncreasing(const std::vector<int64_t>& v) {
  for (size_t i = 1; i < v.size(); ++i)
    if (v[i] <= v[i - 1]) return false;
  return true;
}

}  // namespace

CT_TEST(nvdec_probe_and_bad_device) {
  const auto st = NvdecDecoder::Probe(0);
  std::printf("      Probe(0): available=%d %s\n", st.available, st.reason.c_str());
  if (!st.available) CT_SKIP("NVDEC not available: " + st.reason);
  NvdecDecoder dec(NvdecOptions{});
  std::printf("      device: %s\n", dec.device_name().c_str());
  const auto bad = NvdecDecoder::Probe(4096);
  CT_EXPECT(!bad.available);
  CT_EXPECT(bad.reason.find("does not exist") != std::string::npos);
  NvdecOptions o;
  o.device = 4096;
  bool threw = false;
  try {
    NvdecDecoder d2(o);
  } catch (const Error& e) {
    threw = e.code() == ErrorCode::kInvalidArgument;
  }
  CT_EXPECT(threw);
}

CT_TEST(nvdec_h264_walking_matches_cpu_decode) {
  RequireNvdec();
  const auto bs = ReadFileOrSkip("walking.h264");
  const auto pts = ReadPts("walking.h264.pts");
  const auto ref = ReadFileOrSkip("walking_ref.nv12");
  const int ref_index[] = {0, 50, 100, 200, 340};
  std::vector<int64_t> keep;
  for (int n : ref_index) keep.push_back(NthSmallest(pts, static_cast<size_t>(n)));
  const RunResult r = DecodeFile(bs, pts, NvdecCodec::kH264, keep, 4);
  std::printf("      frames %zu, decoded %llu, dropped %llu, pool in use max %d of %d, sequence changes %llu\n",
              r.pts.size(), (unsigned long long)r.stats.decoded, (unsigned long long)r.stats.dropped_pool_full,
              r.stats.pool_in_use_max, r.stats.pool_size, (unsigned long long)r.stats.sequence_changes);
  CT_EXPECT(r.pts.size() == static_cast<size_t>(kWalkingFrames));
  CT_EXPECT(StrictlyIncreasing(r.pts));
  std::vector<int64_t> sorted = pts;
  std::sort(sorted.begin(), sorted.end());
  CT_EXPECT(r.pts == sorted);  // every picture once, in display order
  CT_EXPECT(r.stats.dropped_pool_full == 0);
  CT_EXPECT(r.stats.pool_size >= 4 && r.stats.pool_size <= 20);
  CT_EXPECT(r.stats.pool_in_use_max >= 1 && r.stats.pool_in_use_max <= r.stats.pool_size);
  CT_EXPECT(r.stats.sequence_changes == 1);
  CT_EXPECT(r.stats.sequence_flushes == 0);  // the SPS repeated at every IDR is the same one
  CT_EXPECT(r.stats.width == 1280 && r.stats.height == 720);
  for (size_t i = 0; i < keep.size(); ++i) {
    const auto it = r.kept.find(keep[i]);
    CT_EXPECT(it != r.kept.end());
    ExpectMatchesReference(it->second, ref, static_cast<int>(i), 1280, 720,
                           ("walking h264 frame " + std::to_string(ref_index[i])).c_str());
  }
}

CT_TEST(nvdec_hevc_walking_matches_cpu_decode) {
  RequireNvdec();
  const auto bs = ReadFileOrSkip("walking.hevc");
  const auto pts = ReadPts("walking.hevc.pts");
  const auto ref = ReadFileOrSkip("walking_hevc_ref.nv12");
  const int ref_index[] = {0, 30, 59};
  std::vector<int64_t> keep;
  for (int n : ref_index) keep.push_back(NthSmallest(pts, static_cast<size_t>(n)));
  const RunResult r = DecodeFile(bs, pts, NvdecCodec::kHevc, keep, 4);
  std::printf("      frames %zu, dropped %llu, pool in use max %d\n", r.pts.size(),
              (unsigned long long)r.stats.dropped_pool_full, r.stats.pool_in_use_max);
  CT_EXPECT(r.pts.size() == static_cast<size_t>(kHevcFrames));
  CT_EXPECT(StrictlyIncreasing(r.pts));
  CT_EXPECT(r.stats.width == 1280 && r.stats.height == 720);
  for (size_t i = 0; i < keep.size(); ++i) {
    const auto it = r.kept.find(keep[i]);
    CT_EXPECT(it != r.kept.end());
    ExpectMatchesReference(it->second, ref, static_cast<int>(i), 1280, 720,
                           ("walking hevc frame " + std::to_string(ref_index[i])).c_str());
  }
}

CT_TEST(nvdec_resolution_change_mid_stream) {
  RequireNvdec();
  const auto bs = ReadFileOrSkip("reschange.h264");
  const auto pts = ReadPts("reschange.h264.pts");
  const auto ref2 = ReadFileOrSkip("reschange_part2_ref.nv12");
  const auto walking_ref = ReadFileOrSkip("walking_ref.nv12");
  const auto walking_pts = ReadPts("walking.h264.pts");
  CT_EXPECT(pts.size() == static_cast<size_t>(kResPart1 + kResPart2));
  const std::vector<int64_t> part2(pts.begin() + kResPart1, pts.end());
  const std::vector<int64_t> keep = {NthSmallest(walking_pts, 50), NthSmallest(walking_pts, 100),
                                     NthSmallest(part2, 0), NthSmallest(part2, 99)};
  const RunResult r = DecodeFile(bs, pts, NvdecCodec::kH264, keep, 4);
  std::printf("      frames %zu, decoded %llu, displayed %llu, dropped %llu, sequence changes %llu, final size %dx%d, "
              "pool %d (in use max %d)\n",
              r.pts.size(), (unsigned long long)r.stats.decoded, (unsigned long long)r.stats.displayed,
              (unsigned long long)r.stats.dropped_pool_full, (unsigned long long)r.stats.sequence_changes,
              r.stats.width, r.stats.height, r.stats.pool_size, r.stats.pool_in_use_max);
  CT_EXPECT(r.stats.dropped_pool_full == 0);
  CT_EXPECT(r.stats.pool_in_use_max <= r.stats.pool_size);
  {
    std::vector<int64_t> p1(pts.begin(), pts.begin() + kResPart1), p2 = part2;
    std::sort(p1.begin(), p1.end());
    std::sort(p2.begin(), p2.end());
    for (size_t i = 0; i < p1.size(); ++i)
      if (std::find(r.pts.begin(), r.pts.end(), p1[i]) == r.pts.end()) std::printf("      missing: part 1 display frame %zu\n", i);
    for (size_t i = 0; i < p2.size(); ++i)
      if (std::find(r.pts.begin(), r.pts.end(), p2[i]) == r.pts.end()) std::printf("      missing: part 2 display frame %zu\n", i);
  }
  CT_EXPECT(r.pts.size() == static_cast<size_t>(kResPart1 + kResPart2));
  CT_EXPECT(StrictlyIncreasing(r.pts));
  CT_EXPECT(r.stats.sequence_changes == 2);
  CT_EXPECT(r.stats.sequence_flushes == 1);  // the old sequence was flushed before the new SPS
  size_t big = 0, small = 0, switches = 0;
  for (size_t i = 0; i < r.size.size(); ++i) {
    big += r.size[i] == std::make_pair(1280, 720);
    small += r.size[i] == std::make_pair(768, 432);
    switches += i > 0 && r.size[i] != r.size[i - 1];
  }
  CT_EXPECT(big == static_cast<size_t>(kResPart1) && small == static_cast<size_t>(kResPart2) && switches == 1);
  ExpectMatchesReference(r.kept.at(keep[0]), walking_ref, 1, 1280, 720, "reschange 1280x720 part, frame 50");
  ExpectMatchesReference(r.kept.at(keep[1]), walking_ref, 2, 1280, 720, "reschange 1280x720 part, frame 100");
  ExpectMatchesReference(r.kept.at(keep[2]), ref2, 0, 768, 432, "reschange 768x432 part, frame 0");
  ExpectMatchesReference(r.kept.at(keep[3]), ref2, 1, 768, 432, "reschange 768x432 part, frame 99");
}

// Live semantics: a consumer that holds every lease. The pool never grows past its size, the newest frames win
// (oldest undelivered dropped), every displayed picture is either delivered or counted as dropped.
CT_TEST(nvdec_pool_bound_live_drop_oldest) {
  RequireNvdec();
  const auto bs = ReadFileOrSkip("walking.h264");
  const auto pts = ReadPts("walking.h264.pts");
  const auto aus = AccessUnits(bs, false);
  NvdecOptions o;
  o.surface_pool_size = 3;
  o.pool_full = PoolFullPolicy::kDropOldest;
  NvdecDecoder dec(o);
  std::vector<DeviceFrame> held;
  DeviceFrame f;
  int max_slot = -1;
  // Phase 1: feed 40 pictures without draining: only the newest 3 survive in the queue.
  for (size_t i = 0; i < 40; ++i) dec.Decode(aus[i].first, aus[i].second, pts[i], true);
  std::vector<int64_t> got;
  while (dec.NextFrame(&f)) {
    got.push_back(f.pts());
    max_slot = std::max(max_slot, f.slot());
    held.push_back(std::move(f));
  }
  const auto s1 = dec.stats();
  std::printf("      after 40 AUs undrained: displayed %llu, delivered %llu, dropped %llu, in use max %d\n",
              (unsigned long long)s1.displayed, (unsigned long long)s1.delivered,
              (unsigned long long)s1.dropped_pool_full, s1.pool_in_use_max);
  CT_EXPECT(got.size() == 3);
  CT_EXPECT(StrictlyIncreasing(got));
  CT_EXPECT(s1.displayed == s1.delivered + s1.dropped_pool_full);
  CT_EXPECT(s1.dropped_pool_full == s1.displayed - 3);
  // The 3 delivered are the newest displayed ones: every other displayed pts is smaller.
  CT_EXPECT(s1.pool_size == 3 && s1.pool_in_use_max == 3);  // live: exactly the size asked for
  // Phase 2: all 3 surfaces leased out: new pictures are dropped, nothing is queued, nothing overwritten.
  const HostNv12 before = Download(held[0]);
  for (size_t i = 40; i < 60; ++i) dec.Decode(aus[i].first, aus[i].second, pts[i], true);
  CT_EXPECT(!dec.NextFrame(&f));
  const auto s2 = dec.stats();
  CT_EXPECT(s2.displayed == s2.delivered + s2.dropped_pool_full);
  CT_EXPECT(s2.dropped_pool_full > s1.dropped_pool_full);
  const HostNv12 after = Download(held[0]);
  CT_EXPECT(before.y == after.y && before.uv == after.uv);  // a leased surface is never written
  // Phase 3: leases released (one with a consumer stream → GPU-side wait): decoding resumes.
  camtrack::cuda::Stream consumer;
  held[0].Release(consumer.get());
  held.clear();
  for (size_t i = 60; i < 80; ++i) {
    dec.Decode(aus[i].first, aus[i].second, pts[i], true);
    while (dec.NextFrame(&f)) {
      max_slot = std::max(max_slot, f.slot());
      f.Release();
    }
  }
  const auto s3 = dec.stats();
  CT_EXPECT(s3.delivered > s2.delivered);
  CT_EXPECT(s3.pool_in_use_max <= 3 && max_slot < 3);
  consumer.Synchronize();
}

// File semantics: frames go to another thread, which holds each for a while and releases it after GPU work on
// its own stream (Release(stream)); the decoder blocks instead of dropping, and every frame arrives intact.
CT_TEST(nvdec_pool_block_policy_with_consumer_thread) {
  RequireNvdec();
  const auto bs = ReadFileOrSkip("walking.h264");
  const auto pts = ReadPts("walking.h264.pts");
  const auto ref = ReadFileOrSkip("walking_ref.nv12");
  const auto aus = AccessUnits(bs, false);
  const int64_t check_pts = NthSmallest(pts, 200);
  NvdecOptions o;
  o.surface_pool_size = 3;
  o.pool_full = PoolFullPolicy::kBlock;
  NvdecDecoder dec(o);
  std::mutex mu;
  std::condition_variable cv;
  std::queue<DeviceFrame> q;
  bool done = false;
  int consumed = 0;
  std::vector<int64_t> seen;
  HostNv12 checked;
  std::thread consumer([&] {
    camtrack::cuda::Stream s;
    camtrack::cuda::DeviceBuffer copy(1280 * 720 * 3 / 2);
    for (;;) {
      DeviceFrame f;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return done || !q.empty(); });
        if (q.empty()) break;
        f = std::move(q.front());
        q.pop();
      }
      // GPU work on the consumer's stream that reads the surface, then release without host sync.
      CAMTRACK_CUDA_CHECK(cudaStreamWaitEvent(s.get(), f.ready_event(), 0));
      CAMTRACK_CUDA_CHECK(cudaMemcpy2DAsync(copy.data(), 1280, f.y().data, f.pitch(), 1280, 720,
                                            cudaMemcpyDeviceToDevice, s.get()));
      CAMTRACK_CUDA_CHECK(cudaMemcpy2DAsync(copy.data<uint8_t>() + 1280 * 720, 1280, f.uv().data, f.pitch(), 1280,
                                            360, cudaMemcpyDeviceToDevice, s.get()));
      const int64_t p = f.pts();
      f.Release(s.get());
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      seen.push_back(p);
      ++consumed;
      if (p == check_pts) {
        s.Synchronize();
        checked.w = 1280;
        checked.h = 720;
        checked.y.resize(1280 * 720);
        checked.uv.resize(1280 * 360);
        CAMTRACK_CUDA_CHECK(cudaMemcpy(checked.y.data(), copy.data(), checked.y.size(), cudaMemcpyDeviceToHost));
        CAMTRACK_CUDA_CHECK(cudaMemcpy(checked.uv.data(), copy.data<uint8_t>() + 1280 * 720, checked.uv.size(),
                                       cudaMemcpyDeviceToHost));
      }
    }
    s.Synchronize();
  });
  DeviceFrame f;
  auto drain = [&] {
    while (dec.NextFrame(&f)) {
      std::lock_guard<std::mutex> lock(mu);
      q.push(std::move(f));
      cv.notify_one();
    }
  };
  for (size_t i = 0; i < aus.size(); ++i) {
    dec.Decode(aus[i].first, aus[i].second, pts[i], true);
    drain();
  }
  dec.Flush();
  drain();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_one();
  }
  consumer.join();
  const auto st = dec.stats();
  std::printf("      consumed %d, dropped %llu, pool in use max %d of %d (asked for 3)\n", consumed,
              (unsigned long long)st.dropped_pool_full, st.pool_in_use_max, st.pool_size);
  CT_EXPECT(consumed == kWalkingFrames);
  CT_EXPECT(st.dropped_pool_full == 0);
  CT_EXPECT(st.pool_in_use_max <= st.pool_size && st.pool_size >= 3);
  CT_EXPECT(StrictlyIncreasing(seen));
  ExpectMatchesReference(checked, ref, 3, 1280, 720, "block policy, consumer-thread copy of frame 200");
}

// Decode-only throughput: N decoders on N threads, each decoding all of walking.h264 (1280x720) into its pool;
// the consumer takes every frame and releases it at once. Wall time from a common start to the last frame.
CT_TEST(nvdec_throughput_1_8_32_streams) {
  RequireNvdec();
  const auto bs = ReadFileOrSkip("walking.h264");
  const auto pts = ReadPts("walking.h264.pts");
  const auto aus = AccessUnits(bs, false);
  for (int n : {1, 8, 32}) {
    std::vector<std::unique_ptr<NvdecDecoder>> decs;
    for (int i = 0; i < n; ++i) {
      NvdecOptions o;
      o.surface_pool_size = 4;
      o.pool_full = PoolFullPolicy::kBlock;
      o.max_display_delay = 1;
      decs.push_back(std::make_unique<NvdecDecoder>(o));
    }
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<int> frames(static_cast<size_t>(n), 0);
    std::vector<std::string> errors(static_cast<size_t>(n));
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        try {
          NvdecDecoder& dec = *decs[static_cast<size_t>(i)];
          DeviceFrame f;
          ++ready;
          while (!go.load()) std::this_thread::yield();
          for (size_t k = 0; k < aus.size(); ++k) {
            dec.Decode(aus[k].first, aus[k].second, pts[k], true);
            while (dec.NextFrame(&f)) {
              ++frames[static_cast<size_t>(i)];
              f.Release();
            }
          }
          dec.Flush();
          while (dec.NextFrame(&f)) {
            ++frames[static_cast<size_t>(i)];
            f.Release();
          }
        } catch (const std::exception& e) {
          errors[static_cast<size_t>(i)] = e.what();
        }
      });
    }
    while (ready.load() < n) std::this_thread::yield();
    const auto t0 = std::chrono::steady_clock::now();
    go = true;
    for (auto& t : threads) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long total = 0;
    for (int i = 0; i < n; ++i) {
      if (!errors[static_cast<size_t>(i)].empty()) std::printf("      decoder %d: %s\n", i, errors[static_cast<size_t>(i)].c_str());
      CT_EXPECT(errors[static_cast<size_t>(i)].empty());
      CT_EXPECT(frames[static_cast<size_t>(i)] == kWalkingFrames);
      total += frames[static_cast<size_t>(i)];
    }
    std::printf("      %2d stream(s): %ld frames 1280x720 H.264 in %.3f s = %.0f fps total, %.0f fps per stream\n", n,
                total, s, total / s, total / s / n);
  }
}
