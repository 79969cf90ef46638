#pragma once
// camtrack::postprocess — model output tensors → detections in source-frame pixels (one parser per layout), on the
// CPU. Layouts (see ../shared/assets/SOURCES.md for the models that use them):
//   kUltralytics  [B, 4+nc, N]  channel-major: rows cx, cy, w, h (input pixels), then nc class probabilities
//                               (already sigmoided; no objectness). Score = max class prob. NMS needed.
//   kYoloxRaw     [B, N, 5+nc]  raw YOLOX head: dx, dy, dw, dh, obj, cls... (obj/cls already sigmoided). Anchor rows
//                               are stride 8, 16, 32 grids, each row-major (y outer, x inner). Decode:
//                               cx = (dx + gx) * s, cy = (dy + gy) * s, w = exp(dw) * s, h = exp(dh) * s.
//                               Score = obj * max cls. NMS needed.
//   kEndToEnd     [B, N, 6]     x1, y1, x2, y2, score, class (float, rounded). Already NMS-ed by the model.
// The free functions below are pure and thread-safe. CPU only; the output tensor is host memory owned by the caller.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/geometry.h"

namespace camtrack {
namespace postprocess {

enum class OutputLayout {
  kUltralytics,  // [B, 4+nc, N]
  kYoloxRaw,     // [B, N, 5+nc]
  kEndToEnd,     // [B, N, 6]
};

// "ultralytics", "yolox", "e2e".
const char* LayoutName(OutputLayout layout);
// Accepts the names LayoutName returns; returns false (and leaves *layout alone) for anything else.
bool ParseLayoutName(const std::string& name, OutputLayout* layout);

// The layout is decided in TypeScript from the model file (src/models/resolve.ts, detectLayout) and passed in by
// name: one implementation, next to the ONNX reader that knows the shapes.

// Number of classes and of anchor rows that `layout` implies for a rank-3 output shape. Throws Error(kModel) when
// the shape cannot be that layout.
void LayoutDims(OutputLayout layout, const std::vector<int64_t>& output_shape, int* num_classes, int* num_anchors);

// Plain value type; validated by OutputParser's constructor.
struct ParserConfig {
  OutputLayout layout = OutputLayout::kUltralytics;
  int input_width = 640;   // model input, pixels
  int input_height = 640;
  int num_classes = 80;
  int num_anchors = 8400;              // N: anchor columns (Ultralytics), anchor rows (YOLOX), rows (end-to-end)
  // The detection options (PipelineConfig.detection): no defaults here, camtrack's are in src/config/schema.ts.
  float score_threshold = 0;           // keep score >= this
  float nms_iou = 0;                   // suppress IoU > this
  bool class_agnostic_nms = false;     // false: only same-class boxes suppress each other
  bool nms_for_end_to_end = false;     // also run NMS on end-to-end outputs (removes the rare duplicates)
  int max_detections = 0;              // per image, after NMS
  std::vector<int> strides = {8, 16, 32};  // YOLOX grid strides, in anchor-row order
};

// Elements of one image's slice of the output tensor for `config` (the batch stride).
size_t OutputElementsPerImage(const ParserConfig& config);

// Parses one image's output. Owns its scratch buffers (reserved in the constructor, reused afterwards), so Parse()
// does not allocate in steady state; `out` only needs capacity for max_detections to stay allocation-free.
// Thread-safety: none; one parser per thread (it is cheap). The config is immutable after construction.
class OutputParser {
 public:
  // Validates the config (throws Error(kInvalidArgument/kModel, "postprocess")) and precomputes the YOLOX grid.
  explicit OutputParser(const ParserConfig& config);

  // `output_one_image` points at OutputElementsPerImage(config) floats: one image's slice of the batch output
  // (the caller offsets by batch index). `lb` says how that image was letterboxed. `out` is cleared and filled
  // with at most max_detections detections, descending score, boxes in source pixels:
  // v_src = (v_in - pad) / scale, clipped to [0, src_width] x [0, src_height] (not clipped when the source size
  // in `lb` is not positive). Throws Error(kInvalidArgument) for a null pointer or a non-positive scale.
  void Parse(const float* output_one_image, const LetterboxInfo& lb, std::vector<Detection>& out);

  const ParserConfig& config() const { return config_; }
  size_t elements_per_image() const { return elements_per_image_; }

 private:
  struct GridPoint {
    float gx, gy, stride;
  };
  void CollectUltralytics(const float* p, const LetterboxInfo& lb);
  void CollectYolox(const float* p, const LetterboxInfo& lb);
  void CollectEndToEnd(const float* p, const LetterboxInfo& lb);

  ParserConfig config_;
  size_t elements_per_image_;
  std::vector<GridPoint> grid_;       // YOLOX: one per anchor row
  std::vector<Detection> candidates_;  // above threshold, unclipped source coordinates
  std::vector<float> best_score_;     // Ultralytics: per-anchor max class prob
  std::vector<int32_t> best_class_;
  std::vector<int> nms_scratch_;
};

}  // namespace postprocess
}  // namespace camtrack
