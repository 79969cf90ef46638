#include "core/decode/cpu_decoder.h"

#include "core/decode/demuxer.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
}

namespace camtrack::decode {

CpuDecoder::CpuDecoder(Demuxer& demux, int threads) : demux_(demux) {
  AVStream* st = demux_.stream();
  const AVCodec* codec = st ? avcodec_find_decoder(st->codecpar->codec_id) : nullptr;
  if (!codec)
    demux_.Fail(ErrorCode::kDecode, AVERROR_DECODER_NOT_FOUND, "cannot open decoder for",
                "unsupported codec or profile", "decoder");
  dec_ = avcodec_alloc_context3(codec);
  avcodec_parameters_to_context(dec_, st->codecpar);
  dec_->thread_count = threads > 0 ? threads : 1;
  // AV_CODEC_FLAG_LOW_DELAY is not set: on streams with B-frames it would emit frames out of display order.
  const int err = avcodec_open2(dec_, codec, nullptr);
  if (err < 0) {
    avcodec_free_context(&dec_);
    demux_.Fail(ErrorCode::kDecode, err, "cannot open decoder for", "unsupported codec or profile", "decoder");
  }
  frame_ = av_frame_alloc();
}

CpuDecoder::~CpuDecoder() {
  if (dec_) avcodec_free_context(&dec_);
  if (frame_) av_frame_free(&frame_);
}

bool CpuDecoder::Rewind() {
  if (!demux_.RewindForLoop()) return false;
  avcodec_flush_buffers(dec_);
  draining_ = false;
  return true;
}

bool CpuDecoder::NextFrame(AVFrame** out) {
  for (;;) {
    const int64_t stall_ns = demux_.CheckInterruptAndStall();
    int err = avcodec_receive_frame(dec_, frame_);
    if (err == 0) {
      if (frame_->decode_error_flags || (frame_->flags & AV_FRAME_FLAG_CORRUPT)) demux_.CountCorrupt(1);
      demux_.StampFrame(frame_->best_effort_timestamp);
      *out = frame_;
      return true;
    }
    if (err == AVERROR_EOF) {
      if (Rewind()) continue;
      return false;
    }
    if (err != AVERROR(EAGAIN)) {
      // A hard decoder error: count it and keep going from the next packet (the decoder resynchronises at the
      // next keyframe by itself).
      demux_.CountCorrupt(1);
    }
    if (draining_) {
      // EAGAIN while draining cannot happen; treat as end.
      if (Rewind()) continue;
      return false;
    }
    if (!demux_.ReadPacket(stall_ns)) {
      draining_ = true;
      avcodec_send_packet(dec_, nullptr);
      continue;
    }
    if (!demux_.AcceptPacket()) continue;
    AVPacket* pkt = demux_.packet();
    err = avcodec_send_packet(dec_, pkt);
    if (err < 0 && err != AVERROR(EAGAIN)) demux_.CountCorrupt(1);
    av_packet_unref(pkt);
  }
}

int CpuDecoder::width() const noexcept { return dec_->width; }
int CpuDecoder::height() const noexcept { return dec_->height; }
const char* CpuDecoder::codec_name() const noexcept { return dec_->codec ? dec_->codec->name : ""; }

}  // namespace camtrack::decode
