// Snapshots (core/snapshot): the drawer, the JPEG encoder and the slot's state machine. Each JPEG is decoded back
// with the pushed-frame decoder (decode::JpegDecoder, rgb24 output) and checked for its size and the drawn pixels.
extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
}

#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/decode/jpeg_decoder.h"
#include "core/snapshot/draw.h"
#include "core/snapshot/jpeg_encoder.h"
#include "core/snapshot/snapshot_slot.h"
#include "test_main.h"

namespace {

using camtrack::decode::JpegDecoder;
using camtrack::decode::JpegDecoderOptions;
using camtrack::decode::JpegOutput;
using camtrack::decode::PictureBuffer;
using namespace camtrack::snapshot;

JpegDecoder Rgb24Decoder() {
  JpegDecoderOptions o;
  o.max_pixels = camtrack::decode::kDefaultMaxPixels;
  o.keep_damaged = false;
  o.apply_exif_orientation = true;
  o.output = JpegOutput::kRgb24;
  return JpegDecoder(o);
}

// The decoded picture's pixel (x, y) as RGB.
Rgb PixelAt(const AVFrame& f, int x, int y) {
  const uint8_t* p = f.data[0] + size_t(y) * f.linesize[0] + size_t(x) * 3;
  return Rgb{p[0], p[1], p[2]};
}

// JPEG's 4:2:0 chroma blurs a thin coloured line into the grey around it: a drawn pixel is nearer the line's colour
// than the frame's grey, and far from that grey.
int Dist(Rgb a, Rgb b) { return std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b); }
bool Drawn(Rgb px, Rgb colour) {
  const Rgb grey{128, 128, 128};
  return Dist(px, colour) < Dist(px, grey) && Dist(px, grey) > 60;
}

bool Near(Rgb a, Rgb b, int tol) {
  return std::abs(a.r - b.r) <= tol && std::abs(a.g - b.g) <= tol && std::abs(a.b - b.b) <= tol;
}

// A mid-grey yuv420p frame (full range), as decoders hand them out.
AVFrame* GreyFrame(int w, int h) {
  AVFrame* f = av_frame_alloc();
  f->format = AV_PIX_FMT_YUVJ420P;
  f->width = w;
  f->height = h;
  CT_EXPECT(av_frame_get_buffer(f, 0) == 0);
  for (int y = 0; y < h; ++y) std::memset(f->data[0] + y * f->linesize[0], 128, w);
  for (int p = 1; p <= 2; ++p)
    for (int y = 0; y < (h + 1) / 2; ++y) std::memset(f->data[p] + y * f->linesize[p], 128, (w + 1) / 2);
  return f;
}

CT_TEST(snapshot_draw_rect_and_number_stay_inside_the_picture) {
  std::vector<uint8_t> px(40 * 30 * 3, 0);
  const RgbView img{px.data(), 40, 30, 40 * 3};
  DrawRect(img, 5, 5, 20, 15, 2, Rgb{255, 0, 0});
  const auto at = [&](int x, int y) { return Rgb{px[(y * 40 + x) * 3], px[(y * 40 + x) * 3 + 1], px[(y * 40 + x) * 3 + 2]}; };
  CT_EXPECT(at(5, 5).r == 255 && at(6, 10).r == 255 && at(20, 15).r == 255 && at(19, 10).r == 255);
  CT_EXPECT(at(10, 10).r == 0);  // inside the outline: untouched
  CT_EXPECT(at(4, 5).r == 0 && at(21, 10).r == 0);
  // Clipped at every edge: no write outside the buffer (ASan would see it), the visible part drawn.
  DrawRect(img, -2, -2, 41, 31, 3, Rgb{0, 255, 0});
  DrawRect(img, -100, -100, -50, -50, 3, Rgb{0, 0, 255});  // entirely outside: nothing
  CT_EXPECT(at(0, 0).g == 255 && at(39, 29).g == 255);
  // "42" at scale 2: a 18x14 label; the digit 4's first column (rows 1-3 of the glyph) is foreground.
  CT_EXPECT(LabelWidth(42, 2) == 18 && LabelHeight(2) == 14);
  const int w = DrawNumber(img, 10, 8, 42, 2, Rgb{255, 255, 255}, Rgb{0, 0, 255});
  CT_EXPECT(w == 18);
  CT_EXPECT(at(10, 8).b == 255 && at(10, 8).r == 0);      // label background
  CT_EXPECT(at(12, 10).r == 255 && at(12, 10).b == 255);  // glyph pixel (white)
  DrawNumber(img, 35, 25, 1234567, 3, Rgb{1, 2, 3}, Rgb{4, 5, 6});  // mostly off-picture: clipped
}

CT_TEST(snapshot_encoder_round_trips_through_the_decoder_and_reuses_its_buffer) {
  const int w = 64, h = 48;
  std::vector<uint8_t> px(w * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &px[(y * w + x) * 3];
      p[0] = x < w / 2 ? 250 : 10;
      p[1] = 40;
      p[2] = y < h / 2 ? 10 : 250;
    }
  JpegEncoder enc;
  enc.Encode(px.data(), w, h, w * 3, 90);
  const uint8_t* first = enc.data();
  CT_EXPECT(enc.size() > 100 && enc.data()[0] == 0xFF && enc.data()[1] == 0xD8);
  JpegDecoder dec = Rgb24Decoder();
  PictureBuffer pic;
  dec.Decode(enc.data(), enc.size(), nullptr, &pic);
  CT_EXPECT(pic.frame().width == w && pic.frame().height == h);
  CT_EXPECT(Near(PixelAt(pic.frame(), 8, 8), Rgb{250, 40, 10}, 12));
  CT_EXPECT(Near(PixelAt(pic.frame(), 56, 40), Rgb{10, 40, 250}, 12));
  enc.Encode(px.data(), w, h / 2, w * 3, 50);  // smaller: same buffer
  CT_EXPECT(enc.data() == first);
  bool threw = false;
  try {
    enc.Encode(nullptr, w, h, w * 3, 90);
  } catch (const camtrack::Error& e) {
    threw = e.code() == camtrack::ErrorCode::kInvalidArgument;
  }
  CT_EXPECT(threw);
}

CT_TEST(snapshot_slot_draws_the_frames_track_and_id_and_rearms_on_a_dropped_frame) {
  AVFrame* frame = GreyFrame(320, 240);
  SnapshotSlot slot;
  CT_EXPECT(!slot.requested());
  CT_EXPECT(slot.Request(/*boxes=*/true, 90));
  CT_EXPECT(!slot.Request(false, 90));  // one at a time
  CT_EXPECT(!slot.Capture(frame, 320, 240, 7, 280));  // boxes wanted: waits for frame 7's result
  CT_EXPECT(slot.captured());
  camtrack::track::TrackedObject t;
  t.track_id = 3;
  t.box = camtrack::Box{40, 60, 200, 180};
  CT_EXPECT(!slot.OnResult(6, nullptr, 0, &t, 1));  // an earlier frame's result: ignored
  CT_EXPECT(slot.captured());
  CT_EXPECT(!slot.OnResult(8, nullptr, 0, &t, 1));  // frame 7 was dropped: the request is re-armed
  CT_EXPECT(slot.requested());
  CT_EXPECT(!slot.Capture(frame, 320, 240, 9, 360));
  CT_EXPECT(slot.OnResult(9, nullptr, 0, &t, 1));
  SnapshotView v;
  CT_EXPECT(slot.Ready(&v));
  CT_EXPECT(v.jpeg != nullptr && v.error.empty());
  CT_EXPECT(v.frame_index == 9 && v.pts_ms == 360 && v.width == 320 && v.height == 240 && v.num_boxes == 1);
  JpegDecoder dec = Rgb24Decoder();
  PictureBuffer pic;
  dec.Decode(v.jpeg, v.size, nullptr, &pic);
  CT_EXPECT(pic.frame().width == 320 && pic.frame().height == 240);
  const Rgb c = ColorFor(3);
  CT_EXPECT(Drawn(PixelAt(pic.frame(), 120, 180), c));  // the box's bottom edge, in the track's colour
  CT_EXPECT(Drawn(PixelAt(pic.frame(), 40, 120), c));   // its left edge
  CT_EXPECT(Near(PixelAt(pic.frame(), 120, 120), Rgb{128, 128, 128}, 12));  // inside: the frame's grey
  // The id label sits above the box's top-left corner (background in the track's colour).
  CT_EXPECT(Drawn(PixelAt(pic.frame(), 41, 60 - LabelHeight(2) + 1), c));
  CT_EXPECT(!slot.Request(false, 90));  // not yet taken
  slot.Release();
  // Without boxes the frame is encoded on capture; no result needed.
  CT_EXPECT(slot.Request(false, 75));
  CT_EXPECT(slot.Capture(frame, 320, 240, 10, 400));
  CT_EXPECT(slot.Ready(&v) && v.jpeg && !v.boxes && v.num_boxes == 0);
  dec.Decode(v.jpeg, v.size, nullptr, &pic);
  CT_EXPECT(Near(PixelAt(pic.frame(), 120, 180), Rgb{128, 128, 128}, 12));
  slot.Release();
  // A frame without a CPU picture (NVDEC): an error, not a crash; a withdrawn request takes no frame.
  CT_EXPECT(slot.Request(false, 75));
  CT_EXPECT(slot.Capture(nullptr, 320, 240, 11, 440));
  CT_EXPECT(slot.Ready(&v) && v.jpeg == nullptr && !v.error.empty());
  slot.Release();
  CT_EXPECT(slot.Request(true, 75) && slot.Cancel() && !slot.requested());
  CT_EXPECT(!slot.Capture(frame, 320, 240, 12, 480) && !slot.Ready(&v));
  av_frame_free(&frame);
}

}  // namespace
