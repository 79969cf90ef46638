#include "core/batch/motion.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace camtrack::batch {

void MotionDetector::ThumbSize(int src_w, int src_h, int* w, int* h) {
  src_w = std::max(src_w, 1);
  src_h = std::max(src_h, 1);
  int tw = std::min(kThumbWidth, src_w);
  int th = int(std::lround(double(tw) * src_h / src_w));
  if (th > kThumbHeightMax) {
    th = kThumbHeightMax;
    tw = int(std::lround(double(th) * src_w / src_h));
  }
  *w = std::clamp(tw, 1, src_w);
  *h = std::clamp(th, 1, src_h);
}

uint8_t* MotionDetector::Prepare(int src_w, int src_h) {
  if (src_w != src_w_ || src_h != src_h_) {
    src_w_ = src_w;
    src_h_ = src_h;
    ThumbSize(src_w, src_h, &w_, &h_);
    const size_t n = size_t(w_) * size_t(h_);
    thumb_.assign(n, 0);
    background_.assign(n, 0.f);
    masked_.assign(n, 0);
    have_background_ = false;
    mask_version_ = UINT64_MAX;  // the masks map onto the new cells
  }
  return thumb_.data();
}

void MotionDetector::RasteriseMasks(const MotionConfig& config) {
  unmasked_ = 0;
  const double cw = double(src_w_) / w_, ch = double(src_h_) / h_;
  for (int y = 0; y < h_; ++y) {
    for (int x = 0; x < w_; ++x) {
      const postprocess::Point centre{float((x + 0.5) * cw), float((y + 0.5) * ch)};
      bool m = false;
      for (const auto& poly : config.masks)
        if (poly.size() >= 3 && postprocess::PointInPolygon(centre, poly.data(), poly.size())) {
          m = true;
          break;
        }
      masked_[size_t(y) * w_ + x] = m ? 1 : 0;
      if (!m) ++unmasked_;
    }
  }
}

MotionResult MotionDetector::Measure(const MotionConfig& config, uint64_t config_version) {
  MotionResult r;
  if (w_ == 0) return r;
  if (mask_version_ != config_version) {
    RasteriseMasks(config);
    mask_version_ = config_version;
  }
  const size_t n = thumb_.size();
  if (!have_background_) {
    for (size_t i = 0; i < n; ++i) background_[i] = float(thumb_[i]);
    have_background_ = true;
    r.motion = true;
    return r;
  }
  const float threshold = float(config.threshold);
  int changed = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = float(thumb_[i]);
    float& bg = background_[i];
    if (!masked_[i] && std::fabs(v - bg) > threshold) ++changed;
    bg += kBackgroundAlpha * (v - bg);
  }
  r.changed_cells = changed;
  r.changed_fraction = unmasked_ > 0 ? double(changed) / unmasked_ : 0;
  r.motion = changed > 0 && r.changed_fraction >= config.min_area;
  return r;
}

}  // namespace camtrack::batch
