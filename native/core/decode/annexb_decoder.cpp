#include "decode/annexb_decoder.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
}

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#include "common/error.h"
#include "decode/annexb_reader.h"
#include "decode/packet_buffer.h"

namespace camtrack::decode {
namespace {

std::string AvErr(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

std::string Mp(int64_t pixels) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MP", static_cast<double>(pixels) / 1e6);
  return buf;
}

const char* CodecName(VideoCodec c) { return c == VideoCodec::kHevc ? "HEVC" : "H.264"; }

// What the NAL unit types of one access unit say.
struct AuNals {
  bool has_picture = false;  // a VCL NAL unit
  bool irap = false;         // H.264 IDR slice (type 5); HEVC IRAP slice (BLA/IDR/CRA, types 16..23)
};
AuNals ScanNals(const uint8_t* au, size_t size, bool hevc) {
  AuNals r;
  AnnexBSplitter split(au, size, hevc);
  AnnexBNal nal;
  while (split.NextNal(&nal)) {
    if (!split.IsVcl(nal)) continue;
    r.has_picture = true;
    if (hevc ? (nal.type >= 16 && nal.type <= 23) : nal.type == 5) r.irap = true;
  }
  return r;
}

// A FIFO of decoded frames waiting for Receive() (frames libavcodec handed out while the caller was pushing:
// send_packet's EAGAIN, drains). The AVFrame shells are reused; it grows only past its largest backlog so far.
class FrameQueue {
 public:
  ~FrameQueue() {
    for (AVFrame*& f : slots_) av_frame_free(&f);
  }
  bool empty() const { return count_ == 0; }
  // Moves `f`'s picture in (f is left empty).
  void Push(AVFrame* f) {
    if (count_ == slots_.size()) {  // full: put the entries in FIFO order from index 0, then add a shell at the end
      std::rotate(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(head_), slots_.end());
      head_ = 0;
      AVFrame* shell = av_frame_alloc();
      if (!shell) throw Error(ErrorCode::kInternal, "decode", "out of memory queueing a decoded picture");
      slots_.push_back(shell);
    }
    av_frame_move_ref(slots_[(head_ + count_) % slots_.size()], f);
    ++count_;
  }
  // Moves the oldest picture into `out` (unreferenced first).
  void Pop(AVFrame* out) {
    av_frame_unref(out);
    av_frame_move_ref(out, slots_[head_]);
    head_ = (head_ + 1) % slots_.size();
    --count_;
  }

 private:
  std::vector<AVFrame*> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace

struct AnnexBDecoder::Impl {
  AnnexBDecoderOptions o;
  const AVCodec* codec = nullptr;
  AVCodecContext* dec = nullptr;
  AVCodecContext* pctx = nullptr;  // the parser's own context: av_parser_parse2 writes into the one it is given
  AVCodecParserContext* parser = nullptr;
  AVPacket* pkt = nullptr;
  AVFrame* tmp = nullptr;
  PacketBuffer chunk;  // the pushed chunk, padded (kAccessUnits: packets are references into it)
  PacketBuffer au;     // kByteStream: one reassembled access unit (the parser's output is not reference-counted)
  FrameQueue ready;
  bool waiting_first = true;  // no keyframe yet
  bool waiting_drop = false;  // DropUntilKeyframe()/Flush(): skip to the next keyframe

  explicit Impl(const AnnexBDecoderOptions& options) : o(options) {}
  ~Impl() {
    av_frame_free(&tmp);
    av_packet_free(&pkt);
    if (parser) av_parser_close(parser);
    avcodec_free_context(&pctx);
    avcodec_free_context(&dec);
  }

  bool hevc() const { return o.codec == VideoCodec::kHevc; }

  void OpenParser() {
    if (parser) av_parser_close(parser);
    parser = av_parser_init(codec->id);
    if (!parser)
      throw Error(ErrorCode::kUnsupported, "decode",
                  std::string("this FFmpeg has no ") + CodecName(o.codec) + " parser");
    if (o.input == AnnexBInput::kAccessUnits) parser->flags |= PARSER_FLAG_COMPLETE_FRAMES;
  }

  void Reject(std::vector<FrameError>* errors, FrameFault fault, std::string message, std::string hint, int64_t tag,
              long long native = 0) {
    if (errors) errors->emplace_back(fault, std::move(message), std::move(hint), native, tag);
  }

  // Sends the packet in `pkt`; on EAGAIN (the decoder's output is full: frame threads) moves decoded pictures to
  // `ready` and retries. A decode error is this access unit's.
  void Send(int64_t tag, std::vector<FrameError>* errors) {
    for (;;) {
      const int err = avcodec_send_packet(dec, pkt);
      if (err >= 0) break;
      if (err == AVERROR(EAGAIN)) {
        if (!Collect(errors)) {
          av_packet_unref(pkt);
          Reject(errors, FrameFault::kCorrupt,
                 std::string(CodecName(o.codec)) + " decoder is stuck (EAGAIN, no output)", {}, tag, err);
          return;
        }
        continue;
      }
      av_packet_unref(pkt);
      if (err == AVERROR(ENOMEM)) throw Error(ErrorCode::kInternal, "decode", "out of memory decoding video", {}, err);
      Reject(errors, FrameFault::kCorrupt,
             std::string("corrupt ") + CodecName(o.codec) + " access unit: libavcodec: " + AvErr(err),
             "the frame's bytes are damaged; check the sender", tag, err);
      return;
    }
    av_packet_unref(pkt);
  }

  // Moves every picture the decoder has ready into `ready`. True when it moved at least one.
  bool Collect(std::vector<FrameError>* errors) {
    bool any = false;
    for (;;) {
      const int err = avcodec_receive_frame(dec, tmp);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return any;
      if (err < 0) {
        Reject(errors, FrameFault::kCorrupt,
               std::string(CodecName(o.codec)) + " decode failed: libavcodec: " + AvErr(err),
               "the stream's bytes are damaged; check the sender", -1, err);
        return any;
      }
      ready.Push(tmp);
      any = true;
    }
  }

  // One complete access unit `data[0, size)`, tagged `tag`. `in_chunk`: it lies inside the padded `chunk` copy (a
  // packet can reference it); otherwise it is copied into `au` first.
  void HandleAccessUnit(const uint8_t* data, size_t size, int64_t tag, bool in_chunk, std::vector<FrameError>* errors) {
    if (size == 0) return;
    // Headers through the parser (complete-frames mode: it returns the input as it is) for the picture size and
    // its own keyframe verdict (covers H.264 recovery-point SEI, which the NAL types alone do not show).
    int key_from_parser = 0;
    int64_t pixels = 0;
    int pw = 0, ph = 0;
    if (in_chunk) {
      uint8_t* out = nullptr;
      int out_size = 0;
      parser->key_frame = -1;
      av_parser_parse2(parser, pctx, &out, &out_size, data, static_cast<int>(size), tag, tag, 0);
      key_from_parser = parser->key_frame;
    } else {
      key_from_parser = parser->key_frame;  // kByteStream: set by the parse call that produced this access unit
    }
    pw = parser->width;  // the picture's size (cropped), as the limit is stated for JPEG and PNG
    ph = parser->height;
    if (pw > 0 && ph > 0) pixels = static_cast<int64_t>(pw) * ph;
    const AuNals nals = ScanNals(data, size, hevc());
    if (pixels > o.max_pixels) {
      Reject(errors, FrameFault::kTooLarge,
             std::string(CodecName(o.codec)) + " picture is " + std::to_string(pw) + "x" + std::to_string(ph) + " (" +
                 Mp(pixels) + "), over the limit of " + Mp(o.max_pixels) + " (" + std::to_string(o.max_pixels) +
                 " pixels)",
             "raise the stream's pixel limit or send smaller frames", tag);
      return;
    }
    if (nals.has_picture) {
      const bool key = nals.irap || (!hevc() && key_from_parser == 1);
      if (key) {
        waiting_first = false;
        waiting_drop = false;
      } else if (waiting_first) {
        Reject(errors, FrameFault::kNoKeyframe,
               std::string(CodecName(o.codec)) + " picture before the stream's first keyframe: not decodable, dropped",
               "start the stream at a keyframe (IDR), or ask the encoder for one (shorter GOP)", tag);
        return;
      } else if (waiting_drop) {
        Reject(errors, FrameFault::kUntilKeyframe,
               std::string(CodecName(o.codec)) + " picture dropped until the next keyframe", {}, tag);
        return;
      }
    }
    if (in_chunk) {
      chunk.Ref(pkt, data, size);
    } else {
      au.Ref(pkt, au.Fill(data, size), size);
    }
    pkt->pts = tag;
    pkt->dts = AV_NOPTS_VALUE;
    Send(tag, errors);
  }

  // End of input for the decoder: every picture inside it into `ready`, then a reset so that it takes packets again.
  void Drain(std::vector<FrameError>* errors) {
    if (avcodec_send_packet(dec, nullptr) >= 0) Collect(errors);
    avcodec_flush_buffers(dec);
  }
};

AnnexBDecoder::AnnexBDecoder(AnnexBDecoderOptions options) : options_(options) {
  if (options_.max_pixels <= 0)
    throw Error(ErrorCode::kInvalidArgument, "decode",
                "video max_pixels must be positive, got " + std::to_string(options_.max_pixels));
  if (options_.threads < 1)
    throw Error(ErrorCode::kInvalidArgument, "decode",
                "video decoder threads must be >= 1, got " + std::to_string(options_.threads));
  auto impl = std::make_unique<Impl>(options_);
  const AVCodecID id = options_.codec == VideoCodec::kHevc ? AV_CODEC_ID_HEVC : AV_CODEC_ID_H264;
  impl->codec = avcodec_find_decoder(id);
  if (!impl->codec)
    throw Error(ErrorCode::kUnsupported, "decode",
                std::string("this FFmpeg has no ") + CodecName(options_.codec) + " decoder");
  impl->dec = avcodec_alloc_context3(impl->codec);
  impl->pctx = avcodec_alloc_context3(impl->codec);
  impl->pkt = av_packet_alloc();
  impl->tmp = av_frame_alloc();
  if (!impl->dec || !impl->pctx || !impl->pkt || !impl->tmp)
    throw Error(ErrorCode::kInternal, "decode", "out of memory opening the video decoder");
  impl->dec->thread_count = options_.threads;
  impl->dec->max_pixels = options_.max_pixels;  // behind the parser's check: libavcodec refuses larger pictures
  const int err = avcodec_open2(impl->dec, impl->codec, nullptr);
  if (err < 0)
    throw Error(ErrorCode::kDecode, "decode",
                std::string("cannot open the ") + CodecName(options_.codec) + " decoder: " + AvErr(err), {}, err);
  impl->OpenParser();
  impl_ = std::move(impl);
}

AnnexBDecoder::~AnnexBDecoder() = default;

bool AnnexBDecoder::waiting_for_keyframe() const noexcept {
  return impl_ && (impl_->waiting_first || impl_->waiting_drop);
}

void AnnexBDecoder::Push(const uint8_t* data, size_t size, int64_t tag, std::vector<FrameError>* errors) {
  Impl& m = *impl_;
  const char* codec = CodecName(options_.codec);
  if (!data || size == 0) {
    m.Reject(errors, FrameFault::kEmpty, std::string("empty ") + codec + " chunk (0 bytes)",
             "push at least one access unit per chunk", tag);
    return;
  }
  if (options_.input == AnnexBInput::kAccessUnits) {
    const SniffedCodec sniffed = SniffCodec(data, size);
    if (sniffed == SniffedCodec::kJpeg || sniffed == SniffedCodec::kPng) {
      m.Reject(errors, FrameFault::kWrongCodec,
               std::string(SniffedCodecName(sniffed)) + " data where " + codec + " was declared",
               "declare the stream's codec as the one its frames are in", tag);
      return;
    }
    if (sniffed != SniffedCodec::kAnnexB) {
      m.Reject(errors, FrameFault::kCorrupt,
               std::string("not Annex-B ") + codec + ": the chunk does not start with a start code (00 00 01)",
               "push access units in Annex-B form (ffmpeg -bsf:v h264_mp4toannexb / hevc_mp4toannexb)", tag);
      return;
    }
    const uint8_t* copy = m.chunk.Fill(data, size);
    AnnexBSplitter split(copy, size, m.hevc());
    const uint8_t* au = nullptr;
    size_t au_size = 0;
    while (split.NextAccessUnit(&au, &au_size)) m.HandleAccessUnit(au, au_size, tag, true, errors);
    return;
  }
  // kByteStream: the parser reassembles access units across chunks; parser->pts is the tag of the chunk the
  // access unit began in.
  const uint8_t* p = m.chunk.Fill(data, size);
  size_t left = size;
  while (left > 0) {
    uint8_t* out = nullptr;
    int out_size = 0;
    const int used = av_parser_parse2(m.parser, m.pctx, &out, &out_size, p, static_cast<int>(left), tag, tag, 0);
    if (used < 0) {
      m.Reject(errors, FrameFault::kCorrupt, std::string(codec) + " parser failed: " + AvErr(used), {}, tag, used);
      return;
    }
    p += used;
    left -= static_cast<size_t>(used);
    if (out_size > 0) {
      const int64_t au_tag = m.parser->pts != AV_NOPTS_VALUE ? m.parser->pts : tag;
      m.HandleAccessUnit(out, static_cast<size_t>(out_size), au_tag, false, errors);
    }
    if (used == 0 && out_size == 0) break;  // no progress (cannot happen with a non-empty input; be safe)
  }
}

bool AnnexBDecoder::Receive(PictureBuffer* out, std::vector<FrameError>* errors) {
  if (!out) throw Error(ErrorCode::kInvalidArgument, "decode", "AnnexBDecoder::Receive: null PictureBuffer");
  Impl& m = *impl_;
  for (;;) {
    AVFrame* f = out->mutable_frame();
    out->Clear();
    if (!m.ready.empty()) {
      m.ready.Pop(f);
    } else {
      const int err = avcodec_receive_frame(m.dec, f);
      if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) return false;
      if (err < 0) {
        m.Reject(errors, FrameFault::kCorrupt,
                 std::string(CodecName(options_.codec)) + " decode failed: libavcodec: " + AvErr(err),
                 "the stream's bytes are damaged; check the sender", -1, err);
        continue;
      }
    }
    const int64_t tag = f->pts != AV_NOPTS_VALUE ? f->pts : -1;
    const bool damaged = f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT) != 0;
    const int64_t pixels = static_cast<int64_t>(f->width) * f->height;
    if (pixels > options_.max_pixels || f->width <= 0 || f->height <= 0) {
      const std::string size = std::to_string(f->width) + "x" + std::to_string(f->height);
      out->Clear();
      m.Reject(errors, FrameFault::kTooLarge, std::string(CodecName(options_.codec)) + " picture is " + size,
               "raise the stream's pixel limit or send smaller frames", tag);
      continue;
    }
    if (damaged && !options_.keep_damaged) {
      out->Clear();
      m.Reject(errors, FrameFault::kCorrupt,
               std::string(CodecName(options_.codec)) + " picture decoded with errors (concealed), dropped",
               "the stream's bytes are damaged or incomplete; check the sender", tag);
      continue;
    }
    PictureInfo* info = out->mutable_info();
    info->source_width = f->width;
    info->source_height = f->height;
    info->tag = tag;
    info->concealed = damaged;
    return true;
  }
}

void AnnexBDecoder::DropUntilKeyframe(std::vector<FrameError>* errors) {
  Impl& m = *impl_;
  m.Drain(errors);
  if (options_.input == AnnexBInput::kByteStream) m.OpenParser();  // its partial access unit is not continued
  if (!m.waiting_first) m.waiting_drop = true;
}

void AnnexBDecoder::Flush(std::vector<FrameError>* errors) {
  Impl& m = *impl_;
  if (options_.input == AnnexBInput::kByteStream) {
    uint8_t* out = nullptr;
    int out_size = 0;
    av_parser_parse2(m.parser, m.pctx, &out, &out_size, nullptr, 0, AV_NOPTS_VALUE, AV_NOPTS_VALUE, 0);
    if (out_size > 0) {
      const int64_t au_tag = m.parser->pts != AV_NOPTS_VALUE ? m.parser->pts : -1;
      m.HandleAccessUnit(out, static_cast<size_t>(out_size), au_tag, false, errors);
    }
    m.OpenParser();
  }
  m.Drain(errors);
  if (!m.waiting_first) m.waiting_drop = true;
}

}  // namespace camtrack::decode
