// JpegDecoder (see jpeg_decoder.h): TurboJPEG 2.x API (Debian 12 ships libjpeg-turbo 2.1.5; the tj3* API of 3.0 is
// not available there).
#include "decode/jpeg_decoder.h"

#include <turbojpeg.h>

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libavutil/pixfmt.h>
}

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "common/error.h"
#include "decode/exif_orientation.h"

namespace camtrack::decode {
namespace {

constexpr int kRowAlign = 32;  // row pitch alignment of the pictures (SIMD-friendly for the letterboxer)

size_t AlignUp(size_t v, size_t a) { return (v + a - 1) / a * a; }

// Which of 1/2, 1/4, 1/8 this libjpeg-turbo offers (all of them since 1.2; checked rather than assumed).
struct ScaleSet {
  bool has[9] = {};
  ScaleSet() {
    has[1] = true;
    int n = 0;
    const tjscalingfactor* f = tjGetScalingFactors(&n);
    for (int i = 0; f && i < n; ++i) {
      if (f[i].num == 1 && (f[i].denom == 2 || f[i].denom == 4 || f[i].denom == 8)) has[f[i].denom] = true;
    }
  }
};
const ScaleSet& Scales() {
  static const ScaleSet s;  // thread-safe initialisation
  return s;
}

int Scaled(int dim, int denom) { return (dim + denom - 1) / denom; }  // TJSCALED with 1/denom

std::string Mp(int64_t pixels) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MP", static_cast<double>(pixels) / 1e6);
  return buf;
}

// True when the JPEG's last marker is EOI (FF D9), ignoring zero bytes some writers append after it.
bool EndsWithEoi(const uint8_t* data, size_t size) {
  while (size > 0 && data[size - 1] == 0) --size;
  return size >= 2 && data[size - 2] == 0xff && data[size - 1] == 0xd9;
}

bool Contains(const char* haystack, const char* needle) { return haystack && std::strstr(haystack, needle); }

}  // namespace

struct JpegDecoder::Impl {
  tjhandle tj = nullptr;
  bool used = false;  // the handle has read a frame's header or pixels (it may hold that frame's tables): see Renew
  uint8_t* scratch = nullptr;  // av_malloc'ed: the stored-orientation picture when it must be turned upright
  size_t scratch_capacity = 0;

  ~Impl() {
    if (tj) tjDestroy(tj);
    av_free(scratch);
  }

  uint8_t* Scratch(size_t bytes) {
    if (bytes > scratch_capacity) {
      av_free(scratch);
      const size_t want = (bytes + 0xffff) & ~static_cast<size_t>(0xffff);
      scratch = static_cast<uint8_t*>(av_malloc(want));
      scratch_capacity = scratch ? want : 0;
      if (!scratch) throw Error(ErrorCode::kInternal, "decode", "out of memory for a JPEG rotation buffer");
    }
    return scratch;
  }

  // A usable handle (re-made after a failure; see Throw). Throws Error(kInternal) when libjpeg-turbo cannot.
  tjhandle Handle() {
    if (!tj) tj = tjInitDecompress();
    if (!tj)
      throw Error(ErrorCode::kInternal, "decode", std::string("tjInitDecompress failed: ") + tjGetErrorStr2(nullptr));
    return tj;
  }

  // A handle with no tables from an earlier frame, for the next decode. libjpeg keeps quantization and Huffman tables
  // in its decompressor from one image to the next (abbreviated datastreams) and TurboJPEG 2.1 has no call that
  // clears them, so a reused handle decoded a frame that lacks a table with the previous frame's: a frame without
  // quantization tables gave a wrong picture instead of an error, and a Motion-JPEG frame without Huffman tables
  // (the standard ones implied) was read with the previous frame's custom tables. Each frame's outcome must depend on
  // its bytes only, so a handle that has read a frame is replaced before the next one. The cost is one small
  // allocation per frame (tjInitDecompress + tjDestroy: 0.1-0.3 µs measured on this 2-core machine, against
  // milliseconds of decoding; libjpeg allocates its per-image buffers on every frame anyway).
  // Tests: native/tests/jpeg_decoder_history_test.cpp.
  void Renew() {
    if (used && tj) {
      tjDestroy(tj);
      tj = nullptr;
    }
    used = false;
    Handle();
  }

  // The FrameError for a failed TurboJPEG call on `data`: the libjpeg message, classified. The handle is replaced
  // first: TurboJPEG 2.1's tjDecompressHeader3() returns from libjpeg's error longjmp without aborting the
  // decompressor, which stays inside the old header (the next good frame then fails with "Bogus marker length").
  // A fresh handle costs an allocation, on bad frames only.
  [[noreturn]] void Throw(const uint8_t* data, size_t size, const char* when) {
    const char* msg_ptr = tjGetErrorStr2(tj);
    const int code = tjGetErrorCode(tj);
    const std::string text = std::string(msg_ptr ? msg_ptr : "unknown TurboJPEG error");
    tjDestroy(tj);
    tj = tjInitDecompress();  // null when out of memory: Handle() retries (and reports) on the next frame
    used = false;
    const char* msg = text.c_str();
    if (Contains(msg, "Unsupported JPEG data precision") || Contains(msg, "Unsupported color conversion") ||
        Contains(msg, "Could not determine subsampling") || Contains(msg, "Unsupported JPEG process")) {
      throw FrameError(FrameFault::kUnsupported, std::string("unsupported JPEG (") + when + "): " + text,
                       "send 8-bit baseline or progressive YCbCr or greyscale JPEG", code);
    }
    if (!EndsWithEoi(data, size)) {
      throw FrameError(FrameFault::kTruncated,
                       std::string("truncated JPEG (") + when + ", " + std::to_string(size) +
                           " bytes, no end-of-image marker): " + text,
                       "push one complete JPEG per frame", code);
    }
    throw FrameError(FrameFault::kCorrupt, std::string("corrupt JPEG (") + when + "): " + text,
                     "the frame's bytes are damaged; check the sender", code);
  }
};

JpegDecoder::JpegDecoder(JpegDecoderOptions options) : options_(options), impl_(std::make_unique<Impl>()) {
  if (options_.max_pixels <= 0)
    throw Error(ErrorCode::kInvalidArgument, "decode",
                "JPEG max_pixels must be positive, got " + std::to_string(options_.max_pixels));
  impl_->Handle();
}

JpegDecoder::~JpegDecoder() = default;
JpegDecoder::JpegDecoder(JpegDecoder&&) noexcept = default;
JpegDecoder& JpegDecoder::operator=(JpegDecoder&&) noexcept = default;

JpegScale JpegDecoder::ChooseScale(int width, int height, const preprocess::ModelInputSpec& spec) {
  const preprocess::ResizedSize target = preprocess::ComputeResizedSize(width, height, spec);  // validates
  JpegScale best{1, width, height};
  for (int denom : {2, 4, 8}) {
    if (!Scales().has[denom]) continue;
    const int w = Scaled(width, denom), h = Scaled(height, denom);
    if (w >= target.width && h >= target.height) best = JpegScale{denom, w, h};
  }
  return best;
}

JpegHeader JpegDecoder::ReadHeader(const uint8_t* data, size_t size) {
  if (!impl_) throw Error(ErrorCode::kInvalidState, "decode", "JpegDecoder used after move");
  if (!data || size == 0)
    throw FrameError(FrameFault::kEmpty, "empty JPEG frame (0 bytes)", "push the bytes of one complete JPEG per frame");
  const SniffedCodec sniffed = SniffCodec(data, size);
  if (sniffed == SniffedCodec::kPng || sniffed == SniffedCodec::kAnnexB) {
    throw FrameError(FrameFault::kWrongCodec,
                     std::string(SniffedCodecName(sniffed)) + " data where JPEG was declared",
                     "declare the stream's codec as the one its frames are in");
  }
  if (sniffed != SniffedCodec::kJpeg) {
    char head[16];
    std::snprintf(head, sizeof head, "%02X %02X %02X", data[0], size > 1 ? data[1] : 0, size > 2 ? data[2] : 0);
    throw FrameError(FrameFault::kCorrupt,
                     std::string("not a JPEG: the frame starts with ") + head + ", not FF D8 FF (" +
                         std::to_string(size) + " bytes)",
                     "push one complete JPEG per frame");
  }
  JpegHeader h;
  impl_->used = true;
  if (tjDecompressHeader3(impl_->Handle(), data, static_cast<unsigned long>(size), &h.width, &h.height, &h.subsampling,
                          &h.colorspace) != 0) {
    impl_->Throw(data, size, "header");
  }
  if (h.width <= 0 || h.height <= 0) {
    // TurboJPEG 2.1 reports a header that ends before its frame header as success with a 0 × 0 size.
    if (!EndsWithEoi(data, size))
      throw FrameError(FrameFault::kTruncated,
                       "truncated JPEG: " + std::to_string(size) + " bytes, no frame header",
                       "push one complete JPEG per frame");
    throw FrameError(FrameFault::kCorrupt,
                     "corrupt JPEG: size " + std::to_string(h.width) + "x" + std::to_string(h.height));
  }
  const int64_t pixels = static_cast<int64_t>(h.width) * h.height;
  if (pixels > options_.max_pixels) {
    throw FrameError(FrameFault::kTooLarge,
                     "JPEG frame is " + std::to_string(h.width) + "x" + std::to_string(h.height) + " (" + Mp(pixels) +
                         "), over the limit of " + Mp(options_.max_pixels) + " (" +
                         std::to_string(options_.max_pixels) + " pixels)",
                     "raise the stream's pixel limit or send smaller frames");
  }
  h.orientation = options_.apply_exif_orientation ? ReadJpegExifOrientation(data, size) : 1;
  const bool swap = OrientationSwapsAxes(h.orientation);
  h.display_width = swap ? h.height : h.width;
  h.display_height = swap ? h.width : h.height;
  return h;
}

void JpegDecoder::Decode(const uint8_t* data, size_t size, const preprocess::ModelInputSpec* spec,
                         PictureBuffer* out) {
  if (!out) throw Error(ErrorCode::kInvalidArgument, "decode", "JpegDecoder::Decode: null PictureBuffer");
  out->Clear();
  if (!impl_) throw Error(ErrorCode::kInvalidState, "decode", "JpegDecoder used after move");
  impl_->Renew();  // no tables left from an earlier frame
  const JpegHeader h = ReadHeader(data, size);
  const JpegScale display_scale = spec ? ChooseScale(h.display_width, h.display_height, *spec)
                                       : JpegScale{1, h.display_width, h.display_height};
  const int denom = display_scale.denom;
  const int sw = Scaled(h.width, denom), sh = Scaled(h.height, denom);  // decoded, stored orientation
  const int flags = TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS | (options_.keep_damaged ? 0 : TJFLAG_STOPONWARNING);
  tjhandle tj = impl_->Handle();
  bool concealed = false;
  // rc 0: fine; -1 with TJERR_WARNING (only without STOPONWARNING): a complete picture with concealed damage.
  auto check = [&](int rc, const char* when) {
    if (rc == 0) return;
    if (options_.keep_damaged && tjGetErrorCode(tj) == TJERR_WARNING) {
      concealed = true;
      return;
    }
    out->Clear();
    impl_->Throw(data, size, when);
  };

  const bool yuv = options_.output == JpegOutput::kAuto && h.subsampling == TJSAMP_420 &&
                   h.colorspace == TJCS_YCbCr && h.orientation == 1;
  if (yuv) {
    const int cw = tjPlaneWidth(1, sw, TJSAMP_420), ch = tjPlaneHeight(1, sh, TJSAMP_420);
    const size_t ys = AlignUp(static_cast<size_t>(sw), kRowAlign), cs = AlignUp(static_cast<size_t>(cw), kRowAlign);
    const size_t y_bytes = AlignUp(ys * sh, 64), c_bytes = AlignUp(cs * ch, 64);
    uint8_t* base = out->Reserve(y_bytes + 2 * c_bytes);
    unsigned char* planes[3] = {base, base + y_bytes, base + y_bytes + c_bytes};
    int strides[3] = {static_cast<int>(ys), static_cast<int>(cs), static_cast<int>(cs)};
    check(tjDecompressToYUVPlanes(tj, data, static_cast<unsigned long>(size), planes, sw, strides, sh, flags),
          "decode");
    AVFrame* f = out->mutable_frame();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = sw;
    f->height = sh;
    for (int i = 0; i < 3; ++i) {
      f->data[i] = planes[i];
      f->linesize[i] = strides[i];
    }
    // JFIF: full-range BT.601 YCbCr, chroma sited at the centre of each 2×2 block (what CpuLetterboxer assumes).
    f->color_range = AVCOL_RANGE_JPEG;
    f->colorspace = AVCOL_SPC_BT470BG;
    f->chroma_location = AVCHROMA_LOC_CENTER;
  } else {
    const bool turn = h.orientation != 1;
    const int dw = turn && OrientationSwapsAxes(h.orientation) ? sh : sw;  // upright picture size
    const int dh = turn && OrientationSwapsAxes(h.orientation) ? sw : sh;
    const size_t out_pitch = AlignUp(static_cast<size_t>(dw) * 3, kRowAlign);
    uint8_t* dst = out->Reserve(out_pitch * dh);
    const size_t dec_pitch = AlignUp(static_cast<size_t>(sw) * 3, kRowAlign);
    uint8_t* dec = turn ? impl_->Scratch(dec_pitch * sh) : dst;
    check(tjDecompress2(tj, data, static_cast<unsigned long>(size), dec, sw, static_cast<int>(dec_pitch), sh, TJPF_RGB,
                        flags),
          "decode");
    if (turn) OrientPixels(dec, static_cast<ptrdiff_t>(dec_pitch), sw, sh, 3, h.orientation, dst,
                           static_cast<ptrdiff_t>(out_pitch));
    AVFrame* f = out->mutable_frame();
    f->format = AV_PIX_FMT_RGB24;
    f->width = dw;
    f->height = dh;
    f->data[0] = dst;
    f->linesize[0] = static_cast<int>(out_pitch);
    f->color_range = AVCOL_RANGE_JPEG;
    f->colorspace = AVCOL_SPC_RGB;
  }
  PictureInfo* info = out->mutable_info();
  info->source_width = h.display_width;
  info->source_height = h.display_height;
  info->scale_denom = denom;
  info->orientation = h.orientation;
  info->concealed = concealed;
}

}  // namespace camtrack::decode
