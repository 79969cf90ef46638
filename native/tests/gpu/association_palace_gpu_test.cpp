// GPU test of BatchedAssociation on a ByteTrack-like sequence (predict -> cost -> CPU LAPJV -> update, new /
// removed tracks) over 100 frames of the bytetrack_palace detections in 4 streams: the GPU chain keeps the same Kalman
// states as the CPU chain. (Random batches and timing: association_gpu_test.cpp.)
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../test_assets.h"
#include "../association_workload.h"
#include "../test_main.h"
#include "association_gpu_util.h"
#include "common/error.h"
#include "core/track/gpu/batched_association.h"
#include "core/track/kalman_filter.h"
#include "core/track/lapjv.h"
#include "core/track/strack.h"
#include "cuda/buffers.h"
#include "cuda/check.h"

namespace {

using namespace ct_gpu_test;  // NOLINT: the shared helpers of association_gpu_util.h

// ---- palace sequence ----------------------------------------------------------------------------------------

// frame -> detections (tlbr, score) of mot/bytetrack_palace/detection_results.json (flat string-valued records).
std::map<int, std::vector<std::pair<Box, float>>> AgReadPalace() {
  std::ifstream f(ct_test::AssetPath("mot/bytetrack_palace/detection_results.json"), std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  auto field = [&](size_t open, size_t close, const char* key) {
    const size_t k = s.find(std::string("\"") + key + "\"", open);
    if (k == std::string::npos || k > close) throw ct_test::Failure{std::string("palace record without ") + key};
    const size_t a = s.find('"', s.find(':', k) + 1);
    return std::stod(s.substr(a + 1, s.find('"', a + 1) - a - 1));
  };
  std::map<int, std::vector<std::pair<Box, float>>> frames;
  size_t pos = s.find('[', s.find("\"results\""));
  while (true) {
    const size_t open = s.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = s.find('}', open);
    const float x = static_cast<float>(field(open, close, "x")), y = static_cast<float>(field(open, close, "y"));
    const float w = static_cast<float>(field(open, close, "width")), h = static_cast<float>(field(open, close, "height"));
    frames[static_cast<int>(field(open, close, "frame_id"))].push_back(
        {Box{x, y, x + w, y + h}, static_cast<float>(field(open, close, "prob"))});
    pos = close + 1;
  }
  return frames;
}

// A minimal ByteTrack-like multi-stream tracker whose numeric steps run either on the CPU reference or on the GPU.
// The GPU chain's state only ever changes on the GPU (the host copies it back and forth unchanged, and appends
// tracks started with KalmanFilter::Initiate, which both chains do on the CPU).
struct AgLiteTracker {
  struct Track {
    int id;
    int misses;
  };
  bool use_gpu;
  std::vector<std::vector<Track>> tracks;  // per stream, in flat order
  std::vector<float> means, covs;          // flat, stream-major
  int next_id = 1;
  camtrack::track::LapjvSolver lapjv;

  void Step(const std::vector<std::vector<std::pair<Box, float>>>& dets_per_stream, const BatchedAssociation* gpu,
            Stream* stream) {
    const int S = static_cast<int>(tracks.size());
    const KalmanFilter kf;
    std::vector<int32_t> toff{0}, doff{0}, coff{0};
    std::vector<uint8_t> not_tracked;
    std::vector<Box> dets;
    for (int s = 0; s < S; ++s) {
      for (const Track& t : tracks[s]) not_tracked.push_back(t.misses > 0 ? 1 : 0);
      for (const auto& d : dets_per_stream[s]) {
        if (d.second >= 0.5f) dets.push_back(d.first);  // high detections only
      }
      toff.push_back(toff.back() + static_cast<int32_t>(tracks[s].size()));
      doff.push_back(static_cast<int32_t>(dets.size()));
      coff.push_back(coff.back() + (toff[s + 1] - toff[s]) * (doff[s + 1] - doff[s]));
    }
    const int T = toff.back();
    AssociationBatch hb;
    hb.num_streams = S;
    hb.total_tracks = T;
    hb.total_dets = doff.back();
    hb.track_offsets = toff.data();
    hb.det_offsets = doff.data();
    hb.cost_offsets = coff.data();
    std::vector<float> cost(coff.back());
    std::vector<Box> boxes(T);

    DeviceBuffer d_toff, d_doff, d_coff, d_means, d_covs, d_nt, d_dets, d_boxes, d_cost;
    AssociationBatch db = hb;
    if (use_gpu) {
      d_toff = AgUpload(toff, *stream);
      d_doff = AgUpload(doff, *stream);
      d_coff = AgUpload(coff, *stream);
      d_means = AgUpload(means, *stream);
      d_covs = AgUpload(covs, *stream);
      d_nt = AgUpload(not_tracked, *stream);
      d_dets = AgUpload(dets, *stream);
      d_boxes = DeviceBuffer(std::max<size_t>(T * sizeof(Box), 16));
      d_cost = DeviceBuffer(std::max<size_t>(cost.size() * sizeof(float), 16));
      db.track_offsets = d_toff.data<int32_t>();
      db.det_offsets = d_doff.data<int32_t>();
      db.cost_offsets = d_coff.data<int32_t>();
      gpu->Predict(db, d_means.data<float>(), d_covs.data<float>(), d_nt.data<uint8_t>(), d_boxes.data<Box>(),
                   stream->get());
      gpu->IouCost(db, d_boxes.data<Box>(), d_dets.data<Box>(), nullptr, nullptr, d_cost.data<float>(),
                   stream->get());
      AgDownload(d_cost, cost, *stream);
    } else {
      camtrack::track::BatchedPredictCpu(hb, means.data(), covs.data(), not_tracked.data(), boxes.data());
      camtrack::track::BatchedIouCostCpu(hb, boxes.data(), dets.data(), nullptr, nullptr, cost.data());
    }

    // Association on the CPU (LAPJV with ByteTrack's first-stage threshold), per stream.
    std::vector<int32_t> pairs;
    std::vector<float> z;
    std::vector<std::vector<int>> unmatched_dets(S);
    std::vector<std::vector<char>> matched(S);
    std::vector<camtrack::track::Match> m;
    std::vector<int> ur, uc;
    for (int s = 0; s < S; ++s) {
      const int rows = toff[s + 1] - toff[s], cols = doff[s + 1] - doff[s];
      lapjv.Solve(cost.data() + coff[s], rows, cols, 0.8f, m, ur, uc);
      matched[s].assign(rows, 0);
      for (const auto& mm : m) {
        pairs.push_back(toff[s] + mm.row);
        const auto xyah = Tlwh::FromBox(dets[doff[s] + mm.col]).ToXyah();
        z.insert(z.end(), xyah.begin(), xyah.end());
        matched[s][mm.row] = 1;
      }
      unmatched_dets[s] = uc;
    }
    if (use_gpu) {
      DeviceBuffer d_pairs = AgUpload(pairs, *stream), d_z = AgUpload(z, *stream);
      gpu->Update(static_cast<int>(pairs.size()), d_pairs.data<int32_t>(), d_z.data<float>(), d_means.data<float>(),
                  d_covs.data<float>(), nullptr, stream->get());
      AgDownload(d_means, means, *stream);
      AgDownload(d_covs, covs, *stream);
    } else {
      camtrack::track::BatchedUpdateCpu(static_cast<int>(pairs.size()), pairs.data(), z.data(), means.data(),
                                        covs.data(), nullptr);
    }

    // Life cycle on the host: misses, removal after 30 missed frames, new tracks from unmatched dets >= 0.6.
    std::vector<float> nm, nc;
    for (int s = 0; s < S; ++s) {
      std::vector<Track> kept;
      for (size_t r = 0; r < tracks[s].size(); ++r) {
        Track t = tracks[s][r];
        t.misses = matched[s][r] ? 0 : t.misses + 1;
        if (t.misses > 30) continue;
        kept.push_back(t);
        const size_t g = static_cast<size_t>(toff[s]) + r;
        nm.insert(nm.end(), means.begin() + g * 8, means.begin() + g * 8 + 8);
        nc.insert(nc.end(), covs.begin() + g * 64, covs.begin() + g * 64 + 64);
      }
      int k = 0;
      for (const auto& d : dets_per_stream[s]) {
        if (d.second < 0.5f) continue;
        const bool unmatched = std::find(unmatched_dets[s].begin(), unmatched_dets[s].end(), k) !=
                               unmatched_dets[s].end();
        ++k;
        if (!unmatched || d.second < 0.6f) continue;
        KalmanMean mean;
        KalmanCovariance cov;
        kf.Initiate(Tlwh::FromBox(d.first).ToXyah(), mean, cov);
        nm.insert(nm.end(), mean.begin(), mean.end());
        nc.insert(nc.end(), cov.begin(), cov.end());
        kept.push_back(Track{next_id++, 0});
      }
      tracks[s] = std::move(kept);
    }
    means.swap(nm);
    covs.swap(nc);
  }
};

}  // namespace

CT_TEST(gpu_association_palace_sequence_same_states_as_cpu) {
  const auto frames = AgReadPalace();
  CT_EXPECT(frames.size() == 314);  // SOURCES.md: frames 0..313
  const int kStreams = 4, kFrames = 100;
  AgLiteTracker cpu{false, std::vector<std::vector<AgLiteTracker::Track>>(kStreams), {}, {}};
  AgLiteTracker gpu_chain{true, std::vector<std::vector<AgLiteTracker::Track>>(kStreams), {}, {}};
  const BatchedAssociation gpu(64, 64);
  Stream stream;
  double max_px = 0, max_cov_rel = 0;
  int max_tracks = 0, ids_differ = 0;
  for (int f = 0; f < kFrames; ++f) {
    // Stream k plays the sequence from frame 50 k (wrapping), so the streams hold different scenes.
    std::vector<std::vector<std::pair<Box, float>>> dets(kStreams);
    for (int k = 0; k < kStreams; ++k) {
      const auto it = frames.find((f + 50 * k) % 314);
      if (it != frames.end()) dets[k] = it->second;
    }
    cpu.Step(dets, nullptr, nullptr);
    gpu_chain.Step(dets, &gpu, &stream);
    for (int k = 0; k < kStreams; ++k) {
      if (cpu.tracks[k].size() != gpu_chain.tracks[k].size()) {
        ++ids_differ;
        continue;
      }
      for (size_t i = 0; i < cpu.tracks[k].size(); ++i) ids_differ += cpu.tracks[k][i].id != gpu_chain.tracks[k][i].id;
    }
    if (cpu.means.size() != gpu_chain.means.size()) break;
    max_tracks = std::max(max_tracks, static_cast<int>(cpu.means.size() / 8));
    for (size_t i = 0; i < cpu.means.size(); ++i) {
      if (i % 8 < 4) max_px = std::max(max_px, std::fabs(static_cast<double>(cpu.means[i]) - gpu_chain.means[i]));
    }
    for (size_t i = 0; i < cpu.covs.size(); ++i) {
      max_cov_rel = std::max(max_cov_rel, std::fabs(static_cast<double>(cpu.covs[i]) - gpu_chain.covs[i]) /
                                              std::max(1.0, std::fabs(static_cast<double>(cpu.covs[i]))));
    }
  }
  std::printf("      palace, %d streams x %d frames: up to %d live tracks, %d track-id differences, max |state "
              "position diff| %.3g px, max cov rel diff %.3g\n",
              kStreams, kFrames, max_tracks, ids_differ, max_px, max_cov_rel);
  CT_EXPECT(max_tracks > 40);  // the chain really tracked (palace has ~20 people per frame)
  CT_EXPECT(ids_differ == 0);
  CT_EXPECT(cpu.means.size() == gpu_chain.means.size());
  CT_EXPECT(max_px <= 1e-3);
  CT_EXPECT(max_cov_rel <= kRelTol);
}

// Timing: 64 streams x 50 tracks x 50 detections, 50 matched pairs per stream (3200 updates). GPU: the three
// kernels back to back on one stream (device-resident data), and the same plus the per-frame transfers a pipeline
// needs (detections + offsets up, costs down, pairs + measurements up), synchronised per frame. CPU: the reference.
