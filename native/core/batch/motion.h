#pragma once
// Motion measure for motion gating (docs/scheduling.md): a cheap per-stream test of whether anything moved, on a
// small grayscale copy ("thumbnail") of each decoded frame. Pure C++ on a plain 8-bit buffer; the thumbnail is made
// from the decoded frame by preprocess::GrayThumbnail (preprocess/gray_thumbnail.h).
//
// The measure, per frame (thumbnail of at most kThumbWidth x kThumbHeightMax cells, each cell the mean luma of its
// block of the source frame):
//   1. diff(c) = |luma(c) - background(c)| for every cell c not covered by a mask;
//   2. a cell is "changed" when diff(c) > threshold (0..255 luma levels);
//   3. changed_fraction = changed cells / unmasked cells;
//   4. motion when changed_fraction >= min_area and at least one cell changed;
//   5. background(c) += kBackgroundAlpha · (luma(c) - background(c)) — a running average, so an object that stops
//      becomes background after about ln(diff / threshold) / kBackgroundAlpha frames (≈ 20 frames for diff 200,
//      threshold 25) and stops counting as motion.
// The first frame (and the first after a size change or Reset()) only initialises the background; it counts as
// motion (the schedule infers a stream's first frame anyway).
//
// Masks are polygons in source-frame pixels (the detection filter's convention); a cell whose centre lies in one is
// ignored. They are rasterised into a per-cell table when the geometry or the masks change, never per frame.
//
// Threading and cost: one instance per stream, used by its source thread only. The thumbnail, the background and
// the mask table are buffers owned here, sized at the first frame of a geometry (at most kThumbWidth ·
// kThumbHeightMax cells each); a frame of the same geometry allocates nothing. Measure() is O(cells).
#include <cstdint>
#include <vector>

#include "core/postprocess/detection_filter.h"

namespace camtrack::batch {

struct MotionConfig {
  bool enabled = false;
  double threshold = 0;  // luma levels (0..255) a cell must differ from its background to count as changed
  double min_area = 0;   // fraction (0..1) of the unmasked cells that must change for the frame to have motion
  std::vector<postprocess::Polygon> masks;  // source-frame pixels: motion inside them is ignored
  double max_skip_seconds = 0;  // a frame is inferred at least this often (stream time) even without motion
};

struct MotionResult {
  bool motion = false;
  double changed_fraction = 0;  // of the unmasked cells (0 when every cell is masked)
  int changed_cells = 0;
};

class MotionDetector {
 public:
  static constexpr int kThumbWidth = 64;       // cells across (fewer for a frame narrower than that)
  static constexpr int kThumbHeightMax = 64;   // cells down at most (tall frames)
  static constexpr float kBackgroundAlpha = 0.1f;

  // The thumbnail size for a source frame of `src_w` x `src_h` (keeps the aspect ratio; each side >= 1).
  static void ThumbSize(int src_w, int src_h, int* w, int* h);

  // The buffer to fill with the thumbnail of a `src_w` x `src_h` frame (ThumbSize(); width() bytes per row).
  // Re-sized (allocates) only when the geometry changes, which also restarts the background.
  uint8_t* Prepare(int src_w, int src_h);
  int width() const { return w_; }
  int height() const { return h_; }

  // Measures the thumbnail filled after Prepare() against the background and updates the background.
  // `config` is the stream's current one (its masks are re-rasterised when `config_version` changes).
  MotionResult Measure(const MotionConfig& config, uint64_t config_version);

  // Forgets the background: the next frame starts it again (a new connection).
  void Reset() { have_background_ = false; }

 private:
  void RasteriseMasks(const MotionConfig& config);

  int src_w_ = 0, src_h_ = 0, w_ = 0, h_ = 0;
  std::vector<uint8_t> thumb_;
  std::vector<float> background_;
  std::vector<uint8_t> masked_;  // 1: the cell is ignored
  int unmasked_ = 0;
  bool have_background_ = false;
  uint64_t mask_version_ = UINT64_MAX;
};

}  // namespace camtrack::batch
