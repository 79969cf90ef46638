#pragma once
// Shared-assets lookup for the native tests (camtrack_core_tests and camtrack_gpu_tests), header-only.
// The assets directory is $CAMTRACK_ASSETS if set and non-empty, else the first <ancestor>/shared/assets (up to 12
// levels above the current directory) that holds SOURCES.md, i.e. <repo>/../shared/assets. AssetPath() applies the
// house rule for a missing asset: the test fails (ct_test::Failure) when env CI=true, and skips with the reason
// (CT_SKIP) otherwise. Ownership: everything is returned by value. Thread-safety: reentrant (reads env and files).
#include <cstdlib>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/geometry.h"
#include "test_support.h"

namespace ct_test {

// The shared assets directory, or "" when neither CAMTRACK_ASSETS nor a shared/assets/SOURCES.md above the
// current directory is found.
inline std::string AssetsDir() {
  if (const char* env = std::getenv("CAMTRACK_ASSETS")) {
    if (*env) return env;
  }
  std::string dir = ".";
  for (int depth = 0; depth < 12; ++depth) {
    std::ifstream f(dir + "/shared/assets/SOURCES.md");
    if (f.good()) return dir + "/shared/assets";
    dir += "/..";
  }
  return {};
}

// The path of `rel` (relative to the assets directory, e.g. "videos/walking.mp4") if that file can be opened.
// Otherwise throws ct_test::Failure when env CI=true, and ct_test::Skip (CT_SKIP) with the reason when not.
inline std::string AssetPath(const std::string& rel) {
  const std::string root = AssetsDir();
  const std::string path = root.empty() ? std::string() : root + "/" + rel;
  if (root.empty() || !std::ifstream(path).good()) {
    const char* ci = std::getenv("CI");
    const std::string why = "test asset " + rel + " not found (set CAMTRACK_ASSETS to the shared/assets directory)";
    if (ci && std::string(ci) == "true") throw Failure{why + " and CI=true"};
    throw Skip{why};
  }
  return path;
}

// Reads the MOTChallenge detection file `rel` (lines frame,-1,x,y,w,h,score,...; other lines ignored) into
// frame -> detections in file order, boxes as tlbr, class 0. A missing file is handled as by AssetPath().
inline std::map<int, std::vector<camtrack::Detection>> ReadMotDetections(const std::string& rel) {
  std::ifstream f(AssetPath(rel));
  std::map<int, std::vector<camtrack::Detection>> frames;
  std::string line;
  while (std::getline(f, line)) {
    for (char& c : line) {
      if (c == ',') c = ' ';
    }
    std::istringstream ss(line);
    double fr, id, x, y, w, h, s;
    if (!(ss >> fr >> id >> x >> y >> w >> h >> s)) continue;
    camtrack::Detection d;
    d.box = camtrack::Box{float(x), float(y), float(x + w), float(y + h)};
    d.score = float(s);
    frames[int(fr)].push_back(d);
  }
  return frames;
}

// Inputs of the GPU tests that are made with FFmpeg on a development machine and carried to the GPU machine (which
// has no FFmpeg): $CAMTRACK_GPU_TEST_DATA, default .cache/gpu-test-data (git-ignored). The commands that make them
// are in docs/gpu-verification.md. Missing file: skip with the reason, or fail when CI=true.
inline std::vector<uint8_t> ReadGpuTestData(const std::string& name) {
  const char* env = std::getenv("CAMTRACK_GPU_TEST_DATA");
  const std::string path = std::string(env && *env ? env : ".cache/gpu-test-data") + "/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f.good()) {
    const std::string why = "GPU test input " + path +
                            " not found (make it with the commands in docs/gpu-verification.md; set CAMTRACK_GPU_TEST_DATA)";
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") throw Failure{why + " and CI=true"};
    throw Skip{why};
  }
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// One integer per line (the `.pts` files next to the Annex-B inputs), via ReadGpuTestData.
inline std::vector<int64_t> ReadGpuTestPts(const std::string& name) {
  const std::vector<uint8_t> raw = ReadGpuTestData(name);
  const std::string s(raw.begin(), raw.end());
  std::vector<int64_t> pts;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find('\n', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) pts.push_back(std::stoll(s.substr(i, j - i)));
    i = j + 1;
  }
  return pts;
}

}  // namespace ct_test
