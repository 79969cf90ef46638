#pragma once
// Test inputs for the pushed-frame decoders (jpeg_decoder_test.cpp, push_decode_test.cpp), made at test time with
// the ffmpeg CLI from the shared clips and images into a temporary directory (removed afterwards), header-only.
//
// The house rule for missing inputs (test_assets.h) applies to ffmpeg too: no ffmpeg (FFMPEG_PATH, else `ffmpeg` on
// PATH) → the test fails when env CI=true, and skips with the reason otherwise. Every ffmpeg run is bounded by
// `timeout` (a stuck child must not hang the suite).
// Ownership: everything returned by value; TempDir owns its directory. Thread-safety: single-threaded tests only.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "test_assets.h"
#include "test_main.h"

namespace ct_push {

using Bytes = std::vector<uint8_t>;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/camtrack-push-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw ct_test::Failure{"mkdtemp failed for " + tmpl};
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Single-quoted for /bin/sh.
inline std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline bool Missing(const std::string& why) {
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") throw ct_test::Failure{why + " and CI=true"};
  CT_SKIP(why);
  return true;
}

// The ffmpeg executable (FFMPEG_PATH or `ffmpeg`), checked once; handled as a missing asset when absent.
inline std::string Ffmpeg() {
  static int state = -1;  // -1 unknown, 0 missing, 1 present
  const char* env = std::getenv("FFMPEG_PATH");
  static const std::string exe = env && *env ? env : "ffmpeg";
  if (state < 0) state = std::system((Quote(exe) + " -version >/dev/null 2>&1").c_str()) == 0 ? 1 : 0;
  if (state == 0) Missing("ffmpeg not found (install it, or set FFMPEG_PATH) to make the test's JPEG/PNG/H.264 inputs");
  return exe;
}

// Runs `ffmpeg -nostdin -v error -y <args>` (bounded); a non-zero exit fails the test with the command line.
inline void RunFfmpeg(const std::string& args, int timeout_s = 120) {
  const std::string cmd = "timeout -k 2 " + std::to_string(timeout_s) + " " + Quote(Ffmpeg()) +
                          " -nostdin -v error -y " + args;
  const int rc = std::system(cmd.c_str());
  if (rc != 0) throw ct_test::Failure{"ffmpeg failed (status " + std::to_string(rc) + "): " + cmd};
}

inline Bytes ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f.good()) throw ct_test::Failure{"cannot read " + path};
  return Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!f.good()) throw ct_test::Failure{"cannot write " + path};
}

// Frame `index` of shared clip `clip` ("videos/walking.mp4") encoded as one JPEG by FFmpeg's mjpeg encoder.
// `vf_extra`: more filters after the frame selection (",scale=3840:2160"), `pix_fmt` the JPEG's sampling.
inline Bytes ClipFrameJpeg(const TempDir& dir, const std::string& clip, int index, const std::string& vf_extra = "",
                           const std::string& pix_fmt = "yuvj420p", int q = 3) {
  const std::string src = ct_test::AssetPath(clip);
  const size_t key = std::hash<std::string>{}(clip + vf_extra + pix_fmt) % 100000;
  const std::string out = dir / ("frame-" + std::to_string(key) + "-" + std::to_string(index) + ".jpg");
  RunFfmpeg("-i " + Quote(src) + " -vf " + Quote("select=eq(n\\," + std::to_string(index) + ")" + vf_extra) +
            " -frames:v 1 -c:v mjpeg -pix_fmt " + pix_fmt + " -q:v " + std::to_string(q) + " " + Quote(out));
  return ReadFile(out);
}

// FFmpeg's decode of an image file as raw `pix_fmt` bytes (planes back to back, no padding).
inline Bytes FfmpegDecodeRaw(const TempDir& dir, const std::string& image_path, const std::string& pix_fmt) {
  const std::string out = dir / "decoded.raw";
  RunFfmpeg("-i " + Quote(image_path) + " -f rawvideo -pix_fmt " + pix_fmt + " " + Quote(out));
  return ReadFile(out);
}

// Statistics of |a - b| over paired bytes.
struct Diff {
  int max = 0;
  double mean = 0;
  double over = 0;  // fraction of bytes with |a - b| > the threshold given to Compare
};
// Compares w × h samples of `bpp` bytes: plane a (rows a_pitch apart) with tightly packed b.
inline Diff Compare(const uint8_t* a, int a_pitch, const uint8_t* b, int w, int h, int bpp, int threshold = 255) {
  Diff d;
  double sum = 0;
  size_t over = 0;
  const size_t n = static_cast<size_t>(w) * h * bpp;
  for (int y = 0; y < h; ++y) {
    const uint8_t* ra = a + static_cast<ptrdiff_t>(y) * a_pitch;
    const uint8_t* rb = b + static_cast<size_t>(y) * w * bpp;
    for (int x = 0; x < w * bpp; ++x) {
      const int v = ra[x] > rb[x] ? ra[x] - rb[x] : rb[x] - ra[x];
      if (v > d.max) d.max = v;
      if (v > threshold) ++over;
      sum += v;
    }
  }
  d.mean = n ? sum / static_cast<double>(n) : 0;
  d.over = n ? static_cast<double>(over) / static_cast<double>(n) : 0;
  return d;
}

// Deterministic byte mutations for the "never a crash" loops: overwrite, insert, delete or truncate.
inline Bytes Mutate(const Bytes& in, std::mt19937& rng, size_t protect_prefix = 0) {
  Bytes b = in;
  std::uniform_int_distribution<int> kind(0, 3), byte(0, 255);
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && b.size() > protect_prefix + 1; ++e) {
    const size_t at = protect_prefix + rng() % (b.size() - protect_prefix);
    switch (kind(rng)) {
      case 0: b[at] = static_cast<uint8_t>(byte(rng)); break;
      case 1: b.insert(b.begin() + static_cast<ptrdiff_t>(at), static_cast<uint8_t>(byte(rng))); break;
      case 2: b.erase(b.begin() + static_cast<ptrdiff_t>(at)); break;
      default: b.resize(at); break;
    }
  }
  return b;
}

}  // namespace ct_push
