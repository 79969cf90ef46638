#include "core/postprocess/output_parser.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/common/error.h"
#include "core/postprocess/nms.h"

namespace camtrack {
namespace postprocess {

namespace {

constexpr const char* kStage = "postprocess";
constexpr const char* kLayoutHint =
    "set model.layout explicitly to 'ultralytics' ([B,4+nc,N]), 'yolox' ([B,N,5+nc] raw head) or 'e2e' ([B,N,6])";

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

[[noreturn]] void ThrowInvalid(const std::string& what) {
  throw Error(ErrorCode::kInvalidArgument, kStage, what, "check the model section of the configuration");
}

inline float Clamp(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// A model that outputs NaN or infinite values (a broken export, an fp16 overflow, exp() of a huge raw size) gives no
// detection for them: such a box can be neither tracked nor serialised (JSON has no NaN), and NaN would pass Clamp.
inline bool Finite(const Detection& d) {
  return std::isfinite(d.score) && std::isfinite(d.box.x1) && std::isfinite(d.box.y1) && std::isfinite(d.box.x2) &&
         std::isfinite(d.box.y2);
}

}  // namespace

const char* LayoutName(OutputLayout layout) {
  switch (layout) {
    case OutputLayout::kUltralytics:
      return "ultralytics";
    case OutputLayout::kYoloxRaw:
      return "yolox";
    case OutputLayout::kEndToEnd:
      return "e2e";
  }
  return "unknown";
}

bool ParseLayoutName(const std::string& name, OutputLayout* layout) {
  if (name == "ultralytics") {
    *layout = OutputLayout::kUltralytics;
  } else if (name == "yolox") {
    *layout = OutputLayout::kYoloxRaw;
  } else if (name == "e2e") {
    *layout = OutputLayout::kEndToEnd;
  } else {
    return false;
  }
  return true;
}

void LayoutDims(OutputLayout layout, const std::vector<int64_t>& shape, int* num_classes, int* num_anchors) {
  // Dimensions past INT_MAX (a malformed model file) would be truncated by the int casts below and read as another,
  // plausible shape (found by native/fuzz/fuzz_output_parser.cpp: [1, 2^32+7, 40] read as 7 anchors).
  constexpr int64_t kMaxDim = std::numeric_limits<int>::max();
  const bool ok_rank = shape.size() == 3 && shape[1] > 0 && shape[2] > 0 && shape[1] <= kMaxDim && shape[2] <= kMaxDim;
  int nc = 0, na = 0;
  if (ok_rank) {
    switch (layout) {
      case OutputLayout::kUltralytics:
        nc = static_cast<int>(shape[1] - 4);
        na = static_cast<int>(shape[2]);
        break;
      case OutputLayout::kYoloxRaw:
        nc = static_cast<int>(shape[2] - 5);
        na = static_cast<int>(shape[1]);
        break;
      case OutputLayout::kEndToEnd:
        nc = 0;  // not in the shape; the caller keeps its own class count
        na = static_cast<int>(shape[1]);
        if (shape[2] != 6) nc = -1;
        break;
    }
  }
  if (!ok_rank || nc < 0 || (layout != OutputLayout::kEndToEnd && nc < 1)) {
    throw Error(ErrorCode::kModel, kStage,
                std::string("output shape ") + ShapeString(shape) + " does not fit layout '" + LayoutName(layout) +
                    "'",
                kLayoutHint);
  }
  if (num_classes) *num_classes = nc;
  if (num_anchors) *num_anchors = na;
}

size_t OutputElementsPerImage(const ParserConfig& c) {
  const size_t n = static_cast<size_t>(c.num_anchors > 0 ? c.num_anchors : 0);
  const size_t nc = static_cast<size_t>(c.num_classes > 0 ? c.num_classes : 0);
  switch (c.layout) {
    case OutputLayout::kUltralytics:
      return (4 + nc) * n;
    case OutputLayout::kYoloxRaw:
      return (5 + nc) * n;
    case OutputLayout::kEndToEnd:
      return 6 * n;
  }
  return 0;
}

OutputParser::OutputParser(const ParserConfig& config) : config_(config), elements_per_image_(0) {
  const ParserConfig& c = config_;
  if (c.input_width <= 0 || c.input_height <= 0) {
    ThrowInvalid("Expected positive model input size but received " + std::to_string(c.input_width) + "x" +
                 std::to_string(c.input_height));
  }
  if (c.num_classes < 1 && c.layout != OutputLayout::kEndToEnd) {
    ThrowInvalid("Expected positive integer for num_classes but received " + std::to_string(c.num_classes));
  }
  if (c.num_anchors < 1) {
    ThrowInvalid("Expected positive integer for num_anchors but received " + std::to_string(c.num_anchors));
  }
  if (!(c.score_threshold >= 0.f && c.score_threshold <= 1.f)) {
    ThrowInvalid("Expected a number in [0, 1] for score_threshold but received " + std::to_string(c.score_threshold));
  }
  if (!(c.nms_iou >= 0.f && c.nms_iou <= 1.f)) {
    ThrowInvalid("Expected a number in [0, 1] for nms_iou but received " + std::to_string(c.nms_iou));
  }
  if (c.max_detections < 1) {
    ThrowInvalid("Expected positive integer for max_detections but received " + std::to_string(c.max_detections));
  }
  elements_per_image_ = OutputElementsPerImage(c);

  const size_t n = static_cast<size_t>(c.num_anchors);
  if (c.layout == OutputLayout::kYoloxRaw) {
    if (c.strides.empty()) ThrowInvalid("YOLOX layout needs at least one stride");
    grid_.reserve(n);
    for (int s : c.strides) {
      if (s <= 0) ThrowInvalid("Expected positive strides but received " + std::to_string(s));
      const int gw = c.input_width / s, gh = c.input_height / s;
      for (int gy = 0; gy < gh; ++gy) {
        for (int gx = 0; gx < gw; ++gx) grid_.push_back({float(gx), float(gy), float(s)});
      }
    }
    if (grid_.size() != n) {
      throw Error(ErrorCode::kModel, kStage,
                  "YOLOX output has " + std::to_string(n) + " anchor rows but a " + std::to_string(c.input_width) +
                      "x" + std::to_string(c.input_height) + " input with the configured strides gives " +
                      std::to_string(grid_.size()),
                  "check model.inputWidth/inputHeight and model.strides, or set model.layout explicitly");
    }
  }
  if (c.layout == OutputLayout::kUltralytics) {
    best_score_.resize(n);
    best_class_.resize(n);
  }
  // Candidates above the threshold: usually few, at most one per anchor.
  candidates_.reserve(std::min<size_t>(n, 4096));
  nms_scratch_.reserve(std::min<size_t>(n, 4096));
}

void OutputParser::CollectUltralytics(const float* p, const LetterboxInfo& lb) {
  const size_t n = static_cast<size_t>(config_.num_anchors);
  const int nc = config_.num_classes;
  float* best = best_score_.data();
  int32_t* cls = best_class_.data();
  // Channel-major: walk each class row contiguously and keep the running max per anchor.
  const float* row0 = p + 4 * n;
  for (size_t i = 0; i < n; ++i) {
    best[i] = row0[i];
    cls[i] = 0;
  }
  for (int c = 1; c < nc; ++c) {
    const float* row = p + (4 + static_cast<size_t>(c)) * n;
    for (size_t i = 0; i < n; ++i) {
      if (row[i] > best[i]) {
        best[i] = row[i];
        cls[i] = c;
      }
    }
  }
  const float thr = config_.score_threshold;
  const float sc = lb.scale;
  for (size_t i = 0; i < n; ++i) {
    if (!(best[i] >= thr)) continue;
    const float cx = p[i], cy = p[n + i], w = p[2 * n + i], h = p[3 * n + i];
    Detection d;
    d.box.x1 = (cx - 0.5f * w - lb.pad_x) / sc;
    d.box.y1 = (cy - 0.5f * h - lb.pad_y) / sc;
    d.box.x2 = (cx + 0.5f * w - lb.pad_x) / sc;
    d.box.y2 = (cy + 0.5f * h - lb.pad_y) / sc;
    d.score = best[i];
    d.class_id = cls[i];
    candidates_.push_back(d);
  }
}

void OutputParser::CollectYolox(const float* p, const LetterboxInfo& lb) {
  const size_t n = static_cast<size_t>(config_.num_anchors);
  const int nc = config_.num_classes;
  const size_t row_len = 5 + static_cast<size_t>(nc);
  const float thr = config_.score_threshold;
  const float sc = lb.scale;
  for (size_t i = 0; i < n; ++i) {
    const float* r = p + i * row_len;
    const float obj = r[4];
    if (!(obj >= thr)) continue;  // class probs are <= 1, so obj * cls < thr as well
    int best_c = 0;
    float best = r[5];
    for (int c = 1; c < nc; ++c) {
      if (r[5 + c] > best) {
        best = r[5 + c];
        best_c = c;
      }
    }
    const float score = obj * best;
    if (!(score >= thr)) continue;
    const GridPoint& g = grid_[i];
    const float cx = (r[0] + g.gx) * g.stride;
    const float cy = (r[1] + g.gy) * g.stride;
    const float w = std::exp(r[2]) * g.stride;
    const float h = std::exp(r[3]) * g.stride;
    Detection d;
    d.box.x1 = (cx - 0.5f * w - lb.pad_x) / sc;
    d.box.y1 = (cy - 0.5f * h - lb.pad_y) / sc;
    d.box.x2 = (cx + 0.5f * w - lb.pad_x) / sc;
    d.box.y2 = (cy + 0.5f * h - lb.pad_y) / sc;
    d.score = score;
    d.class_id = best_c;
    candidates_.push_back(d);
  }
}

void OutputParser::CollectEndToEnd(const float* p, const LetterboxInfo& lb) {
  const size_t n = static_cast<size_t>(config_.num_anchors);
  const float thr = config_.score_threshold;
  const float sc = lb.scale;
  for (size_t i = 0; i < n; ++i) {
    const float* r = p + i * 6;
    if (!(r[4] >= thr) || !std::isfinite(r[5])) continue;  // lround of a non-finite class is unspecified
    Detection d;
    d.box.x1 = (r[0] - lb.pad_x) / sc;
    d.box.y1 = (r[1] - lb.pad_y) / sc;
    d.box.x2 = (r[2] - lb.pad_x) / sc;
    d.box.y2 = (r[3] - lb.pad_y) / sc;
    d.score = r[4];
    d.class_id = static_cast<int32_t>(std::lround(r[5]));
    candidates_.push_back(d);
  }
}

void OutputParser::Parse(const float* output, const LetterboxInfo& lb, std::vector<Detection>& out) {
  out.clear();
  if (output == nullptr) ThrowInvalid("OutputParser::Parse got a null output pointer");
  if (!(lb.scale > 0.f) || !std::isfinite(lb.scale)) {
    ThrowInvalid("Expected positive letterbox scale but received " + std::to_string(lb.scale));
  }
  candidates_.clear();
  switch (config_.layout) {
    case OutputLayout::kUltralytics:
      CollectUltralytics(output, lb);
      break;
    case OutputLayout::kYoloxRaw:
      CollectYolox(output, lb);
      break;
    case OutputLayout::kEndToEnd:
      CollectEndToEnd(output, lb);
      break;
  }
  candidates_.erase(std::remove_if(candidates_.begin(), candidates_.end(), [](const Detection& d) { return !Finite(d); }),
                    candidates_.end());
  // NMS on unclipped boxes (as Ultralytics and YOLOX do, in input space; IoU is invariant to the uniform
  // un-letterbox transform), then clip the survivors to the source frame.
  if (config_.layout != OutputLayout::kEndToEnd || config_.nms_for_end_to_end) {
    Nms(candidates_, config_.nms_iou, config_.class_agnostic_nms, config_.max_detections, nms_scratch_);
  } else {
    SortByScoreAndTruncate(candidates_, config_.max_detections);
  }
  const float w = static_cast<float>(lb.src_width), h = static_cast<float>(lb.src_height);
  if (lb.src_width <= 0 || lb.src_height <= 0) {  // source size unknown: nothing to clip against
    out.insert(out.end(), candidates_.begin(), candidates_.end());
    return;
  }
  for (Detection d : candidates_) {
    d.box.x1 = Clamp(d.box.x1, 0.f, w);
    d.box.y1 = Clamp(d.box.y1, 0.f, h);
    d.box.x2 = Clamp(d.box.x2, 0.f, w);
    d.box.y2 = Clamp(d.box.y2, 0.f, h);
    out.push_back(d);
  }
}

}  // namespace postprocess
}  // namespace camtrack
