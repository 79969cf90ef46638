#include "decode/png_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
}

#include <cstdio>
#include <cstring>
#include <string>

#include "common/error.h"

namespace camtrack::decode {
namespace {

uint32_t Be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

std::string Mp(int64_t pixels) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MP", static_cast<double>(pixels) / 1e6);
  return buf;
}

std::string AvErr(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

}  // namespace

PngHeader ReadPngHeader(const uint8_t* data, size_t size, int64_t max_pixels) {
  if (!data || size == 0)
    throw FrameError(FrameFault::kEmpty, "empty PNG frame (0 bytes)", "push the bytes of one complete PNG per frame");
  const SniffedCodec sniffed = SniffCodec(data, size);
  if (sniffed == SniffedCodec::kJpeg || sniffed == SniffedCodec::kAnnexB)
    throw FrameError(FrameFault::kWrongCodec, std::string(SniffedCodecName(sniffed)) + " data where PNG was declared",
                     "declare the stream's codec as the one its frames are in");
  if (sniffed != SniffedCodec::kPng) {
    // A short prefix of the signature is a truncated PNG rather than something else.
    static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (size < 8 && std::memcmp(data, kSig, size) == 0)
      throw FrameError(FrameFault::kTruncated, "truncated PNG: " + std::to_string(size) + " bytes",
                       "push one complete PNG per frame");
    throw FrameError(FrameFault::kCorrupt, "not a PNG: the frame does not start with the PNG signature",
                     "push one complete PNG per frame");
  }
  // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
  if (size < 8 + 25)
    throw FrameError(FrameFault::kTruncated, "truncated PNG: " + std::to_string(size) + " bytes, no complete IHDR",
                     "push one complete PNG per frame");
  const uint8_t* ihdr = data + 8;
  if (Be32(ihdr) != 13 || std::memcmp(ihdr + 4, "IHDR", 4) != 0)
    throw FrameError(FrameFault::kCorrupt, "corrupt PNG: the first chunk is not a 13-byte IHDR");
  PngHeader h;
  const uint32_t w = Be32(ihdr + 8), ht = Be32(ihdr + 12);
  if (w == 0 || ht == 0 || w > 0x7fffffffu || ht > 0x7fffffffu)
    throw FrameError(FrameFault::kCorrupt,
                     "corrupt PNG: IHDR size " + std::to_string(w) + "x" + std::to_string(ht));
  const int64_t pixels = static_cast<int64_t>(w) * static_cast<int64_t>(ht);
  if (pixels > max_pixels)
    throw FrameError(FrameFault::kTooLarge,
                     "PNG frame is " + std::to_string(w) + "x" + std::to_string(ht) + " (" + Mp(pixels) +
                         "), over the limit of " + Mp(max_pixels) + " (" + std::to_string(max_pixels) + " pixels)",
                     "raise the stream's pixel limit or send smaller frames");
  h.width = static_cast<int>(w);
  h.height = static_cast<int>(ht);
  h.bit_depth = ihdr[16];
  h.color_type = ihdr[17];
  // Chunk walk: each chunk is length (4) + type (4) + data (length) + CRC (4), all inside the frame, up to IEND.
  size_t pos = 8;
  for (;;) {
    if (size - pos < 12)
      throw FrameError(FrameFault::kTruncated,
                       "truncated PNG: the data ends at byte " + std::to_string(size) + " before IEND",
                       "push one complete PNG per frame");
    const uint32_t length = Be32(data + pos);
    if (length > 0x7fffffffu)
      throw FrameError(FrameFault::kCorrupt, "corrupt PNG: chunk length " + std::to_string(length));
    if (static_cast<size_t>(length) > size - pos - 12)
      throw FrameError(FrameFault::kTruncated,
                       "truncated PNG: a " + std::to_string(length) + "-byte chunk at byte " + std::to_string(pos) +
                           " runs past the end (" + std::to_string(size) + " bytes)",
                       "push one complete PNG per frame");
    const bool iend = std::memcmp(data + pos + 4, "IEND", 4) == 0;
    pos += 12 + static_cast<size_t>(length);
    if (iend) break;
  }
  return h;
}

PngDecoder::PngDecoder(PngDecoderOptions options) : options_(options) {
  if (options_.max_pixels <= 0)
    throw Error(ErrorCode::kInvalidArgument, "decode",
                "PNG max_pixels must be positive, got " + std::to_string(options_.max_pixels));
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_PNG);
  if (!codec)
    throw Error(ErrorCode::kUnsupported, "decode", "this FFmpeg has no PNG decoder",
                "use an FFmpeg build with the png decoder (Debian's libavcodec has it)");
  dec_ = avcodec_alloc_context3(codec);
  pkt_ = av_packet_alloc();
  if (!dec_ || !pkt_) {
    avcodec_free_context(&dec_);
    av_packet_free(&pkt_);
    throw Error(ErrorCode::kInternal, "decode", "out of memory opening the PNG decoder");
  }
  dec_->thread_count = 1;  // one picture in, the same picture out: no frame-thread delay
  dec_->err_recognition = AV_EF_CRCCHECK | AV_EF_EXPLODE;
  dec_->max_pixels = options_.max_pixels;  // second line of defence behind ReadPngHeader
  const int err = avcodec_open2(dec_, codec, nullptr);
  if (err < 0) {
    avcodec_free_context(&dec_);
    av_packet_free(&pkt_);
    throw Error(ErrorCode::kDecode, "decode", "cannot open the PNG decoder: " + AvErr(err), {}, err);
  }
}

PngDecoder::~PngDecoder() {
  av_packet_free(&pkt_);
  avcodec_free_context(&dec_);
}

void PngDecoder::Decode(const uint8_t* data, size_t size, PictureBuffer* out) {
  if (!out) throw Error(ErrorCode::kInvalidArgument, "decode", "PngDecoder::Decode: null PictureBuffer");
  out->Clear();
  const PngHeader h = ReadPngHeader(data, size, options_.max_pixels);
  bytes_.Ref(pkt_, bytes_.Fill(data, size), size);
  int err = avcodec_send_packet(dec_, pkt_);
  av_packet_unref(pkt_);
  if (err >= 0) err = avcodec_receive_frame(dec_, out->mutable_frame());
  if (err < 0) {
    out->Clear();
    avcodec_flush_buffers(dec_);  // nothing of this frame may linger into the next
    if (err == AVERROR(ENOMEM)) throw Error(ErrorCode::kInternal, "decode", "out of memory decoding a PNG", {}, err);
    const std::string why = err == AVERROR(EAGAIN) ? std::string("no picture came out") : "libavcodec: " + AvErr(err);
    throw FrameError(FrameFault::kCorrupt,
                     "corrupt PNG (" + std::to_string(h.width) + "x" + std::to_string(h.height) + "): " + why,
                     "the frame's bytes are damaged; check the sender", err);
  }
  const AVFrame& f = out->frame();
  if (f.width != h.width || f.height != h.height) {
    const std::string got = std::to_string(f.width) + "x" + std::to_string(f.height);
    out->Clear();
    throw FrameError(FrameFault::kCorrupt, "corrupt PNG: IHDR says " + std::to_string(h.width) + "x" +
                                               std::to_string(h.height) + ", the decoder made " + got);
  }
  PictureInfo* info = out->mutable_info();
  info->source_width = h.width;
  info->source_height = h.height;
}

}  // namespace camtrack::decode
