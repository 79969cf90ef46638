#include "core/preprocess/gray_thumbnail.h"

#include <algorithm>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
}

namespace camtrack::preprocess {
namespace {

// One component of a pixel format: where the byte of pixel (x, y) lies.
struct Comp {
  const uint8_t* base;
  int linesize, step, offset;
  const uint8_t* At(int x, int y) const { return base + ptrdiff_t(y) * linesize + ptrdiff_t(x) * step + offset; }
};

Comp CompOf(const AVFrame& f, const AVComponentDescriptor& c) {
  return Comp{f.data[c.plane], f.linesize[c.plane], c.step, c.offset};
}

}  // namespace

bool GrayThumbnail(const AVFrame& f, int w, int h, uint8_t* out) noexcept {
  if (w <= 0 || h <= 0 || f.width <= 0 || f.height <= 0) return false;
  const AVPixFmtDescriptor* d = av_pix_fmt_desc_get(AVPixelFormat(f.format));
  if (!d || (d->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_FLOAT |
                         AV_PIX_FMT_FLAG_BE)))
    return false;
  const bool rgb = (d->flags & AV_PIX_FMT_FLAG_RGB) != 0;
  const int ncomp = rgb ? 3 : 1;
  if (d->nb_components < ncomp) return false;
  for (int i = 0; i < ncomp; ++i)
    if (d->comp[i].depth != 8 || d->comp[i].shift != 0 || !f.data[d->comp[i].plane]) return false;
  // Planar RGB (gbrp) keeps R, G, B as components 0, 1, 2 too; the descriptor's order is R, G, B for every RGB format.
  const Comp c0 = CompOf(f, d->comp[0]);
  const Comp c1 = rgb ? CompOf(f, d->comp[1]) : c0;
  const Comp c2 = rgb ? CompOf(f, d->comp[2]) : c0;
  const int W = f.width, H = f.height;
  for (int cy = 0; cy < h; ++cy) {
    const int y0 = int(int64_t(cy) * H / h), y1 = std::max(y0 + 1, int(int64_t(cy + 1) * H / h));
    const int ty = std::min(kGrayThumbnailTaps, y1 - y0);
    for (int cx = 0; cx < w; ++cx) {
      const int x0 = int(int64_t(cx) * W / w), x1 = std::max(x0 + 1, int(int64_t(cx + 1) * W / w));
      const int tx = std::min(kGrayThumbnailTaps, x1 - x0);
      unsigned sum = 0;
      for (int j = 0; j < ty; ++j) {
        // Sample positions at the centres of ty (tx) equal parts of the block.
        const int y = std::min(H - 1, y0 + int((2 * j + 1) * (y1 - y0) / (2 * ty)));
        for (int i = 0; i < tx; ++i) {
          const int x = std::min(W - 1, x0 + int((2 * i + 1) * (x1 - x0) / (2 * tx)));
          if (rgb)
            sum += (77u * *c0.At(x, y) + 150u * *c1.At(x, y) + 29u * *c2.At(x, y)) >> 8;
          else
            sum += *c0.At(x, y);
        }
      }
      out[size_t(cy) * w + cx] = uint8_t(sum / unsigned(tx * ty));
    }
  }
  return true;
}

}  // namespace camtrack::preprocess
